/// Per-user chronological item sequences with ids remapped to 1…N−1 (0 = padding), keeping the raw ids so that
/// every output can name them.
public struct SequenceDataset: Sendable {
  /// A name for messages and fingerprints (usually the file name).
  public var name: String
  /// `sequences[u]` = internal item ids of user `u` in chronological order. Users are 0-based.
  public var sequences: [[Int32]]
  /// Raw user id of internal user `u`.
  public var rawUserIds: [String]
  /// Raw item id of internal item `i`; `rawItemIds[0]` is the padding id "[PAD]".
  public var rawItemIds: [String]

  public init(name: String, sequences: [[Int32]], rawUserIds: [String], rawItemIds: [String]) {
    precondition(sequences.count == rawUserIds.count, "one raw id per user")
    precondition(rawItemIds.first == SequenceDataset.paddingRawId, "item 0 must be the padding id")
    self.name = name
    self.sequences = sequences
    self.rawUserIds = rawUserIds
    self.rawItemIds = rawItemIds
  }

  public static let paddingRawId = "[PAD]"

  public var userCount: Int { sequences.count }
  /// Number of item ids **including** the padding id 0 (RecBole's `n_items`, the width of the score matrix).
  public var itemCount: Int { rawItemIds.count }
  public var interactionCount: Int { sequences.reduce(0) { $0 + $1.count } }
}

/// One prediction task: the item at `sequences[user][position]` is the target, the items before it the history.
/// Training, validation and test sets are lists of these; histories are never materialised up front.
public struct Example: Hashable, Sendable {
  public var user: Int32
  public var position: Int32

  public init(user: Int32, position: Int32) {
    self.user = user
    self.position = position
  }
}

/// A batch of examples as a model sees it (RecBole layout): `items` is B×L, each row left-aligned (oldest first)
/// and right-padded with 0, holding the last ≤ L items before the target.
public struct SequenceBatch: Sendable {
  public let maxLength: Int
  public var items: [Int32]
  public var lengths: [Int32]
  public var targets: [Int32]
  public var users: [Int32]
  public var count: Int { lengths.count }

  public init(maxLength: Int, items: [Int32], lengths: [Int32], targets: [Int32], users: [Int32]) {
    precondition(items.count == lengths.count * maxLength)
    self.maxLength = maxLength
    self.items = items
    self.lengths = lengths
    self.targets = targets
    self.users = users
  }
}

extension SequenceDataset {
  /// The history of `example`: the last ≤ `maxLength` items before its position.
  public func history(of example: Example, maxLength: Int) -> ArraySlice<Int32> {
    let seq = sequences[Int(example.user)]
    let end = Int(example.position)
    return seq[max(0, end - maxLength)..<end]
  }

  /// Builds the model input for `examples` (each must have position ≥ 1).
  public func batch<C: Collection>(_ examples: C, maxLength: Int) -> SequenceBatch where C.Element == Example {
    let b = examples.count
    var items = [Int32](repeating: 0, count: b * maxLength)
    var lengths = [Int32](repeating: 0, count: b)
    var targets = [Int32](repeating: 0, count: b)
    var users = [Int32](repeating: 0, count: b)
    items.withUnsafeMutableBufferPointer { out in
      for (row, ex) in examples.enumerated() {
        let seq = sequences[Int(ex.user)]
        let end = Int(ex.position)
        precondition(end >= 1 && end < seq.count, "example position \(end) outside user \(ex.user)'s sequence")
        let start = max(0, end - maxLength)
        for (j, t) in (start..<end).enumerated() { out[row * maxLength + j] = seq[t] }
        lengths[row] = Int32(end - start)
        targets[row] = seq[end]
        users[row] = ex.user
      }
    }
    return SequenceBatch(maxLength: maxLength, items: items, lengths: lengths, targets: targets, users: users)
  }

  /// Builds a batch from ad-hoc histories (internal ids, oldest first; the last `maxLength` are kept).
  public static func batch(histories: [[Int32]], maxLength: Int) -> SequenceBatch {
    let b = histories.count
    var items = [Int32](repeating: 0, count: b * maxLength)
    var lengths = [Int32](repeating: 0, count: b)
    for (row, h) in histories.enumerated() {
      let kept = h.suffix(maxLength)
      for (j, item) in kept.enumerated() { items[row * maxLength + j] = item }
      lengths[row] = Int32(kept.count)
    }
    return SequenceBatch(
      maxLength: maxLength, items: items, lengths: lengths, targets: [Int32](repeating: 0, count: b),
      users: [Int32](repeating: -1, count: b))
  }
}
