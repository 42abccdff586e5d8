import Foundation
import NN
import TensorCore
import Testing

@Suite struct GatedRecurrentLayerTests {
  static func makeLayer(
    d: Int = 4, h: Int = 6, maxLength: Int, padding: GatedRecurrentLayer.Padding = .beforeConv, seed: UInt64
  ) -> GatedRecurrentLayer {
    let layer = GatedRecurrentLayer(
      name: "layer", modelDim: d, stateDim: h, kernelSize: 4, maxLength: maxLength, padding: padding)
    var rng = SeededRNG(seed: seed)
    GatedRecurrentReference.randomize(layer, rng: &rng)
    return layer
  }

  static func randomInput(batch: Int, steps: Int, d: Int, seed: UInt64) -> Tensor {
    var rng = SeededRNG(seed: seed)
    let x = Tensor(zeros: [batch, steps, d])
    x.fillUniform(-1, 1, rng: &rng)
    return x
  }

  @Test func paddingStepsFollowTheNextPowerOfTwo() {
    let cases = [(50, 14), (100, 28), (200, 56), (257, 255), (1000, 24), (64, 0), (20, 12), (5, 3), (1, 0)]
    for (length, expected) in cases {
      #expect(GatedRecurrentLayer.paddingSteps(maxLength: length) == expected, "L = \(length)")
    }
  }

