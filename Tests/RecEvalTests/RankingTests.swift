import Testing

@testable import RecEval

@Suite struct RankingTests {
  @Test func strictlyHigherAndTiedItemsBothOutrankTheTarget() {
    // item:              pad  1  2  3  4
    let scores: [Float] = [0, 1, 3, 2, 2]
    #expect(Ranking.pessimisticRank(target: 3, scores: scores) == 3)  // item 2 higher, item 4 tied
    #expect(Ranking.pessimisticRank(target: 4, scores: scores) == 3)
    #expect(Ranking.pessimisticRank(target: 2, scores: scores) == 1)
    #expect(Ranking.pessimisticRank(target: 1, scores: scores) == 4)
  }

  @Test func constantScoresRankTheTargetLast() {
    let scores = [Float](repeating: 5, count: 6)
    for target in 1..<6 { #expect(Ranking.pessimisticRank(target: target, scores: scores) == 5) }
  }

  @Test func highestPaddingColumnNeverCompetes() {
    let scores: [Float] = [.infinity, 1, 3, 2]
    #expect(Ranking.pessimisticRank(target: 2, scores: scores) == 1)
    let nanPadding: [Float] = [.nan, 1, 3, 2]
    #expect(Ranking.pessimisticRank(target: 1, scores: nanPadding) == 3)
  }

  @Test func nanTargetRanksLast() {
    #expect(Ranking.pessimisticRank(target: 1, scores: [0, .nan, 1, 2, -.infinity]) == 4)
    #expect(Ranking.pessimisticRank(target: 1, scores: [0, .nan, .nan, .nan]) == 3)
  }

  @Test func nanCompetitorsNeverOutrankOrTie() {
    #expect(Ranking.pessimisticRank(target: 2, scores: [0, .nan, 1, .nan]) == 1)
    #expect(Ranking.pessimisticRank(target: 1, scores: [0, -.infinity, .nan, .nan]) == 1)
    #expect(Ranking.pessimisticRank(target: 1, scores: [0, -.infinity, .nan, -.infinity]) == 2)
  }

  @Test func candidateRankCountsOnlyTheGivenNegatives() {
    // item:              pad  1  2  3  4  5
    let scores: [Float] = [9, 5, 1, 9, 1, 3]
    #expect(Ranking.pessimisticRank(target: 2, negatives: [4, 5], scores: scores) == 3)
    #expect(Ranking.pessimisticRank(target: 2, negatives: [4], scores: scores) == 2)
    #expect(Ranking.pessimisticRank(target: 1, negatives: [2, 4, 5], scores: scores) == 1)
    #expect(Ranking.pessimisticRank(target: 2, negatives: [], scores: scores) == 1)
    var withNaN = scores
    withNaN[2] = .nan
    #expect(Ranking.pessimisticRank(target: 2, negatives: [4, 5], scores: withNaN) == 3)
    withNaN[4] = .nan
    #expect(Ranking.pessimisticRank(target: 5, negatives: [2, 4], scores: withNaN) == 1)
  }

  @Test func countingMatchesSortBasedReferenceOnRandomRows() {
    var generator = SplitMix64(seed: 11)
    for trial in 0..<200 {
      let n = 2 + Int(generator.next() % 40)
      var scores = (0..<n).map { _ in Float(generator.next() % 5) - 2 }
      // Sprinkle NaN and infinities.
      for _ in 0..<Int(generator.next() % 3) {
        scores[Int(generator.next() % UInt64(n))] = [Float.nan, .infinity, -.infinity][Int(generator.next() % 3)]
      }
      let target = 1 + Int(generator.next() % UInt64(n - 1))
      #expect(
        Ranking.pessimisticRank(target: target, scores: scores) == referenceRank(target: target, scores: scores),
        "trial \(trial): \(scores), target \(target)")
      let negatives = Array(Set((1..<n).filter { $0 != target && generator.next() % 2 == 0 })).sorted()
      #expect(
        Ranking.pessimisticRank(target: target, negatives: negatives.map { Int32($0) }, scores: scores)
          == referenceRank(target: target, scores: scores, candidates: negatives),
        "trial \(trial): \(scores), target \(target), negatives \(negatives)")
    }
  }
}
