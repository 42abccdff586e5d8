import NN
import TensorCore

/// Recurrent (streaming) inference, spec §1.9: a user's state is, per layer, the last K−1 projected main-branch
/// vectors and h; one new item updates it in O(1) (independent of the history length) and gives the same
/// representation the parallel forward computes at that position.
extension RecBLR {
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

extension RecBLR: StreamingRecommender {
  /// Flat layout: per layer [convHistory | recurrentState], then the output vector.
  public func initialStreamState() -> StreamState { flatten(initialStreamingState()) }

  public func advance(_ state: inout StreamState, item: Int32) {
    var typed = unflatten(state)
    step(item: item, state: &typed)
    state = flatten(typed)
  }

  public func scores(_ state: StreamState, into scores: UnsafeMutablePointer<Float>) {
    self.scores(state: unflatten(state), into: scores)
  }

  func flatten(_ s: StreamingState) -> StreamState {
    var values: [Float] = []
    for layer in s.layers { values += layer.convHistory + layer.recurrentState }
    return StreamState(values: values + s.output, itemCount: s.itemCount)
  }

  func unflatten(_ s: StreamState) -> StreamingState {
    let (c, h) = ((config.convWidth - 1) * config.stateSize, config.stateSize)
    precondition(
      s.values.count == blocks.count * (c + h) + config.hiddenSize,
      "stream state of \(s.values.count) values does not belong to this model")
    var layers: [GatedRecurrentLayer.State] = []
    s.values.withUnsafeBufferPointer { v in
      for i in 0..<blocks.count {
        let offset = i * (c + h)
        layers.append(
          GatedRecurrentLayer.State.restored(
            convHistory: Array(v[offset..<offset + c]), recurrentState: Array(v[offset + c..<offset + c + h]),
            position: s.itemCount))
      }
    }
    return StreamingState(layers: layers, output: Array(s.values[(blocks.count * (c + h))...]))
  }
}
