import Foundation
import RecData
import RecEval
import RecModels
import RecTrain

/// A checkpoint loaded once for serving and shared read-only by every request: the model, raw ↔ internal item
/// ids, and the fingerprint that tags every stored user state.
///
/// `@unchecked Sendable`: after `init` nothing here is mutated. The models' inference paths (streaming `advance`,
/// `scores`) read parameters and allocate their own buffers, so concurrent calls are safe.
public final class ServedModel: @unchecked Sendable {
  public let checkpoint: Checkpoint
  /// Changes whenever the weights or the checkpoint metadata change: a stored state with another tag was computed
  /// by another model and is rebuilt from the event log.
  public let fingerprint: String
  public let itemCount: Int
  public let maxLength: Int
  private let model: any SequentialRecommender
  private let streaming: (any StreamingRecommender)?
  private let initialStream: StreamState?
  private let itemIndex: [String: Int32]

  /// Loads the checkpoint (run directory or checkpoint directory) at `directory`.
  public convenience init(directory: URL) throws {
    let checkpoint = try Checkpoint.read(from: directory)
    let model = try checkpoint.loadModel(from: directory)
    var hash: UInt64 = 0
    for file in [Checkpoint.weightsFile, Checkpoint.metadataFile] {
      let bytes = try Data(contentsOf: directory.appendingPathComponent(file), options: .mappedIfSafe)
      hash = (hash &* 0x0000_0100_0000_01B3) ^ bytes.withUnsafeBytes { StableHash.content($0) }
    }
    self.init(checkpoint: checkpoint, model: model, fingerprint: "\(checkpoint.model.name)-\(StableHash.hex(hash))")
  }

  public init(checkpoint: Checkpoint, model: any SequentialRecommender, fingerprint: String) {
    self.checkpoint = checkpoint
    self.model = model
    self.fingerprint = fingerprint
    self.itemCount = model.itemCount
    self.maxLength = model.maxLength
    self.streaming = model as? any StreamingRecommender
    self.initialStream = streaming?.initialStreamState()
    var index: [String: Int32] = [:]
    index.reserveCapacity(checkpoint.rawItemIds.count)
    for (id, raw) in checkpoint.rawItemIds.enumerated().dropFirst() where index[raw] == nil {
      index[raw] = Int32(id)
    }
    self.itemIndex = index
  }

  public var name: String { checkpoint.model.name }
  /// True when a new event updates the state in O(1) (RecBLR); false when recommendations re-read the last L items.
  public var isStreaming: Bool { streaming != nil }

  /// Internal id of a raw item id, or nil when the checkpoint does not know it.
  public func itemId(raw: String) -> Int32? { itemIndex[raw] }

  public func rawItemId(_ id: Int32) -> String { checkpoint.rawItemIds[Int(id)] }

  /// The state before any item.
  public func initialState() -> UserState {
    if let initialStream { return .stream(initialStream) }
    return .window(items: [], consumed: 0)
  }

  /// Consumes one item (internal id ≥ 1): O(1) for streaming models, a window shift otherwise.
  public func advance(_ state: inout UserState, item: Int32) {
    switch state {
    case .stream(var stream):
      streaming!.advance(&stream, item: item)
      state = .stream(stream)
    case .window(var items, let consumed):
      items.append(item)
      if items.count > maxLength { items.removeFirst(items.count - maxLength) }
      state = .window(items: items, consumed: consumed + 1)
    }
  }

  /// The state after consuming `items` in order (what replaying a user's event log gives).
  public func replay(_ items: [Int32]) -> UserState {
    var state = initialState()
    for item in items { advance(&state, item: item) }
    return state
  }

  /// `start` (default: the state before any item) advanced by the items of logged `events`, in order; items this
  /// model does not know are skipped. The one replay of the log used by the writer and by `StateVerifier`.
  public func replay<S: Sequence<LoggedEvent>>(logged events: S, from start: UserState? = nil) -> UserState {
    var state = start ?? initialState()
    for event in events {
      if let item = itemId(raw: event.item) { advance(&state, item: item) }
    }
    return state
  }

  /// True when `state` has the layout this model produces (a state from another model is rebuilt instead).
  public func accepts(_ state: UserState) -> Bool {
    switch state {
    case .stream(let stream): return stream.values.count == initialStream?.values.count
    case .window(let items, let consumed):
      return streaming == nil && items.count <= maxLength && items.count <= consumed
        && items.allSatisfy { $0 >= 1 && Int($0) < itemCount }
    }
  }

  /// The `k` best items for `state` (one matrix-vector product over the item table, then a partial selection),
  /// best first, skipping `excluded`.
  public func topK(_ state: UserState, k: Int, excluded: Set<Int32> = []) -> [TopK.Entry] {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: itemCount) { buffer in
      let scores = buffer.baseAddress!
      switch state {
      case .stream(let stream):
        streaming!.scores(stream, into: scores)
      case .window(let items, _):
        model.scores(SequenceDataset.batch(histories: [items], maxLength: maxLength), into: scores)
      }
      return TopK.select(scores, count: itemCount, k: k, excluded: excluded)
    }
  }
}
