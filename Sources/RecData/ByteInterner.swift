import Foundation

/// Gives each distinct byte string a dense index 0, 1, 2… in order of first appearance, storing the bytes once in
/// an arena (open addressing, linear probing). Readers use it to turn raw id tokens into indices without making a
/// String per line.
struct ByteInterner {
  private var arena: [UInt8] = []
  /// `starts[i]..<starts[i + 1]` is key `i` in `arena`.
  private var starts: [Int] = [0]
  private var hashes: [UInt64] = []
  /// Key index + 1 per slot, 0 = empty; the capacity is a power of two kept at most half full.
  private var slots: [Int32] = Array(repeating: 0, count: 1024)

  var count: Int { hashes.count }

  /// The index of `key`, adding it if new.
  mutating func index(of key: UnsafeRawBufferPointer) -> Int32 {
    let hash = StableHash.fnv1a(key)
    let mask = slots.count - 1
    var slot = Int(truncatingIfNeeded: hash) & mask
    while true {
      let stored = slots[slot]
      if stored == 0 { break }
      let candidate = Int(stored) - 1
      if hashes[candidate] == hash && keyEquals(candidate, key) { return Int32(candidate) }
      slot = (slot + 1) & mask
    }
    let newIndex = hashes.count
    arena.append(contentsOf: key)
    starts.append(arena.count)
    hashes.append(hash)
    slots[slot] = Int32(newIndex + 1)
    if hashes.count * 2 > slots.count { grow() }
    return Int32(newIndex)
  }

  mutating func index(of string: String) -> Int32 {
    var copy = string
    return copy.withUTF8 { index(of: UnsafeRawBufferPointer($0)) }
  }

  func string(at index: Int) -> String {
    arena.withUnsafeBufferPointer { String(decoding: $0[starts[index]..<starts[index + 1]], as: UTF8.self) }
  }

  /// Every key as a String, by index.
  func allStrings() -> [String] { (0..<count).map(string(at:)) }

  private func keyEquals(_ candidate: Int, _ key: UnsafeRawBufferPointer) -> Bool {
    let start = starts[candidate]
    let length = starts[candidate + 1] - start
    if length != key.count { return false }
    return arena.withUnsafeBytes {
      TokenParsing.equal(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)]), key)
    }
  }

  private mutating func grow() {
    let capacity = slots.count * 2
    let mask = capacity - 1
    var grown = [Int32](repeating: 0, count: capacity)
    for (index, hash) in hashes.enumerated() {
      var slot = Int(truncatingIfNeeded: hash) & mask
      while grown[slot] != 0 { slot = (slot + 1) & mask }
      grown[slot] = Int32(index + 1)
    }
    slots = grown
  }
}
