import Testing

@testable import NN
@testable import TensorCore

/// A tensor of the given shape with entries from U(lo, hi).
func randomTensor(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1, seed: UInt64) -> Tensor {
  var rng = SeededRNG(seed: seed)
  let t = Tensor(zeros: shape)
  t.fillUniform(lo, hi, rng: &rng)
  return t
}

/// A checked input for `GradCheck.check` (value plus a gradient buffer the backward closure accumulates into).
func checkedInput(_ name: String, _ value: Tensor) -> GradCheck.Input {
  GradCheck.Input(name, value: value, grad: Tensor(zeros: value.shape))
}

/// grad += dx (GradCheck expects input gradients to be accumulated like parameter gradients).
func accumulate(_ dx: Tensor, into grad: Tensor) {
  precondition(dx.count == grad.count)
  ElementwiseKernels.add(grad.ptr, grad.ptr, dx.ptr, count: dx.count)
}

/// Every parameter drawn from N(0, std²), seeded.
func initialiseRandomly(_ parameters: [Parameter], std: Float = 0.5, seed: UInt64) {
  var rng = SeededRNG(seed: seed)
  for p in parameters { p.initNormal(std: std, rng: &rng) }
}

/// The check must pass and must have seen a non-zero gradient (an all-zero check proves nothing).
func expectPassed(_ report: GradCheck.Report, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
  #expect(report.passed, "\(what): \(report)", sourceLocation: sourceLocation)
  #expect(report.maxAbsGradient > 0, "\(what): every gradient was zero", sourceLocation: sourceLocation)
}
