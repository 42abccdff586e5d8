import Testing

@testable import NN
@testable import TensorCore

/// Conv1d over packed segments: a naive Double reference of y_t = b + Σ_k W[:, :, k] x_{t+k−left} (zero outside
/// each segment), the one-window form, parameter layout, and finite-difference gradients.
@Suite struct Conv1dTests {
  static let segments = SequenceSegments(lengths: [4, 1, 0, 6])

  static func makeConv(_ padding: Conv1d.Padding, kernelSize: Int = 3, seed: UInt64) -> Conv1d {
    let conv = Conv1d(name: "conv", inputSize: 3, outputSize: 2, kernelSize: kernelSize, padding: padding)
    initialiseRandomly(conv.parameters, seed: seed)
    return conv
  }

  static func naive(_ conv: Conv1d, _ x: Tensor, _ segments: SequenceSegments) -> [Double] {
    let (inp, out, k, left) = (conv.inputSize, conv.outputSize, conv.kernelSize, conv.leftPadding)
    var y = [Double](repeating: 0, count: segments.totalLength * out)
    for b in 0..<segments.count {
      let r = segments.range(b)
      for t in 0..<r.count {
        for o in 0..<out {
          var s = Double(conv.bias.value[o])
          for j in 0..<k {
            let source = t + j - left
            guard source >= 0 && source < r.count else { continue }
            for i in 0..<inp {
              s += Double(conv.weight.value[(o * inp + i) * k + j]) * Double(x[(r.lowerBound + source) * inp + i])
            }
          }
          y[(r.lowerBound + t) * out + o] = s
        }
      }
    }
    return y
  }

  @Test func parametersUsePyTorchNamesAndLayout() {
    let conv = Conv1d(name: "conv1d", inputSize: 4, outputSize: 5, kernelSize: 3, padding: .centered)
    #expect(conv.parameters.map(\.name) == ["conv1d.weight", "conv1d.bias"])
    #expect(conv.parameters.map(\.shape) == [[5, 4, 3], [5]])
    #expect(conv.leftPadding == 1)
    #expect(Conv1d(name: "c", inputSize: 4, outputSize: 5, kernelSize: 3, padding: .causal).leftPadding == 2)
  }

  @Test(arguments: [(Conv1d.Padding.centered, 3), (.centered, 5), (.causal, 3), (.causal, 2)])
  func forwardMatchesNaiveReference(padding: Conv1d.Padding, kernelSize: Int) {
    let conv = Self.makeConv(padding, kernelSize: kernelSize, seed: 1)
    let x = randomTensor([Self.segments.totalLength, 3], seed: 2)
    let (y, _) = conv.forward(x, segments: Self.segments)
    let reference = Self.naive(conv, x, Self.segments)
    let worst = zip(y.array, reference).reduce(0.0) { max($0, abs(Double($1.0) - $1.1)) }
    #expect(worst < 1e-5, "max error \(worst)")
    #expect(y.array.contains { abs($0) > 0.1 })
  }

  @Test(arguments: [Conv1d.Padding.centered, .causal])
  func windowFormGivesTheOutputAtThatPosition(padding: Conv1d.Padding) {
    let conv = Self.makeConv(padding, seed: 3)
    let x = randomTensor([Self.segments.totalLength, 3], seed: 4)
    let (y, _) = conv.forward(x, segments: Self.segments)
    let (k, left) = (conv.kernelSize, conv.leftPadding)
    // One window per position of the last segment.
    let r = Self.segments.range(3)
    let windows = Tensor(zeros: [r.count, k, 3])
    for t in 0..<r.count {
      for j in 0..<k where (0..<r.count).contains(t + j - left) {
        for i in 0..<3 { windows[(t * k + j) * 3 + i] = x[(r.lowerBound + t + j - left) * 3 + i] }
      }
    }
    let (yw, _) = conv.forwardWindows(windows)
    for t in 0..<r.count {
      for o in 0..<2 { #expect(abs(yw[t * 2 + o] - y[(r.lowerBound + t) * 2 + o]) < 1e-5) }
    }
  }

  @Test(arguments: [Conv1d.Padding.centered, .causal])
  func gradientsMatchFiniteDifferences(padding: Conv1d.Padding) {
    let conv = Self.makeConv(padding, seed: 5)
    let x = checkedInput("x", randomTensor([Self.segments.totalLength, 3], seed: 6))
    var cache: Conv1dCache?
    let report = GradCheck.check(
      inputs: [x], parameters: conv.parameters, entriesPerTensor: 40,
      forward: {
        let (y, c) = conv.forward(x.value, segments: Self.segments)
        cache = c
        return y
      },
      backward: { dy in accumulate(conv.backward(dy, cache!), into: x.grad) })
    expectPassed(report, "Conv1d(\(padding))")
  }

  @Test func windowGradientsMatchFiniteDifferences() {
    let conv = Self.makeConv(.centered, seed: 7)
    let windows = checkedInput("windows", randomTensor([4, 3, 3], seed: 8))
    var cache: Conv1dWindowCache?
    let report = GradCheck.check(
      inputs: [windows], parameters: conv.parameters, entriesPerTensor: 36,
      forward: {
        let (y, c) = conv.forwardWindows(windows.value)
        cache = c
        return y
      },
      backward: { dy in accumulate(conv.backwardWindows(dy, cache!), into: windows.grad) })
    expectPassed(report, "Conv1d windows")
  }

  @Test func defaultInitialisationIsUniformWithinTheFanInBound() {
    let conv = Conv1d(name: "c", inputSize: 16, outputSize: 16, kernelSize: 3, padding: .centered)
    var rng = SeededRNG(seed: 9)
    conv.initializeDefault(rng: &rng)
    let bound = 1 / Float(48).squareRoot()
    let values = conv.weight.value.array + conv.bias.value.array
    #expect(values.allSatisfy { abs($0) <= bound })
    #expect(values.contains { abs($0) > 0.9 * bound })
  }
}
