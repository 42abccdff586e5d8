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

  @Test func expMinusOneKeepsItsRelativeAccuracyNearZero() {
    var worst: Double = 0
    var inputs: [Float] = []
    var x: Float = -87
    while x <= 88 {
      inputs.append(x)
      x += 0.001_37
    }
    var tiny: Float = 1e-30
    while tiny < 1 {
      inputs += [tiny, -tiny]
      tiny *= 1.7
    }
    for x in inputs where x != 0 {
      let exact = Double.expMinusOne(Double(x))
      worst = max(worst, abs(Double(FastMath.expMinusOne(x)) - exact) / abs(exact))
    }
    #expect(worst < 1e-6, "worst relative error \(worst)")
    #expect(FastMath.expMinusOne(0) == 0 && FastMath.expMinusOne(-1000) == -1)
    #expect(FastMath.expMinusOne(1000).isFinite)
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

  /// The eight-lane functions give every lane exactly the scalar function's bits, across and beyond the clamped
  /// range (so kernels may mix the two bodies).
  @Test func eightLaneFunctionsEqualTheScalarOnesBitForBit() {
    var rng = SeededRNG(seed: 82)
    var inputs: [Float] = [0, -0.0, 1, -1, -87, 88, -1000, 1000, .leastNormalMagnitude, -.greatestFiniteMagnitude]
    for _ in 0..<20_000 { inputs.append(rng.uniform(-100, 100)) }
    for _ in 0..<4_000 { inputs.append(rng.uniform(-1, 1) * 1e-3) }
    while inputs.count % 8 != 0 { inputs.append(rng.uniform(-5, 5)) }
    var mismatches = 0
    for start in stride(from: 0, to: inputs.count, by: 8) {
      let lanes = inputs.withUnsafeBufferPointer { FastMath.Vector(loading: $0.baseAddress! + start) }
      let (e, s, t) = (FastMath.exp(lanes), FastMath.sigmoid(lanes), FastMath.tanh(lanes))
      let m = FastMath.expMinusOne(lanes)
      for i in 0..<8 {
        let x = lanes[i]
        if e[i].bitPattern != FastMath.exp(x).bitPattern || s[i].bitPattern != FastMath.sigmoid(x).bitPattern
          || t[i].bitPattern != FastMath.tanh(x).bitPattern || m[i].bitPattern != FastMath.expMinusOne(x).bitPattern
        {
          mismatches += 1
        }
      }
    }
    #expect(mismatches == 0, "\(mismatches) of \(inputs.count) inputs differ")
  }

  @Test func eightLaneLoadAndStoreWorkAtAnyOffset() {
    var buffer = (0..<19).map(Float.init)
    buffer.withUnsafeMutableBufferPointer { b in
      let lanes = FastMath.Vector(loading: b.baseAddress! + 3)
      #expect(lanes == FastMath.Vector(3, 4, 5, 6, 7, 8, 9, 10))
      (lanes * 2).store(to: b.baseAddress! + 11)
    }
    #expect(Array(buffer[11..<19]) == [6, 8, 10, 12, 14, 16, 18, 20])
    #expect(Array(buffer[0..<11]) == (0..<11).map(Float.init))
  }
}
