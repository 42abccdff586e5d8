/// Partial selection of the K best-scoring items (a bounded min-heap: O(N log K), no full sort).
public enum TopK {
  public struct Entry: Equatable, Sendable {
    public var item: Int32
    public var score: Float
  }

  /// The `k` highest scores of `scores[1..<count]` (item 0 = padding never competes), best first; NaN scores and
  /// items in `excluded` are skipped. Ties keep the lower item id first.
  public static func select(
    _ scores: UnsafePointer<Float>, count: Int, k: Int, excluded: Set<Int32> = []
  ) -> [Entry] {
    guard k > 0 else { return [] }
    var heap: [Entry] = []  // min-heap on (score, then higher id is "smaller" so lower ids survive ties)
    heap.reserveCapacity(k)
    func less(_ a: Entry, _ b: Entry) -> Bool { a.score < b.score || (a.score == b.score && a.item > b.item) }
    func siftDown(_ start: Int) {
      var i = start
      while true {
        let l = 2 * i + 1
        let r = l + 1
        var m = i
        if l < heap.count && less(heap[l], heap[m]) { m = l }
        if r < heap.count && less(heap[r], heap[m]) { m = r }
        if m == i { return }
        heap.swapAt(i, m)
        i = m
      }
    }
    for i in 1..<max(count, 1) {
      let s = scores[i]
      if s.isNaN { continue }
      let e = Entry(item: Int32(i), score: s)
      if heap.count < k {
        if !excluded.isEmpty && excluded.contains(e.item) { continue }
        heap.append(e)
        var c = heap.count - 1
        while c > 0 {
          let p = (c - 1) / 2
          if less(heap[c], heap[p]) {
            heap.swapAt(c, p)
            c = p
          } else {
            break
          }
        }
      } else if less(heap[0], e) {
        if !excluded.isEmpty && excluded.contains(e.item) { continue }
        heap[0] = e
        siftDown(0)
      }
    }
    return heap.sorted { less($1, $0) }
  }
}
