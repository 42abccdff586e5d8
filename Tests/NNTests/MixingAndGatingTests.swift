import Foundation
import Testing

@testable import NN
@testable import TensorCore

/// SoftmaxMixing and GatedMLP: values against direct formulas, finite-difference gradients.
@Suite struct MixingAndGatingTests {
  @Test func softmaxMixingUsesTheSoftmaxOfItsLogits() {
    let mixing = SoftmaxMixing(parameterName: "weights", inputCount: 2)
    #expect(mixing.parameters.map(\.name) == ["weights"])
    #expect(mixing.mixingWeights == [0.5, 0.5])
    mixing.logits.value[0] = 1
    mixing.logits.value[1] = -0.5
    let w = mixing.mixingWeights
    let expected0 = 1 / (1 + exp(Float(-1.5)))
    #expect(abs(w[0] - expected0) < 1e-6 && abs(w[0] + w[1] - 1) < 1e-6)
    let a = randomTensor([3, 4], seed: 1)
    let b = randomTensor([3, 4], seed: 2)
    let (y, _) = mixing.forward([a, b])
    for i in 0..<y.count { #expect(abs(y[i] - (w[0] * a[i] + w[1] * b[i])) < 1e-6) }
  }

  @Test func softmaxMixingGradientsMatchFiniteDifferences() {
    let mixing = SoftmaxMixing(parameterName: "weights", inputCount: 3)
    initialiseRandomly(mixing.parameters, std: 0.8, seed: 3)
    let inputs = (0..<3).map { checkedInput("x\($0)", randomTensor([2, 5], seed: 4 + UInt64($0))) }
    var cache: SoftmaxMixingCache?
    let report = GradCheck.check(
      inputs: inputs, parameters: mixing.parameters,
      forward: {
        let (y, c) = mixing.forward(inputs.map(\.value))
        cache = c
        return y
      },
      backward: { dy in
        for (dx, input) in zip(mixing.backward(dy, cache!), inputs) { accumulate(dx, into: input.grad) }
      })
    expectPassed(report, "SoftmaxMixing")
  }

  @Test func gatedMLPComputesValueTimesGELUGate() {
    let mlp = GatedMLP(valueName: "dense3", gateName: "dense4", outputName: "denseout", size: 3, innerSize: 3)
    #expect(
      mlp.parameters.map(\.name) == [
        "dense3.weight", "dense3.bias", "dense4.weight", "dense4.bias", "denseout.weight", "denseout.bias",
      ])
    initialiseRandomly(mlp.parameters, seed: 8)
    let x = randomTensor([2, 3], seed: 9)
    let (y, _) = mlp.forward(x)
    func linear(_ l: Linear, _ v: [Float]) -> [Float] {
      (0..<l.outputSize).map { o in
        (0..<l.inputSize).reduce(l.bias!.value[o]) { $0 + l.weight.value[o * l.inputSize + $1] * v[$1] }
      }
    }
    for r in 0..<2 {
      let row = Array(x.array[(r * 3)..<(r * 3 + 3)])
      let gate = linear(mlp.gate, row).map { $0 * 0.5 * (1 + erf($0 / Float(2).squareRoot())) }
      let inner = zip(linear(mlp.value, row), gate).map { $0 * $1 }
      let expected = linear(mlp.output, inner)
      for o in 0..<3 { #expect(abs(y[r * 3 + o] - expected[o]) < 1e-5) }
    }
  }

  @Test func gatedMLPGradientsMatchFiniteDifferences() {
    let mlp = GatedMLP(valueName: "v", gateName: "g", outputName: "o", size: 4, innerSize: 5)
    initialiseRandomly(mlp.parameters, seed: 10)
    let x = checkedInput("x", randomTensor([3, 4], seed: 11))
    var cache: GatedMLPCache?
    let report = GradCheck.check(
      inputs: [x], parameters: mlp.parameters,
      forward: {
        let (y, c) = mlp.forward(x.value)
        cache = c
        return y
      },
      backward: { dy in accumulate(mlp.backward(dy, cache!), into: x.grad) })
    expectPassed(report, "GatedMLP")
  }
}
