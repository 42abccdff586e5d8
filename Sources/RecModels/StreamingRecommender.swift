/// A user's recurrent state as a flat vector (its layout is the model's business), so servers can store it as
/// one blob and models without a streaming form are easy to tell apart.
public struct StreamState: Codable, Sendable, Equatable {
  public var values: [Float]
  /// Items consumed so far.
  public var itemCount: Int

  public init(values: [Float], itemCount: Int) {
    self.values = values
    self.itemCount = itemCount
  }
}

/// A model with an O(1)-per-event recurrent form: the state after a history gives the same scores as the parallel
/// forward over that history (up to float rounding).
public protocol StreamingRecommender: SequentialRecommender {
  /// The state before any item.
  func initialStreamState() -> StreamState
  /// Consumes one item (internal id ≥ 1).
  func advance(_ state: inout StreamState, item: Int32)
  /// Scores of every item id (B = 1 row of `itemCount`) for the state.
  func scores(_ state: StreamState, into scores: UnsafeMutablePointer<Float>)
}

extension StreamingRecommender {
  /// The state after consuming `items` in order.
  public func streamState(after items: [Int32]) -> StreamState {
    var state = initialStreamState()
    for item in items { advance(&state, item: item) }
    return state
  }
}