  @Test func initializationFollowsTheOfficialCode() {
    let layer = GatedRecurrentLayer(name: "blr", modelDim: 64, stateDim: 128, maxLength: 200)
    var rng = SeededRNG(seed: 5)
    layer.initialize(rng: &rng)
    #expect(
      layer.parameters.map(\.name) == [
        "blr.input.weight", "blr.conv1d.weight", "blr.conv1d.bias", "blr.gates.weight", "blr.gates.bias", "blr.Lambda",
        "blr.output.weight",
      ])
    #expect(layer.parameterCount == 64 * 256 + 128 * 4 + 128 + 128 * 256 + 256 + 128 + 128 * 64)
    let lambda = layer.lambda.value.array
    // σ(−Λ) runs from 0.9 (channel 0) to 0.999 (channel H−1), Λ evenly spaced.
    #expect(abs(1 / (1 + exp(Double(lambda[0]))) - 0.9) < 1e-6)
    #expect(abs(1 / (1 + exp(Double(lambda[127]))) - 0.999) < 1e-6)
    #expect(abs((lambda[1] - lambda[0]) - (lambda[127] - lambda[126])) < 1e-5)
    #expect(layer.convWeight.value.array.allSatisfy { abs($0) <= 0.5 })
    #expect(layer.convBias.value.array.contains { abs($0) > 0.25 })
    #expect(layer.gateBias.value.array.allSatisfy { $0 == 0 })
    let w = layer.inputWeight.value.array
    let std = (w.map { Double($0 * $0) }.reduce(0, +) / Double(w.count)).squareRoot()
    #expect(abs(std - 0.02) < 0.001)
  }

  /// The batch forward (prefix computed once, shared initial state) equals running every sequence over an
  /// explicit [P zeros + items] main branch, for both padding variants and for T = L and T < L.
  @Test(arguments: [
    (GatedRecurrentLayer.Padding.beforeConv, 5, 5), (.beforeConv, 3, 5), (.beforeConv, 9, 20), (.beforeConv, 4, 4),
    (.beforeRecurrence, 5, 5),
  ])
  func prefixOnceMatchesExplicitPadding(padding: GatedRecurrentLayer.Padding, steps: Int, maxLength: Int) {
    let layer = Self.makeLayer(maxLength: maxLength, padding: padding, seed: 31)
    let x = Self.randomInput(batch: 3, steps: steps, d: 4, seed: 32)
    let y = layer.forward(x).array
    let reference = GatedRecurrentReference.forward(layer, x: x.array, batch: 3, steps: steps)
    var worst = 0.0
    for i in 0..<y.count { worst = max(worst, abs(Double(y[i]) - reference[i]) / max(abs(reference[i]), 1e-2)) }
    #expect(worst < 1e-4, "worst relative error \(worst)")
    #expect(reference.contains { abs($0) > 0.1 })
  }

  /// The code's padding (before the conv) changes the output; the paper's (before the recurrence) does not.
  @Test func paddingVariantsDifferOnlyWhenThePrefixIsNotEmpty() {
    let x = Self.randomInput(batch: 2, steps: 5, d: 4, seed: 33)
    let code = Self.makeLayer(maxLength: 5, padding: .beforeConv, seed: 34)
    let paper = Self.makeLayer(maxLength: 5, padding: .beforeRecurrence, seed: 34)
    let unpadded = Self.makeLayer(maxLength: 8, padding: .beforeConv, seed: 34)
    let (yCode, yPaper, yUnpadded) = (code.forward(x).array, paper.forward(x).array, unpadded.forward(x).array)
    #expect(yPaper == yUnpadded)
    #expect(zip(yCode, yPaper).map { abs($0 - $1) }.max()! > 1e-3)
  }

  @Test(arguments: [
    (GatedRecurrentLayer.Padding.beforeConv, 5, 5), (.beforeConv, 3, 5), (.beforeRecurrence, 5, 5),
  ])
  func gradientsMatchFiniteDifferences(padding: GatedRecurrentLayer.Padding, steps: Int, maxLength: Int) {
    let layer = Self.makeLayer(maxLength: maxLength, padding: padding, seed: 41)
    let x = Self.randomInput(batch: 2, steps: steps, d: 4, seed: 42)
    let dX = Tensor(zeros: x.shape)
    let report = GradCheck.check(
      inputs: [GradCheck.Input("x", value: x, grad: dX)], parameters: layer.parameters, seed: 43,
      forward: { layer.forward(x) },
      backward: { dY in
        let g = layer.backward(dY)
        for i in 0..<dX.count { dX[i] += g[i] }
      })
    #expect(report.passed, "\(report)")
    #expect(report.maxAbsGradient > 0)
    // Every parameter receives gradient (the prefix alone feeds the conv bias, gates and Λ at t = 0).
    for p in layer.parameters { #expect(p.grad.array.contains { $0 != 0 }, "\(p.name) has no gradient") }
  }

  /// Backward accumulates into parameter gradients instead of overwriting them.
  @Test func backwardAccumulatesParameterGradients() {
    let layer = Self.makeLayer(maxLength: 5, seed: 44)
    let x = Self.randomInput(batch: 2, steps: 5, d: 4, seed: 45)
    let dY = Self.randomInput(batch: 2, steps: 5, d: 4, seed: 46)
    layer.zeroGrads()
    _ = layer.forward(x)
    _ = layer.backward(dY)
    let once = layer.parameters.map(\.grad.array)
    _ = layer.forward(x)
    _ = layer.backward(dY)
    for (p, g) in zip(layer.parameters, once) {
      for i in 0..<g.count { #expect(abs(p.grad[i] - 2 * g[i]) <= 1e-5 * max(1, abs(g[i])), "\(p.name)") }
    }
  }

  @Test(arguments: [(GatedRecurrentLayer.Padding.beforeConv, 12), (.beforeConv, 8), (.beforeRecurrence, 12)])
  func streamingStepsMatchTheParallelForward(padding: GatedRecurrentLayer.Padding, maxLength: Int) {
    let (batch, steps, d) = (3, 9, 5)
    let layer = Self.makeLayer(d: d, h: 7, maxLength: maxLength, padding: padding, seed: 51)
    let x = Self.randomInput(batch: batch, steps: steps, d: d, seed: 52)
    let y = layer.forward(x).array
    var worst: Float = 0
    for s in 0..<batch {
      var state = layer.initialState()
      for t in 0..<steps {
        let row = (s * steps + t) * d
        let out = layer.step(Array(x.array[row..<row + d]), state: &state)
        for o in 0..<d { worst = max(worst, abs(out[o] - y[row + o]) / max(abs(y[row + o]), 1e-2)) }
      }
      #expect(state.position == steps)
    }
    #expect(worst < 1e-4, "worst relative error \(worst)")
  }

  @Test func parametersRoundTripThroughSafeTensors() throws {
    let layer = Self.makeLayer(maxLength: 5, seed: 61)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("grl-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try layer.saveParameters(to: url, metadata: ["model": "test"])
    let copy = GatedRecurrentLayer(name: "layer", modelDim: 4, stateDim: 6, maxLength: 5)
    try copy.loadParameters(from: SafeTensorsFile(contentsOf: url), allowingExtraTensors: false)
    for (a, b) in zip(layer.parameters, copy.parameters) { #expect(a.value.array == b.value.array, "\(a.name)") }

    let wider = GatedRecurrentLayer(name: "layer", modelDim: 4, stateDim: 8, maxLength: 5)
    #expect(throws: ParameterFileError.self) { try wider.loadParameters(from: SafeTensorsFile(contentsOf: url)) }
    #expect(wider.inputWeight.value.array.allSatisfy { $0 == 0 }, "a failed load must not modify parameters")
    let renamed = GatedRecurrentLayer(name: "other", modelDim: 4, stateDim: 6, maxLength: 5)
    #expect(throws: ParameterFileError.missing(file: url.path, parameter: "other.input.weight")) {
      try renamed.loadParameters(from: SafeTensorsFile(contentsOf: url))
    }
  }
}
