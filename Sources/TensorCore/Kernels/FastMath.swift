/// Element functions written without library calls or branches, so loops over them vectorise (libm's `expf` is a
/// scalar call that blocks vectorisation; in the BD-LRU coefficient kernel it cost more than the gate GEMM).
///
/// `exp`: Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, degree-7 Taylor polynomial for eʳ (truncation error
/// < 3e−9 relative), 2ⁿ built from bits. Relative error ≤ 4e−7 (a few ulp) against `Float.exp` on [−87, 88]
/// (tested); inputs are clamped to that range, so exp(−∞) gives ≈ 1.6e−38 instead of 0 and exp(+∞) ≈ 1.65e38.
public enum FastMath {
  @inlinable @inline(__always)
  public static func exp(_ x: Float) -> Float {
    let clamped = Swift.min(Swift.max(x, -87), 88)
    // Round x·log2(e) to the nearest integer with the 1.5·2²³ trick: the integer lands in the low mantissa bits.
    let shifted = clamped * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = (clamped - n * 0.693_145_752) - n * 1.428_606_82e-6
    var p: Float = 1.0 / 5040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let exponent = (shifted.bitPattern &- 0x4B40_0000) &+ 127
    return p * Float(bitPattern: exponent << 23)
  }

  /// σ(x) = 1 / (1 + e⁻ˣ).
  @inlinable @inline(__always)
  public static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

  /// tanh(x) = 1 − 2 / (e²ˣ + 1): one exp; exactly ±1 at the ends of the clamped range, never NaN.
  @inlinable @inline(__always)
  public static func tanh(_ x: Float) -> Float { 1 - 2 / (exp(2 * x) + 1) }

  /// SiLU(x) = x·σ(x).
  @inlinable @inline(__always)
  public static func silu(_ x: Float) -> Float { x * sigmoid(x) }

  /// SiLU′(x) = σ(x)·(1 + x·(1 − σ(x))).
  @inlinable @inline(__always)
  public static func siluDerivative(_ x: Float) -> Float {
    let s = sigmoid(x)
    return s * (1 + x * (1 - s))
  }
}
