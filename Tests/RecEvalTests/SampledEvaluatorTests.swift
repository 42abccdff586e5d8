import RecData
import Testing

@testable import RecEval

@Suite struct SampledEvaluatorTests {
  @Test func popularityCountsEveryInteractionExceptEachUsersFirst() {
    let dataset = makeDataset([[1, 2, 3], [2, 2, 4], [3]], itemCount: 6)
    #expect(ItemPopularity.augmentedTargetCounts(in: dataset) == [0, 0, 2, 1, 1, 0])
  }

  @Test func samplerDrawsProportionallyToCounts() throws {
    let sampler = try PopularitySampler(counts: [0, 1, 0, 2, 7])
    var generator = SplitMix64(seed: 3)
    var histogram = [Int](repeating: 0, count: 5)
    let draws = 100_000
    for _ in 0..<draws { histogram[Int(sampler.draw(using: &generator))] += 1 }
    #expect(histogram[0] == 0 && histogram[2] == 0)
    #expect(abs(Double(histogram[1]) / Double(draws) - 0.1) < 0.01)
    #expect(abs(Double(histogram[3]) / Double(draws) - 0.2) < 0.01)
    #expect(abs(Double(histogram[4]) / Double(draws) - 0.7) < 0.01)
  }

  @Test func negativesCollapseWhenOnlyOneOtherItemCanBeDrawn() throws {
    // Only items 1 (the target) and 2 have popularity: all 100 draws are item 2.
    var evaluator = try PopularitySampledEvaluator(popularity: [0, 5, 3, 0], seed: 1)
    #expect(evaluator.drawNegatives(target: 1) == [2])
    #expect(evaluator.drawNegatives(target: 2) == [1])
    // The target has all the popularity: no negative exists, the candidate list is the target alone.
    var lonely = try PopularitySampledEvaluator(popularity: [0, 5, 0], seed: 1)
    #expect(lonely.drawNegatives(target: 1) == [])
  }

  @Test func collapsedCandidatesRankOnlyAgainstTheDrawnItem() throws {
    let dataset = makeDataset([[2, 1], [1, 2]], itemCount: 4)
    let examples = [Example(user: 0, position: 1), Example(user: 1, position: 1)]
    // Item 3 scores highest but has no popularity, so it is never a candidate; item 2 beats item 1.
    let score: (SequenceBatch, UnsafeMutablePointer<Float>) -> Void = { batch, scores in
      for r in 0..<batch.count { (scores + r * 4).update(from: [100, 1, 2, 50], count: 4) }
    }
    var evaluator = try PopularitySampledEvaluator(popularity: [0, 5, 3, 0], seed: 9)
    let sampledRanks = try evaluator.ranks(dataset: dataset, examples: examples, maxLength: 2, score: score)
    #expect(sampledRanks == [2, 1])
    let fullRanks = try FullRankingEvaluator.ranks(dataset: dataset, examples: examples, maxLength: 2, score: score)
    #expect(fullRanks == [3, 2])
  }

  @Test func targetIsNeverANegativeAndNegativesAreDistinctAndPopular() throws {
    var generator = SplitMix64(seed: 21)
    for trial in 0..<50 {
      let itemCount = 3 + Int(generator.next() % 30)
      var popularity = (0..<itemCount).map { _ in generator.next() % 3 == 0 ? 0 : Int(generator.next() % 50) }
      popularity[0] = 0
      let target = Int32(1 + generator.next() % UInt64(itemCount - 1))
      popularity[Int(target)] = 10_000  // the target is by far the most popular item
      var evaluator = try PopularitySampledEvaluator(popularity: popularity, seed: UInt64(trial))
      let negatives = evaluator.drawNegatives(target: target)
      #expect(!negatives.contains(target), "trial \(trial)")
      #expect(negatives == Array(Set(negatives)).sorted(), "trial \(trial)")
      #expect(negatives.allSatisfy { popularity[Int($0)] > 0 }, "trial \(trial)")
      #expect(negatives.count <= 100)
    }
  }

