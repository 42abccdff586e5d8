import RecData

/// Training-free first-order Markov baseline: the next item is predicted from the last history item alone.
///
/// Counts `count(i → j)` = how often item j directly follows item i inside a user's training prefix (see
/// `TrainingPrefix`; consecutive positions t−1, t of the same user). For a history ending in item i:
///
///     score(j | i) = count(i → j) + backoffWeight · pop(j) / maxPop
///
/// with pop = `MostPopular` training counts and backoffWeight = 0.5. The back-off lies in [0, 0.5], below the
/// step of one transition count, so it only orders items with equal counts (in particular every unseen
/// transition falls back to popularity) and never overturns a difference in counts. (A tiny weight such as 1e-6
/// would vanish in Float next to counts of a few hundred.) Rows with an empty history, or whose last item has no
/// recorded successor, get the back-off alone, i.e. the popularity ranking. Column 0 (padding) scores 0.
public struct ItemTransition: Sendable {
  public var name: String { "item-transition" }
  public static let backoffWeight: Float = 0.5

  /// Number of item ids including padding (width of the score matrix).
  public let itemCount: Int
  /// The popularity model behind the back-off.
  public let popularity: MostPopular
  /// Compressed rows of the transition matrix: successors of item i are
  /// `successorItems[successorStart[i] ..< successorStart[i + 1]]` (ascending) with counts in `successorCounts`.
  private let successorStart: [Int]
  private let successorItems: [Int32]
  private let successorCounts: [Int32]
  /// backoffWeight · pop(j) / maxPop for every j (0 for padding).
  private let backoffRow: [Float]

  /// Counts transitions and popularity in the training prefixes of `dataset` defined by `trainingExamples`.
  public init(dataset: SequenceDataset, trainingExamples: [Example]) {
    let itemCount = dataset.itemCount
    self.itemCount = itemCount
    self.popularity = MostPopular(dataset: dataset, trainingExamples: trainingExamples)

    // Every consecutive pair as one sortable key (from << 32 | to), then run-length counted.
    var pairKeys: [UInt64] = []
    TrainingPrefix.forEachPrefix(dataset: dataset, trainingExamples: trainingExamples) { prefix in
      var previous: Int32? = nil
      for item in prefix {
        if let from = previous { pairKeys.append(UInt64(UInt32(from)) << 32 | UInt64(UInt32(item))) }
        previous = item
      }
    }
    pairKeys.sort()
    var start = [Int](repeating: 0, count: itemCount + 1)
    var items: [Int32] = []
    var counts: [Int32] = []
    var index = 0
    while index < pairKeys.count {
      let key = pairKeys[index]
      var runEnd = index + 1
      while runEnd < pairKeys.count && pairKeys[runEnd] == key { runEnd += 1 }
      start[Int(key >> 32) + 1] += 1
      items.append(Int32(truncatingIfNeeded: key & 0xFFFF_FFFF))
      counts.append(Int32(runEnd - index))
      index = runEnd
    }
    for i in 0..<itemCount { start[i + 1] += start[i] }
    self.successorStart = start
    self.successorItems = items
    self.successorCounts = counts

    let maxCount = popularity.maxCount
    let scale = maxCount > 0 ? ItemTransition.backoffWeight / Float(maxCount) : 0
    self.backoffRow = popularity.counts.map { Float($0) * scale }
  }

  /// How often `to` directly follows `from` in the training prefixes.
  public func transitionCount(from: Int32, to: Int32) -> Int {
    guard from >= 0 && Int(from) < itemCount else { return 0 }
    let range = successorStart[Int(from)]..<successorStart[Int(from) + 1]
    guard let k = range.first(where: { successorItems[$0] == to }) else { return 0 }
    return Int(successorCounts[k])
  }

  /// Writes scores given each row's last history item (B × itemCount, row-major).
  public func scores(_ batch: SequenceBatch, into scores: UnsafeMutablePointer<Float>) {
    let length = batch.maxLength
    backoffRow.withUnsafeBufferPointer { backoff in
      successorItems.withUnsafeBufferPointer { succItems in
        successorCounts.withUnsafeBufferPointer { succCounts in
          batch.items.withUnsafeBufferPointer { history in
            for r in 0..<batch.count {
              let row = scores + r * itemCount
              row.update(from: backoff.baseAddress!, count: itemCount)
              let historyLength = Int(batch.lengths[r])
              guard historyLength > 0 else { continue }
              let last = Int(history[r * length + historyLength - 1])
              guard last >= 1 && last < itemCount else { continue }
              for k in successorStart[last]..<successorStart[last + 1] {
                row[Int(succItems[k])] += Float(succCounts[k])
              }
            }
          }
        }
      }
    }
  }
}
