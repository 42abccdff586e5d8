import Testing

@testable import RecEval

@Suite struct TopKTests {
  /// Reference: a full sort of (score descending, id ascending) over ids 1…, NaN dropped.
  static func sortedReference(_ scores: [Float], k: Int) -> [(item: Int32, score: Float)] {
    let candidates = (1..<scores.count).filter { !scores[$0].isNaN }.map { (item: Int32($0), score: scores[$0]) }
    let sorted = candidates.sorted { $0.score != $1.score ? $0.score > $1.score : $0.item < $1.item }
    return Array(sorted.prefix(k))
  }

  @Test(arguments: [1, 3, 10, 50])
  func matchesAFullSortOnRandomRowsWithTies(k: Int) {
    for trial in Int32(0)..<20 {
      // Scores in a few levels so that ties are frequent; a NaN and infinities at trial-dependent places.
      var scores = (0..<200).map { hashedScore(user: trial, item: $0, levels: 25) - 12 }
      scores[Int(trial) * 7 + 3] = .nan
      scores[Int(trial) * 5 + 60] = .infinity
      scores[Int(trial) * 3 + 120] = -.infinity
      let got = TopK.select(k: k, scores: scores)
      let want = Self.sortedReference(scores, k: k)
      #expect(got.map(\.item) == want.map(\.item), "trial \(trial)")
      #expect(got.map(\.score) == want.map(\.score), "trial \(trial)")
    }
  }

  @Test func paddingColumnAndNaNNeverEnterAndShortRowsReturnFewer() {
    let got = TopK.select(k: 5, scores: [100, .nan, 2, 1])
    #expect(got.map(\.item) == [2, 3])
    #expect(TopK.select(k: 0, scores: [0, 1]).isEmpty)
    #expect(TopK.select(k: 3, scores: [7]).isEmpty)
  }
}

@Suite struct TopKEntryTests {
  @Test func selectsTheHighestScoresBestFirstSkippingPaddingNaNAndExcluded() {
    let scores: [Float] = [100, 0.5, 3, .nan, 2, 3, -1, 9]
    let top = scores.withUnsafeBufferPointer { TopK.select($0.baseAddress!, count: scores.count, k: 3, excluded: [7]) }
    #expect(top.map(\.item) == [2, 5, 4])  // 7 excluded, 0 is padding, 3 is NaN; tie 2 vs 5 keeps the lower id first
    #expect(top.map(\.score) == [3, 3, 2])
  }

  @Test func agreesWithAFullSortOnRandomRows() {
    var g = SplitMix64(seed: 3)
    for _ in 0..<50 {
      let n = 2 + Int(g.next() % 300)
      let scores = (0..<n).map { _ in Float(g.next() % 50) }
      let k = 1 + Int(g.next() % 20)
      let top = scores.withUnsafeBufferPointer { TopK.select($0.baseAddress!, count: n, k: k) }
      let candidates: [(item: Int32, score: Float)] = (1..<n).map { (Int32($0), scores[$0]) }
      let sorted = candidates.sorted { a, b in a.score > b.score || (a.score == b.score && a.item < b.item) }
      let reference: [Int32] = sorted.prefix(k).map { $0.item }
      #expect(top.map { $0.item } == reference)
    }
  }
}
