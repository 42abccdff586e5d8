import RecData
import Testing

@testable import RecModels

@Suite struct BaselinesTests {
  static func makeDataset(_ sequences: [[Int32]], itemCount: Int) -> SequenceDataset {
    SequenceDataset(
      name: "tiny", sequences: sequences, rawUserIds: sequences.indices.map { "u\($0)" },
      rawItemIds: [SequenceDataset.paddingRawId] + (1..<itemCount).map { "i\($0)" })
  }

  /// Leave-one-out training examples: targets at positions 1 ..< n − 2 (the last two are validation and test).
  static func trainingExamples(_ dataset: SequenceDataset) -> [Example] {
    dataset.sequences.enumerated().flatMap { user, sequence in
      (1..<max(1, sequence.count - 2)).map { Example(user: Int32(user), position: Int32($0)) }
    }
  }

  /// 1-based rank of `target` in a score row, pessimistic on ties, column 0 ignored (written out here because
  /// RecModelsTests does not depend on RecEval).
  static func rank(of target: Int, in row: [Float]) -> Int {
    (1..<row.count).filter { row[$0] >= row[target] }.count
  }

  static func scoreRows(_ batch: SequenceBatch, itemCount: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void)
    -> [[Float]]
  {
    var scores = [Float](repeating: .nan, count: batch.count * itemCount)
    scores.withUnsafeMutableBufferPointer { fill($0.baseAddress!) }
    return (0..<batch.count).map { Array(scores[$0 * itemCount..<($0 + 1) * itemCount]) }
  }

  // Training prefixes: u0 [1, 2, 3, 2] (5, 6 held out), u1 [2, 3] (1, 4 held out), u2 none ([3, 5, 6] is too short).
  let dataset = makeDataset([[1, 2, 3, 2, 5, 6], [2, 3, 1, 4], [3, 5, 6]], itemCount: 7)

  @Test func mostPopularCountsOnlyTrainingPrefixes() {
    let model = MostPopular(dataset: dataset, trainingExamples: Self.trainingExamples(dataset))
    #expect(model.counts == [0, 1, 3, 2, 0, 0, 0])
    // Duplicated or shuffled examples define the same prefixes.
    let shuffled = Self.trainingExamples(dataset).reversed() + [Example(user: 0, position: 2)]
    #expect(MostPopular(dataset: dataset, trainingExamples: Array(shuffled)).counts == model.counts)
  }

  @Test func mostPopularGivesEveryRowThePopularityRanking() {
    let model = MostPopular(dataset: dataset, trainingExamples: Self.trainingExamples(dataset))
    let batch = SequenceDataset.batch(histories: [[1], [], [3, 2, 1]], maxLength: 2)
    let rows = Self.scoreRows(batch, itemCount: 7) { model.scores(batch, into: $0) }
    for row in rows {
      #expect(row == [0, 1, 3, 2, 0, 0, 0])
      #expect(Self.rank(of: 2, in: row) == 1)
      #expect(Self.rank(of: 3, in: row) == 2)
    }
  }

  @Test func transitionCountsComeFromConsecutiveTrainingItems() {
    let model = ItemTransition(dataset: dataset, trainingExamples: Self.trainingExamples(dataset))
    #expect(model.transitionCount(from: 1, to: 2) == 1)
    #expect(model.transitionCount(from: 2, to: 3) == 2)
    #expect(model.transitionCount(from: 3, to: 2) == 1)
    #expect(model.transitionCount(from: 2, to: 5) == 0)  // held-out transition
    #expect(model.transitionCount(from: 3, to: 5) == 0)  // user without training examples
    #expect(model.transitionCount(from: 6, to: 1) == 0)
  }

  @Test func transitionModelRanksTheKnownSuccessorFirst() {
    let model = ItemTransition(dataset: dataset, trainingExamples: Self.trainingExamples(dataset))
    let batch = SequenceDataset.batch(histories: [[3, 1], [1, 2], [2, 3]], maxLength: 4)
    let rows = Self.scoreRows(batch, itemCount: 7) { model.scores(batch, into: $0) }
    #expect(Self.rank(of: 2, in: rows[0]) == 1)  // 1 → 2
    #expect(Self.rank(of: 3, in: rows[1]) == 1)  // 2 → 3 (twice)
    #expect(Self.rank(of: 2, in: rows[2]) == 1)  // 3 → 2
    // score = count + 0.5 · pop / maxPop (maxPop = 3).
    let scale: Float = ItemTransition.backoffWeight / 3
    let item3Popularity: Float = 2
    let item3Score: Float = item3Popularity * scale + 2
    #expect(rows[1][3] == item3Score)
    #expect(rows[1][1] == scale)
    #expect(rows[1][0] == 0)
  }

  @Test func unseenTransitionsAndEmptyHistoriesFallBackToPopularity() {
    let model = ItemTransition(dataset: dataset, trainingExamples: Self.trainingExamples(dataset))
    // Item 5 has no training successor; the second row has no history.
    let batch = SequenceDataset.batch(histories: [[1, 5], []], maxLength: 4)
    let rows = Self.scoreRows(batch, itemCount: 7) { model.scores(batch, into: $0) }
    for row in rows {
      #expect(Self.rank(of: 2, in: row) == 1)
      #expect(Self.rank(of: 3, in: row) == 2)
      #expect(Self.rank(of: 1, in: row) == 3)
      #expect(row[4] == 0 && row[5] == 0 && row[6] == 0)
    }
  }

  @Test func backoffBreaksTiesBetweenEqualTransitionCountsByPopularity() {
    // Training: 4 → 1 and 4 → 2 once each; item 2 is more popular than item 1.
    let data = Self.makeDataset([[4, 1, 9, 9], [4, 2, 9, 9], [2, 3, 2, 9, 9]], itemCount: 10)
    let model = ItemTransition(dataset: data, trainingExamples: Self.trainingExamples(data))
    let batch = SequenceDataset.batch(histories: [[4]], maxLength: 1)
    let row = Self.scoreRows(batch, itemCount: 10) { model.scores(batch, into: $0) }[0]
    #expect(model.transitionCount(from: 4, to: 1) == 1 && model.transitionCount(from: 4, to: 2) == 1)
    #expect(Self.rank(of: 2, in: row) == 1)
    #expect(Self.rank(of: 1, in: row) == 2)
    // An unseen transition never beats a seen one, however popular.
    #expect(row[4] < row[1])
  }
}