  @Test func sameSeedReplaysAndEveryCallRedraws() throws {
    let popularity = [0] + (1..<500).map { 1 + $0 % 17 }
    var first = try PopularitySampledEvaluator(popularity: popularity, negativeCount: 100, seed: 42)
    var second = try PopularitySampledEvaluator(popularity: popularity, negativeCount: 100, seed: 42)
    var other = try PopularitySampledEvaluator(popularity: popularity, negativeCount: 100, seed: 43)
    let a1 = first.drawNegatives(target: 7)
    let a2 = first.drawNegatives(target: 7)
    #expect(a1 == second.drawNegatives(target: 7))
    #expect(a2 == second.drawNegatives(target: 7))
    #expect(a1 != a2)
    #expect(a1 != other.drawNegatives(target: 7))
  }

  @Test func evaluateIsSeededRedrawnPerCallAndBatchSizeIndependent() throws {
    let itemCount = 300
    var generator = SplitMix64(seed: 8)
    let sequences: [[Int32]] = (0..<200).map { _ in (0..<4).map { _ in Int32(1 + generator.next() % 299) } }
    let dataset = makeDataset(sequences, itemCount: itemCount)
    let examples = (0..<200).map { Example(user: Int32($0), position: 3) }
    let score: (SequenceBatch, UnsafeMutablePointer<Float>) -> Void = { batch, scores in
      for r in 0..<batch.count {
        for j in 0..<itemCount { scores[r * itemCount + j] = hashedScore(user: batch.users[r], item: j, levels: 50) }
      }
    }
    var big = try PopularitySampledEvaluator(dataset: dataset, seed: 5)
    var small = try PopularitySampledEvaluator(dataset: dataset, seed: 5)
    let bigFirst = try big.ranks(dataset: dataset, examples: examples, maxLength: 3, score: score)
    let smallFirst = try small.ranks(dataset: dataset, examples: examples, maxLength: 3, batchSize: 3, score: score)
    #expect(bigFirst == smallFirst)
    let bigSecond = try big.ranks(dataset: dataset, examples: examples, maxLength: 3, score: score)
    #expect(bigSecond != bigFirst)

    // Each rank equals the sort-based reference over the same draws.
    var replay = try PopularitySampledEvaluator(dataset: dataset, seed: 5)
    for (index, example) in examples.enumerated() {
      let target = sequences[Int(example.user)][3]
      let negatives = replay.drawNegatives(target: target).map { Int($0) }
      let row = (0..<itemCount).map { hashedScore(user: example.user, item: $0, levels: 50) }
      #expect(bigFirst[index] == referenceRank(target: Int(target), scores: row, candidates: negatives))
    }

    var labelled = try PopularitySampledEvaluator(dataset: dataset, seed: 5)
    let report = try labelled.evaluate(dataset: dataset, examples: examples, maxLength: 3, score: score)
    #expect(report.protocolLabel == "sampled(pop100)")
    #expect(report.keys == ["HR@10", "NDCG@10", "MRR@10"])
    #expect(report.line.hasPrefix("[sampled(pop100)]"))
    #expect(report.exampleCount == 200)
  }

  @Test func mismatchedPopularityTableIsRejected() throws {
    let dataset = makeDataset([[1, 2]], itemCount: 3)
    var evaluator = try PopularitySampledEvaluator(popularity: [0, 1, 1, 1], seed: 0)
    #expect(throws: EvaluationError.self) {
      try evaluator.ranks(dataset: dataset, examples: [Example(user: 0, position: 1)], maxLength: 2) { _, _ in }
    }
    #expect(throws: EvaluationError.self) { try PopularitySampledEvaluator(popularity: [0, 0, 0], seed: 0) }
    #expect(throws: EvaluationError.self) { try PopularitySampledEvaluator(popularity: [0, -1, 3], seed: 0) }
  }
}
