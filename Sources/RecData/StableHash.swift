/// Deterministic 64-bit hashes (Swift's `Hasher` is seeded per process, so it cannot key files on disk).
/// Not cryptographic: they detect changed files and corrupt caches, they do not resist an adversary.
public enum StableHash {
  private static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
  private static let fnvPrime: UInt64 = 0x0000_0100_0000_01b3

  /// FNV-1a over the bytes: short keys (ids, strings).
  @inline(__always)
  public static func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var hash = fnvOffset
    for byte in bytes {
      hash ^= UInt64(byte)
      hash = hash &* fnvPrime
    }
    return hash
  }

  public static func fnv1a(_ string: String) -> UInt64 {
    var copy = string
    return copy.withUTF8 { fnv1a(UnsafeRawBufferPointer($0)) }
  }

  /// A fast hash of a whole file's content: four independent multiply-rotate lanes over 8-byte words, the tail
  /// and the length folded in, then a final avalanche.
  public static func content(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
    var lanes: (UInt64, UInt64, UInt64, UInt64) = (1, 2, 3, 4)
    let wordCount = bytes.count / 8
    var index = 0
    while index + 4 <= wordCount {
      let base = index * 8
      lanes.0 = mixLane(lanes.0, bytes.loadUnaligned(fromByteOffset: base, as: UInt64.self), multiplier)
      lanes.1 = mixLane(lanes.1, bytes.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self), multiplier)
      lanes.2 = mixLane(lanes.2, bytes.loadUnaligned(fromByteOffset: base + 16, as: UInt64.self), multiplier)
      lanes.3 = mixLane(lanes.3, bytes.loadUnaligned(fromByteOffset: base + 24, as: UInt64.self), multiplier)
      index += 4
    }
    var hash = lanes.0 ^ rotate(lanes.1, 17) ^ rotate(lanes.2, 31) ^ rotate(lanes.3, 47)
    let tail = UnsafeRawBufferPointer(rebasing: bytes[(index * 8)...])
    hash = mixLane(hash, fnv1a(tail), multiplier)
    hash = mixLane(hash, UInt64(bytes.count), multiplier)
    return avalanche(hash)
  }

  /// Lower-case hexadecimal, 16 digits.
  public static func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }

  @inline(__always)
  private static func mixLane(_ lane: UInt64, _ word: UInt64, _ multiplier: UInt64) -> UInt64 {
    rotate((lane ^ word) &* multiplier, 29) &+ word
  }

  @inline(__always)
  private static func rotate(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

  private static func avalanche(_ x: UInt64) -> UInt64 {
    var h = x
    h ^= h >> 33
    h = h &* 0xff51_afd7_ed55_8ccd
    h ^= h >> 33
    h = h &* 0xc4ce_b9fe_1a85_ec53
    h ^= h >> 33
    return h
  }
}
