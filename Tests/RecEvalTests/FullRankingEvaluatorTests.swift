import Foundation
import RecData
import Testing

@testable import RecEval

@Suite struct FullRankingEvaluatorTests {
  /// Item ids 1…5; scores[j] = j for every row, so item 5 is always first. Column 0 gets +∞ and must not count.
  static func ascendingScores(_ batch: SequenceBatch, _ scores: UnsafeMutablePointer<Float>) {
    for r in 0..<batch.count {
      scores[r * 6] = .infinity
      for j in 1..<6 { scores[r * 6 + j] = Float(j) }
    }
  }

  // u0: target 2 after history [5, 3]; u1: target 1 after [1, 4] (a repeat); u2: target 4 after [2, 3].
  let dataset = makeDataset([[5, 3, 2], [1, 4, 1], [2, 3, 4]], itemCount: 6)
  let examples = [Example(user: 0, position: 2), Example(user: 1, position: 2), Example(user: 2, position: 2)]

  @Test func ranksAgainstAllItemsWithoutHistoryMasking() throws {
    let ranks = try FullRankingEvaluator.ranks(
      dataset: dataset, examples: examples, maxLength: 4, score: Self.ascendingScores)
    #expect(ranks == [4, 5, 2])
  }

  @Test func historyMaskingRemovesEarlierItemsButKeepsARepeatedTarget() throws {
    let ranks = try FullRankingEvaluator.ranks(
      dataset: dataset, examples: examples, maxLength: 4, maskHistory: true, score: Self.ascendingScores)
    // u0: 5 and 3 masked → 4 outranks 2 → rank 2. u1: 4 masked, target 1 kept → 2, 3, 5 outrank → rank 4
    // (a masked target would rank last, 5). u2: 2, 3 masked → 5 outranks 4 → rank 2.
    #expect(ranks == [2, 4, 2])
  }

  @Test func historyMaskingCoversTheWholePrefixNotOnlyTheLastLItems() throws {
    let ranks = try FullRankingEvaluator.ranks(
      dataset: dataset, examples: [Example(user: 0, position: 2)], maxLength: 1, maskHistory: true,
      score: Self.ascendingScores)
    #expect(ranks == [2])
  }

  @Test func reportAveragesTheRanks() throws {
    let report = try FullRankingEvaluator.evaluate(
      dataset: dataset, examples: examples, maxLength: 4, ks: [1, 2, 5], score: Self.ascendingScores)
    #expect(report.protocolLabel == "full")
    #expect(report.exampleCount == 3)
    #expect(report["HR@1"] == 0)
    #expect(abs(report["HR@2"]! - 1.0 / 3) < 1e-12)
    #expect(abs(report["NDCG@2"]! - (1 / log2(3.0)) / 3) < 1e-12)
    #expect(abs(report["MRR@5"]! - (1.0 / 4 + 1.0 / 5 + 1.0 / 2) / 3) < 1e-12)
    #expect(report["HR@5"] == 1)
  }

  @Test func scoreClosureSeesTheHistoriesAndTargets() throws {
    // Scores the successor of the last history item highest: correct for u2 (3 → 4) only.
    var seenTargets: [Int32] = []
    let ranks = try FullRankingEvaluator.ranks(dataset: dataset, examples: examples, maxLength: 1, batchSize: 2) {
      batch, scores in
      seenTargets += batch.targets
      for r in 0..<batch.count {
        #expect(batch.lengths[r] == 1)
        let last = Int(batch.items[r])
        for j in 0..<6 { scores[r * 6 + j] = j == last + 1 ? 10 : 0 }
      }
    }
    #expect(seenTargets == [2, 1, 4])
    #expect(ranks == [5, 5, 1])
  }

  @Test func batchSizeAndParallelRankingDoNotChangeRanks() throws {
    // 300 rows × 1000 items: enough rows for the ranking to be split across workers.
    let itemCount = 1000
    var generator = SplitMix64(seed: 5)
    let sequences: [[Int32]] = (0..<300).map { _ in (0..<6).map { _ in Int32(1 + generator.next() % 999) } }
    let data = makeDataset(sequences, itemCount: itemCount)
    let all = (0..<300).map { Example(user: Int32($0), position: Int32(1 + $0 % 5)) }
    let fill: (SequenceBatch, UnsafeMutablePointer<Float>) -> Void = { batch, scores in
      for r in 0..<batch.count {
        for j in 0..<itemCount { scores[r * itemCount + j] = hashedScore(user: batch.users[r], item: j) }
      }
    }
    let whole = try FullRankingEvaluator.ranks(dataset: data, examples: all, maxLength: 3, score: fill)
    let small = try FullRankingEvaluator.ranks(dataset: data, examples: all, maxLength: 3, batchSize: 7, score: fill)
    #expect(whole == small)
    for (index, example) in all.enumerated() {
      let row = (0..<itemCount).map { hashedScore(user: example.user, item: $0) }
      let target = Int(sequences[Int(example.user)][Int(example.position)])
      #expect(whole[index] == referenceRank(target: target, scores: row))
    }
  }

  @Test func badInputIsRejectedWithTheOffendingExample() {
    #expect(throws: EvaluationError.self) {
      try FullRankingEvaluator.ranks(dataset: dataset, examples: [], maxLength: 4, score: Self.ascendingScores)
    }
    let error = #expect(throws: EvaluationError.self) {
      try FullRankingEvaluator.ranks(
        dataset: dataset, examples: [Example(user: 1, position: 0)], maxLength: 4, score: Self.ascendingScores)
    }
    #expect(error?.description.contains("example #0 (user 1, position 0)") == true)
    #expect(throws: EvaluationError.self) {
      try FullRankingEvaluator.ranks(
        dataset: dataset, examples: [Example(user: 7, position: 1)], maxLength: 4, score: Self.ascendingScores)
    }
    #expect(throws: EvaluationError.self) {
      try FullRankingEvaluator.evaluate(
        dataset: dataset, examples: examples, maxLength: 4, ks: [0], score: Self.ascendingScores)
    }
  }
}
