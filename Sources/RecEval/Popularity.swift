import RecData

/// Item popularity as GLINT-RU's pop100 protocol defines it (glintru.md §3.3): the number of times each item is
/// the target of an augmented (prefix) sample, i.e. every interaction except each user's first, counted over
/// train, validation and test together.
public enum ItemPopularity {
  /// `counts[i]` = occurrences of item `i` at positions ≥ 1 of all sequences; `counts[0]` (padding) = 0.
  /// Ids outside `1..<dataset.itemCount` are not counted.
  public static func augmentedTargetCounts(in dataset: SequenceDataset) -> [Int] {
    var counts = [Int](repeating: 0, count: dataset.itemCount)
    counts.withUnsafeMutableBufferPointer { out in
      for sequence in dataset.sequences where sequence.count > 1 {
        for item in sequence.dropFirst() where item >= 1 && Int(item) < out.count {
          out[Int(item)] += 1
        }
      }
    }
    return counts
  }
}

/// Draws item ids with probability proportional to their popularity count: one uniform integer in
/// `0..<total`, then a binary search in the cumulative table (O(log n) per draw, exact, no floating point).
public struct PopularitySampler: Sendable {
  /// `cumulative[i]` = counts[0] + … + counts[i].
  private let cumulative: [Int64]
  public var total: Int64 { cumulative.last ?? 0 }
  public var itemCount: Int { cumulative.count }
  /// Popularity of one item (its count).
  public func count(of item: Int) -> Int64 {
    item == 0 ? cumulative[0] : cumulative[item] - cumulative[item - 1]
  }

  /// - Parameter counts: non-negative popularity per item id (index 0 = padding, normally 0), not all zero.
  public init(counts: [Int]) throws(EvaluationError) {
    if let bad = counts.firstIndex(where: { $0 < 0 }) {
      throw .invalidArgument("popularity of item \(bad) is negative (\(counts[bad]))")
    }
    var running: Int64 = 0
    var table = [Int64](repeating: 0, count: counts.count)
    for (i, c) in counts.enumerated() {
      running += Int64(c)
      table[i] = running
    }
    guard running > 0 else { throw .invalidArgument("popularity counts are all zero; nothing to sample") }
    cumulative = table
  }

  /// One item id drawn with probability counts[id] / total.
  public func draw<G: RandomNumberGenerator>(using generator: inout G) -> Int32 {
    let u = Int64(generator.next(upperBound: UInt64(total)))
    // The first index whose cumulative count exceeds u.
    var lo = 0
    var hi = cumulative.count - 1
    cumulative.withUnsafeBufferPointer { table in
      while lo < hi {
        let mid = (lo + hi) / 2
        if table[mid] > u { hi = mid } else { lo = mid + 1 }
      }
    }
    return Int32(lo)
  }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small seeded generator for negative sampling, so RecEval needs no
/// TensorCore. The same seed gives the same stream on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable, Codable, Equatable {
  private var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
