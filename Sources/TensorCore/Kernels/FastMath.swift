/// Element functions written without library calls or branches, so loops over them vectorise (libm's `expf` is a
/// scalar call that blocks vectorisation; in the BD-LRU coefficient kernel it cost more than the gate GEMM).
///
/// `exp`: Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, degree-7 Taylor polynomial for eʳ (truncation error
/// < 3e−9 relative), 2ⁿ built from bits. Relative error ≤ 4e−7 (a few ulp) against `Float.exp` on [−87, 88]
/// (tested); inputs are clamped to that range, so exp(−∞) gives ≈ 1.6e−38 instead of 0 and exp(+∞) ≈ 1.65e38.
///
/// Each function exists for one `Float` and for eight lanes (`FastMath.Vector`), written once over
/// `FastMathOperand`: the same operations lane by lane (no fused multiply-adds in either), so each lane equals the
/// scalar result bit for bit for every non-NaN input (tested). The eight-lane forms are for kernels whose loops the
/// compiler cannot vectorise by itself, e.g. because an output is written in place over an input.
public enum FastMath {
  public typealias Vector = SIMD8<Float>

  @inlinable @inline(__always)
  public static func exp(_ x: Float) -> Float { exp(operand: x) }
  @inlinable @inline(__always)
  public static func exp(_ x: Vector) -> Vector { exp(operand: x) }

  /// eˣ − 1 without the cancellation of `exp(x) − 1` near 0: eʳ − 1 is the degree-8 Taylor polynomial
  /// r·(1 + r/2 + … + r⁷/8!) and eˣ − 1 = 2ⁿ·(eʳ − 1) + (2ⁿ − 1), exactly the polynomial when |x| ≤ ln2/2 (n = 0).
  /// Relative error ≤ 1e−6 against `Double.expMinusOne` on [−87, 88] (tested); clamped like `exp`, so it is −1
  /// below −87.
  @inlinable @inline(__always)
  public static func expMinusOne(_ x: Float) -> Float { expMinusOne(operand: x) }
  @inlinable @inline(__always)
  public static func expMinusOne(_ x: Vector) -> Vector { expMinusOne(operand: x) }

  /// σ(x) = 1 / (1 + e⁻ˣ).
  @inlinable @inline(__always)
  public static func sigmoid(_ x: Float) -> Float { sigmoid(operand: x) }
  @inlinable @inline(__always)
  public static func sigmoid(_ x: Vector) -> Vector { sigmoid(operand: x) }
  /// For kernel bodies written once over `FastMathOperand`.
  @inlinable @inline(__always)
  public static func sigmoid<V: FastMathOperand>(operand x: V) -> V { 1 / (1 + exp(operand: -x)) }

  /// tanh(x) = 1 − 2 / (e²ˣ + 1): one exp; exactly ±1 at the ends of the clamped range, never NaN.
  @inlinable @inline(__always)
  public static func tanh(_ x: Float) -> Float { tanh(operand: x) }
  @inlinable @inline(__always)
  public static func tanh(_ x: Vector) -> Vector { tanh(operand: x) }
  @inlinable @inline(__always)
  public static func tanh<V: FastMathOperand>(operand x: V) -> V { 1 - 2 / (exp(operand: 2 * x) + 1) }

  /// SiLU(x) = x·σ(x).
  @inlinable @inline(__always)
  public static func silu(_ x: Float) -> Float { x * sigmoid(x) }

  /// SiLU′(x) = σ(x)·(1 + x·(1 − σ(x))).
  @inlinable @inline(__always)
  public static func siluDerivative(_ x: Float) -> Float {
    let s = sigmoid(x)
    return s * (1 + x * (1 - s))
  }

  @inlinable @inline(__always)
  static func exp<V: FastMathOperand>(operand x: V) -> V {
    let (r, twoN) = V.reduce(x)
    var p = r * (1.0 / 5040) + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    return p * twoN
  }

  @inlinable @inline(__always)
  static func expMinusOne<V: FastMathOperand>(operand x: V) -> V {
    let (r, twoN) = V.reduce(x)
    var p = r * (1.0 / 40320) + 1.0 / 5040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    return twoN * (p * r) + (twoN - 1)
  }
}

/// `Float` or eight `Float` lanes: the arithmetic FastMath's functions are written with, the range reduction, and
/// loads and stores, so an elementwise kernel body can be written once and run eight lanes or one at a time.
public protocol FastMathOperand {
  /// x clamped to [−87, 88] = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite, ln2 in two parts), and 2ⁿ built from bits.
  static func reduce(_ x: Self) -> (r: Self, twoN: Self)
  /// The value at `p` (eight floats for a vector, no alignment needed).
  init(loading p: UnsafePointer<Float>)
  /// Writes the value to `p`.
  func store(to p: UnsafeMutablePointer<Float>)
  static var zero: Self { get }
  static prefix func - (x: Self) -> Self
  static func + (lhs: Float, rhs: Self) -> Self
  static func - (lhs: Float, rhs: Self) -> Self
  static func * (lhs: Float, rhs: Self) -> Self
  static func / (lhs: Float, rhs: Self) -> Self
  static func + (lhs: Self, rhs: Self) -> Self
  static func - (lhs: Self, rhs: Self) -> Self
  static func * (lhs: Self, rhs: Self) -> Self
  static func + (lhs: Self, rhs: Float) -> Self
  static func - (lhs: Self, rhs: Float) -> Self
  static func * (lhs: Self, rhs: Float) -> Self
}

extension Float: FastMathOperand {
  @inlinable @inline(__always)
  public static func reduce(_ x: Float) -> (r: Float, twoN: Float) {
    let clamped = Swift.min(Swift.max(x, -87), 88)
    // Round x·log2(e) to the nearest integer with the 1.5·2²³ trick: the integer lands in the low mantissa bits.
    let shifted = clamped * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = (clamped - n * 0.693_145_752) - n * 1.428_606_82e-6
    return (r, Float(bitPattern: ((shifted.bitPattern &- 0x4B40_0000) &+ 127) << 23))
  }

  @inlinable @inline(__always)
  public init(loading p: UnsafePointer<Float>) { self = p.pointee }

  @inlinable @inline(__always)
  public func store(to p: UnsafeMutablePointer<Float>) { p.pointee = self }
}

extension SIMD8: FastMathOperand where Scalar == Float {
  @inlinable @inline(__always)
  public static func reduce(_ x: Self) -> (r: Self, twoN: Self) {
    // Two masked replacements rather than `clamped(lowerBound:upperBound:)`, whose pointwise min and max stay
    // function calls in an optimised build (measured: 5 % of a GLINT-RU training step).
    let low = x.replacing(with: Self(repeating: -87), where: x .< -87)
    let clamped = low.replacing(with: Self(repeating: 88), where: x .> 88)
    let shifted = clamped * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = (clamped - n * 0.693_145_752) - n * 1.428_606_82e-6
    let exponent = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return (r, unsafeBitCast(exponent, to: Self.self))
  }

  /// The eight floats at `p` (no alignment needed).
  @inlinable @inline(__always)
  public init(loading p: UnsafePointer<Float>) { self = UnsafeRawPointer(p).loadUnaligned(as: Self.self) }

  /// Writes the eight lanes to `p` (no alignment needed).
  @inlinable @inline(__always)
  public func store(to p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self)
  }
}
