import NN
import TensorCore

/// Recurrent (streaming) inference for the causal variant: a user's state is the attention's per-head d_h × d_h
/// sums, the last K−1 inputs of both convolutions and the GRU's h. One new item updates it in O(1) (independent of
/// the history length) and gives the representation the parallel forward computes at that position.
extension GLINTRUCausal {
  public struct StreamingState: Codable, Sendable, Equatable {
    /// Σ_s k̂_s v_sᵀ per head, [H·d_h·d_h].
    public var attention: [Float]
    public var recurrent: SelectiveGRUExpert.StreamingState
    /// The representation after the last item (zeros before the first).
    public var output: [Float]
    /// Items consumed so far.
    public var itemCount: Int
  }

  /// The state before any item.
  public func initialStreamingState() -> StreamingState {
    StreamingState(
      attention: [Float](repeating: 0, count: config.hiddenSize * config.headSize),
      recurrent: network.recurrent.initialStreamingState(),
      output: [Float](repeating: 0, count: config.hiddenSize), itemCount: 0)
  }

  /// Consumes one item (eval mode); `state.output` becomes the user's representation.
  public func step(item: Int32, state: inout StreamingState) {
    precondition(item > 0 && Int(item) < itemCount, "item id \(item) is outside 1..<\(itemCount)")
    let x = network.itemEmbedding.forward([item])
    let a = network.attention.step(x, state: &state.attention)
    let y = network.recurrent.step(x, state: &state.recurrent)
    let (r, _) = network.output.forward(
      x: x, recurrent: y, attention: a, tokens: [TokenPosition(row: 0, position: state.itemCount)], seed: 0,
      training: false)
    state.output = r.array
    state.itemCount += 1
  }

  /// Scores of every item id for a streaming state (one matrix-vector product over the item table).
  public func scores(state: StreamingState, into scores: UnsafeMutablePointer<Float>) {
    state.output.withUnsafeBufferPointer { s in
      BLAS.gemv(
        trans: false, m: itemCount, n: config.hiddenSize, a: network.itemEmbedding.weight.value.ptr,
        lda: config.hiddenSize, x: s.baseAddress!, y: scores)
    }
  }
}
