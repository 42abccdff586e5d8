/// Variable-length sequences stored back to back: sequence b owns rows `offsets[b] ..< offsets[b + 1]` of a
/// [totalLength, features] tensor (row-major, oldest position first). Layers that look along time (convolutions,
/// attention) treat each segment as an independent sequence, so a batch of short and long rows can be packed
/// without padding them to the longest one.
public struct SequenceSegments: Sendable, Equatable {
  /// count + 1 non-decreasing offsets, starting at 0.
  public let offsets: [Int]

  /// Segments of the given lengths (each ≥ 0), in order.
  public init(lengths: [Int]) {
    var offsets = [0]
    offsets.reserveCapacity(lengths.count + 1)
    for (b, length) in lengths.enumerated() {
      precondition(length >= 0, "SequenceSegments: length \(length) of sequence \(b) is negative")
      offsets.append(offsets[b] + length)
    }
    self.offsets = offsets
  }

  /// `count` segments of `length` rows each (the [count, length, features] layout).
  public static func uniform(count: Int, length: Int) -> SequenceSegments {
    SequenceSegments(lengths: [Int](repeating: length, count: count))
  }

  /// Number of sequences.
  public var count: Int { offsets.count - 1 }
  /// Rows in all sequences together.
  public var totalLength: Int { offsets[offsets.count - 1] }
  public var lengths: [Int] { (0..<count).map { offsets[$0 + 1] - offsets[$0] } }
  /// The rows of sequence b.
  @inlinable public func range(_ b: Int) -> Range<Int> { offsets[b]..<offsets[b + 1] }
  @inlinable public func length(_ b: Int) -> Int { offsets[b + 1] - offsets[b] }
}
