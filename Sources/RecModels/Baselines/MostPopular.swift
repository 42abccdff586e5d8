import RecData

/// Training-free baseline: every user gets the same ranking, by how often each item occurs in the training data.
///
/// score(j) = number of occurrences of item j in the users' training prefixes (see `TrainingPrefix`: the targets
/// and histories of the training examples, i.e. under leave-one-out every interaction except each user's
/// validation and test targets). Repeated interactions count each time. Column 0 (padding) scores 0.
public struct MostPopular: Sendable {
  public var name: String { "most-popular" }
  /// Number of item ids including padding (width of the score matrix).
  public let itemCount: Int
  /// `counts[j]` = training occurrences of item j; `counts[0]` = 0.
  public let counts: [Int]
  /// `counts` as one Float score row, copied into every output row.
  private let scoreRow: [Float]

  /// Counts the training prefixes of `dataset` defined by `trainingExamples`.
  public init(dataset: SequenceDataset, trainingExamples: [Example]) {
    var counts = [Int](repeating: 0, count: dataset.itemCount)
    TrainingPrefix.forEachPrefix(dataset: dataset, trainingExamples: trainingExamples) { prefix in
      for item in prefix { counts[Int(item)] += 1 }
    }
    self.init(counts: counts)
  }

  /// Uses the given occurrence counts (index = item id, `counts[0]` is ignored and scored 0).
  public init(counts: [Int]) {
    precondition(!counts.isEmpty, "counts must cover at least the padding id")
    var counts = counts
    counts[0] = 0
    self.itemCount = counts.count
    self.counts = counts
    self.scoreRow = counts.map { Float($0) }
  }

  /// The most popular count (0 if the training data is empty).
  public var maxCount: Int { counts.max() ?? 0 }

  /// Writes `batch.count` identical rows of popularity scores (B × itemCount, row-major). Histories are ignored.
  public func scores(_ batch: SequenceBatch, into scores: UnsafeMutablePointer<Float>) {
    scoreRow.withUnsafeBufferPointer { row in
      for r in 0..<batch.count {
        (scores + r * itemCount).update(from: row.baseAddress!, count: itemCount)
      }
    }
  }
}
