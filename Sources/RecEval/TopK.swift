/// The k best items of one full score row by partial selection (one pass, O(n) plus O(k) per item that enters the
/// current top k), not a full sort: what a recommendation request returns.
///
/// Order: higher score first; equal scores by lower item id (a deterministic, stable choice); NaN scores never
/// enter; column 0 (padding) never competes.
public enum TopK {
  /// Writes the best `min(k, candidates)` item ids and their scores, best first, into `items`/`topScores`
  /// (capacity ≥ k each) and returns how many were written.
  @inlinable
  public static func select(
    k: Int, row: UnsafeBufferPointer<Float>, items: UnsafeMutablePointer<Int32>,
    topScores: UnsafeMutablePointer<Float>
  ) -> Int {
    guard k > 0 else { return 0 }
    var filled = 0
    var worst = -Float.infinity  // score of the k-th entry once the list is full
    for item in 1..<max(1, row.count) {
      let s = row[item]
      if s.isNaN { continue }
      if filled == k && !(s > worst) { continue }  // ties with the k-th keep the lower id already held
      // Insertion into the sorted list: shift down every entry with a lower score (equal scores stay ahead).
      var slot = filled == k ? k - 1 : filled
      while slot > 0 && topScores[slot - 1] < s {
        topScores[slot] = topScores[slot - 1]
        items[slot] = items[slot - 1]
        slot -= 1
      }
      topScores[slot] = s
      items[slot] = Int32(item)
      if filled < k { filled += 1 }
      if filled == k { worst = topScores[k - 1] }
    }
    return filled
  }

  /// Convenience for arrays (tests, tools): the best `k` (item, score) pairs of a full score row.
  public static func select(k: Int, scores: [Float]) -> [(item: Int32, score: Float)] {
    guard k > 0 else { return [] }
    var items = [Int32](repeating: 0, count: k)
    var top = [Float](repeating: 0, count: k)
    let n = scores.withUnsafeBufferPointer { row in
      items.withUnsafeMutableBufferPointer { i in
        top.withUnsafeMutableBufferPointer { t in
          select(k: k, row: row, items: i.baseAddress!, topScores: t.baseAddress!)
        }
      }
    }
    return (0..<n).map { (items[$0], top[$0]) }
  }

  public struct Entry: Equatable, Sendable {
    public var item: Int32
    public var score: Float
  }

  /// The best `k` entries of `scores[0..<count]`, skipping the items in `excluded` (e.g. a user's history).
  public static func select(
    _ scores: UnsafePointer<Float>, count: Int, k: Int, excluded: Set<Int32> = []
  ) -> [Entry] {
    var row = Array(UnsafeBufferPointer(start: scores, count: count))
    for item in excluded where item >= 0 && Int(item) < count { row[Int(item)] = .nan }
    return select(k: k, scores: row).map { Entry(item: $0.item, score: $0.score) }
  }
}
