import Testing

@testable import RecEval

@Suite struct TopKTests {
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
