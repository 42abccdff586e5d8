import NN
import TensorCore

/// Recurrent (streaming) inference, spec §1.9: a user's state is, per layer, the last K−1 projected main-branch
/// vectors and h; one new item updates it in O(1) (independent of the history length) and gives the same
/// representation the parallel forward computes at that position.
extension RecBLR: StreamingRecommender {
  public struct StreamingState: Codable, Sendable, Equatable {
    public var layers: [GatedRecurrentLayer.State]
    /// The representation after the last item (zeros before the first).
    public var output: [Float]
    public var itemCount: Int { layers.first?.position ?? 0 }
  }

  /// The state before any item: every layer after its P padded steps.
  public func initialStreamingState() -> StreamingState {
    StreamingState(
      layers: blocks.map { $0.recurrent.initialState() },
      output: [Float](repeating: 0, count: config.hiddenSize))
  }

  /// Consumes one item (eval mode); `state.output` becomes the user's representation s.
  public func step(item: Int32, state: inout StreamingState) {
    precondition(item > 0 && Int(item) < itemCount, "item id \(item) is outside 1..<\(itemCount)")
    let d = config.hiddenSize
    var rng = SeededRNG(seed: 0)
    let embedded = Tensor(zeros: [1, d])
    embedded.ptr.update(from: itemEmbedding.weight.value.ptr + Int(item) * d, count: d)
    var (x, _) = embeddingNorm.forward(embedded)
    for (i, block) in blocks.enumerated() {
      let g = block.recurrent.step(x.array, state: &state.layers[i])
      let sum = Tensor(shape: [1, d], values: g)
      ElementwiseKernels.add(sum.ptr, sum.ptr, x.ptr, count: d)
      let (y, _) = block.layerNorm.forward(sum)
      (x, _) = block.feedForward.forward(y, training: false, rng: &rng)
    }
    state.output = x.array
  }

  /// Scores of every item id for a streaming state (one matrix-vector product over the item table).
  public func scores(state: StreamingState, into scores: UnsafeMutablePointer<Float>) {
    state.output.withUnsafeBufferPointer { s in
      BLAS.gemv(
        trans: false, m: itemCount, n: config.hiddenSize, a: itemEmbedding.weight.value.ptr, lda: config.hiddenSize,
        x: s.baseAddress!, y: scores)
    }
  }
}
