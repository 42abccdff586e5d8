import RecData

/// An in-memory dataset whose item ids run 1..<itemCount (raw ids "i1", "i2", …).
func makeDataset(_ sequences: [[Int32]], itemCount: Int) -> SequenceDataset {
  SequenceDataset(
    name: "tiny", sequences: sequences, rawUserIds: sequences.indices.map { "u\($0)" },
    rawItemIds: [SequenceDataset.paddingRawId] + (1..<itemCount).map { "i\($0)" })
}

/// Sort-based reference rank, independent of `Ranking`'s counting: the target is placed after every item with the
/// same key (pessimistic), NaN keys sort below every number, column 0 is left out.
func referenceRank(target: Int, scores: [Float], candidates: [Int]? = nil) -> Int {
  let items = candidates.map { [target] + $0 } ?? Array(1..<scores.count)
  func precedes(_ a: Int, _ b: Int) -> Bool {
    let (x, y) = (scores[a], scores[b])
    if x.isNaN && y.isNaN || x == y { return b == target && a != target }
    if x.isNaN { return false }
    if y.isNaN { return true }
    return x > y
  }
  let order = items.sorted(by: precedes)
  return order.firstIndex(of: target)! + 1
}

/// A deterministic pseudo-random score in a few distinct levels (so ties are common) for (user, item).
func hashedScore(user: Int32, item: Int, levels: UInt64 = 7) -> Float {
  var z = UInt64(bitPattern: Int64(user)) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(item) &* 0xBF58_476D_1CE4_E5B9
  z = (z ^ (z >> 31)) &* 0x94D0_49BB_1331_11EB
  z ^= z >> 29
  return Float(z % levels)
}
