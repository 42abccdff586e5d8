import TensorCore

/// The (sequence, position) a row of an activation tensor belongs to: what a `PositionalDropout` mask is keyed by.
public struct TokenPosition: Sendable, Equatable {
  public var row: Int32
  public var position: Int32

  public init(row: Int, position: Int) {
    self.row = Int32(row)
    self.position = Int32(position)
  }

  /// Every position of `rows` sequences of `length` steps, row-major (the [rows, length, features] layout).
  public static func grid(rows: Int, length: Int) -> [TokenPosition] {
    var out: [TokenPosition] = []
    out.reserveCapacity(rows * length)
    for b in 0..<rows {
      for t in 0..<length { out.append(TokenPosition(row: b, position: t)) }
    }
    return out
  }
}

/// Inverted dropout (as `Dropout`: drop with probability p, scale survivors by 1/(1−p)) whose mask for a token is a
/// pure function of (seed, site, row, position). Two computations that hold the same token in different places (a
/// full-length forward and a shortcut that computes only some positions, or a packed and a padded layout) therefore
/// drop exactly the same features of it, and only the positions actually computed cost random numbers.
///
/// Each token's mask comes from its own `SeededRNG`, seeded by hashing (seed, site, row, position); `site` tells the
/// dropout layers of one model apart.
public final class PositionalDropout: ParameterContainer {
  public let probability: Float
  public let site: UInt64

  public init(probability: Float, site: UInt64) {
    precondition((0...1).contains(probability), "dropout probability \(probability) is outside [0, 1]")
    self.probability = probability
    self.site = site
  }

  public var parameters: [Parameter] { [] }

  public func isActive(training: Bool) -> Bool { training && probability > 0 }

  /// x [tokens.count, features] → x ⊙ mask (a new tensor); the identity (a copy) when inactive.
  public func forward(_ x: Tensor, at tokens: [TokenPosition], seed: UInt64, training: Bool) -> (
    Tensor, DropoutCache
  ) {
    guard isActive(training: training) else { return (x.copy(), DropoutCache(mask: nil)) }
    precondition(
      !tokens.isEmpty || x.count == 0, "PositionalDropout: \(x.shape) input needs one position per row")
    let features = tokens.isEmpty ? 0 : x.count / tokens.count
    precondition(
      features * tokens.count == x.count, "PositionalDropout: \(x.shape) input for \(tokens.count) positions")
    let mask = Tensor(zeros: x.shape)
    let y = Tensor(zeros: x.shape)
    let (p, keepScale) = (probability, probability < 1 ? 1 / (1 - probability) : 0)
    let (m, yp, xp) = (mask.ptr, y.ptr, x.ptr)
    let site = self.site
    tokens.withUnsafeBufferPointer { tokens in
      Parallel.forEachChunk(tokens.count, minPerThread: max(1, 4096 / max(features, 1))) { range in
        for i in range {
          var rng = SeededRNG(seed: Self.tokenSeed(seed, site: site, tokens[i]))
          let (mi, yi, xi) = (m + i * features, yp + i * features, xp + i * features)
          for c in 0..<features {
            mi[c] = rng.nextFloat() < p ? 0 : keepScale
            yi[c] = xi[c] * mi[c]
          }
        }
      }
    }
    return (y, DropoutCache(mask: mask))
  }

  /// dx = dy ⊙ mask (a copy of dy when the forward was the identity).
  public func backward(_ dy: Tensor, _ cache: DropoutCache) -> Tensor {
    guard let mask = cache.mask else { return dy.copy() }
    precondition(mask.count == dy.count, "PositionalDropout backward: dy \(dy.shape) for mask \(mask.shape)")
    let dx = Tensor(zeros: dy.shape)
    ElementwiseKernels.multiply(dx.ptr, dy.ptr, mask.ptr, count: dy.count)
    return dx
  }

  /// The seed of one token's mask stream (SplitMix64 finaliser over the combined key).
  static func tokenSeed(_ seed: UInt64, site: UInt64, _ token: TokenPosition) -> UInt64 {
    var h = mix(seed ^ (site &* 0x9E37_79B9_7F4A_7C15))
    h = mix(h ^ (UInt64(UInt32(bitPattern: token.row)) << 32 | UInt64(UInt32(bitPattern: token.position))))
    return h
  }

  private static func mix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
