/// Seeded pseudo-random numbers: xoshiro256** seeded through SplitMix64. The same seed gives the same numbers
/// on every platform.
public struct SeededRNG: RandomNumberGenerator, Sendable, Codable, Equatable {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  public init(seed: UInt64) {
    var sm = seed
    func splitmix(_ x: inout UInt64) -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitmix(&sm)
    s1 = splitmix(&sm)
    s2 = splitmix(&sm)
    s3 = splitmix(&sm)
  }

  @inlinable static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  public mutating func next() -> UInt64 {
    let result = SeededRNG.rotl(s1 &* 5, 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = SeededRNG.rotl(s3, 45)
    return result
  }

  /// Uniform in [0, 1).
  public mutating func nextFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }
  /// Uniform in [0, 1) with 53 bits.
  public mutating func nextDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }
  /// Uniform in [lo, hi).
  public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * nextFloat() }
  /// Standard normal (Box–Muller, computed in Double).
  public mutating func normal() -> Float {
    var u1 = nextDouble()
    while u1 <= 0 { u1 = nextDouble() }
    let u2 = nextDouble()
    return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
  }
  /// Integer uniform in 0..<n.
  public mutating func int(below n: Int) -> Int { Int(next(upperBound: UInt64(n))) }
  /// A new independent generator (for per-thread streams).
  public mutating func split() -> SeededRNG { SeededRNG(seed: next()) }
}

@usableFromInline func _log(_ x: Double) -> Double { x.logValue }
@usableFromInline func _cos(_ x: Double) -> Double { x.cosValue }

extension Tensor {
  /// Fills with N(mean, std²).
  public func fillNormal(mean: Float = 0, std: Float, rng: inout SeededRNG) {
    for i in 0..<count { ptr[i] = mean + std * rng.normal() }
  }
  /// Fills with U(lo, hi).
  public func fillUniform(_ lo: Float, _ hi: Float, rng: inout SeededRNG) {
    for i in 0..<count { ptr[i] = rng.uniform(lo, hi) }
  }
}
