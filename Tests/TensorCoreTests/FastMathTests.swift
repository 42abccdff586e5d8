import RealModule
import Testing

@testable import TensorCore

/// FastMath against RealModule's correctly rounded-ish libm functions, over the whole clamped range.
@Suite struct FastMathTests {
  @Test func expIsWithinAFewUlpOfTheLibraryExp() {
    var worst: Double = 0
    var x: Float = -87
    while x <= 88 {
      let exact = Double.exp(Double(x))
      worst = max(worst, abs(Double(FastMath.exp(x)) - exact) / exact)
      x += 0.001_37
    }
    #expect(worst < 4e-7, "worst relative error \(worst)")
    #expect(FastMath.exp(0) == 1)
    // Clamped, finite and positive outside the range.
    #expect(FastMath.exp(-1000) > 0 && FastMath.exp(-1000) < 1e-37)
    #expect(FastMath.exp(1000).isFinite && FastMath.exp(1000) > 1e38)
  }

  @Test func activationsMatchTheirDefinitions() {
    var rng = SeededRNG(seed: 81)
    for _ in 0..<10_000 {
      let x = rng.uniform(-30, 30)
      let s = 1 / (1 + Double.exp(-Double(x)))
      #expect(abs(Double(FastMath.sigmoid(x)) - s) <= 1e-6 * max(s, 1e-3))
      #expect(abs(Double(FastMath.silu(x)) - Double(x) * s) <= 1e-6 * max(abs(Double(x) * s), 1e-3))
      let d = s * (1 + Double(x) * (1 - s))
      #expect(abs(Double(FastMath.siluDerivative(x)) - d) <= 2e-6 * max(abs(d), 1e-2))
      #expect(abs(Double(FastMath.tanh(x)) - Double.tanh(Double(x))) <= 1e-6)
    }
    #expect(FastMath.sigmoid(-200) >= 0 && FastMath.sigmoid(200) == 1)
    #expect(FastMath.tanh(-200) == -1 && FastMath.tanh(200) == 1 && FastMath.tanh(0) == 0)
  }
}
