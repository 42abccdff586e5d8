import NN
import TensorCore
import Testing

/// Finite-difference checks of the BD-LRU kernels' backward passes (scan, coefficients, causal conv).
@Suite struct RecurrenceKernelGradientTests {
  static func random(_ shape: [Int], _ lo: Float, _ hi: Float, _ rng: inout SeededRNG) -> Tensor {
    let t = Tensor(zeros: shape)
    t.fillUniform(lo, hi, rng: &rng)
    return t
  }

  static func add(_ source: Tensor, into target: Tensor) {
    for i in 0..<target.count { target[i] += source[i] }
  }

  @Test(arguments: [false, true])
  func scanGradients(withInitialState: Bool) {
    var rng = SeededRNG(seed: 21)
    let (batch, steps, channels) = (2, 5, 3)
    let decay = Self.random([batch, steps, channels], 0.3, 0.95, &rng)
    let input = Self.random([batch, steps, channels], -1, 1, &rng)
    let initial = Self.random([batch, channels], -1, 1, &rng)
    let grads = (Tensor(zeros: decay.shape), Tensor(zeros: input.shape), Tensor(zeros: initial.shape))
    var inputs = [
      GradCheck.Input("decay", value: decay, grad: grads.0), GradCheck.Input("input", value: input, grad: grads.1),
    ]
    if withInitialState { inputs.append(GradCheck.Input("initial", value: initial, grad: grads.2)) }
    let h = Tensor(zeros: decay.shape)
    let report = GradCheck.check(
      inputs: inputs, parameters: [],
      forward: {
        LinearRecurrence.forward(
          h: h.ptr, decay: decay.ptr, input: input.ptr, initial: withInitialState ? initial.ptr : nil, batch: batch,
          steps: steps, channels: channels)
        return h
      },
      backward: { dH in
        let (dDecay, dInput, dInitial) = (
          Tensor(zeros: decay.shape), Tensor(zeros: decay.shape), Tensor(zeros: initial.shape)
        )
        LinearRecurrence.backward(
          dDecay: dDecay.ptr, dInput: dInput.ptr, dInitial: withInitialState ? dInitial.ptr : nil, dH: dH.ptr,
          decay: decay.ptr, h: h.ptr, initial: withInitialState ? initial.ptr : nil, batch: batch, steps: steps,
          channels: channels)
        Self.add(dDecay, into: grads.0)
        Self.add(dInput, into: grads.1)
        Self.add(dInitial, into: grads.2)
      })
    #expect(report.passed, "\(report)")
    #expect(report.maxAbsGradient > 0)
  }

  @Test func coefficientGradients() {
    var rng = SeededRNG(seed: 22)
    let (rows, channels) = (6, 4)
    let logits = Self.random([rows, 2 * channels], -2, 2, &rng)
    let u = Self.random([rows, channels], -1.5, 1.5, &rng)
    let lambda = Parameter(name: "Lambda", shape: [channels])
    lambda.value.fillUniform(-4, 1, rng: &rng)
    let (dLogits, dU) = (Tensor(zeros: logits.shape), Tensor(zeros: u.shape))
    // Output: a and b stacked, [2, rows, H].
    let out = Tensor(zeros: [2, rows, channels])
    let report = GradCheck.check(
      inputs: [GradCheck.Input("logits", value: logits, grad: dLogits), GradCheck.Input("u", value: u, grad: dU)],
      parameters: [lambda],
      forward: {
        BDLRUCoefficients.forward(
          decay: out.ptr, input: out.ptr + rows * channels, recurrenceLogits: logits.ptr,
          inputLogits: logits.ptr + channels, logitStride: 2 * channels, lambda: lambda.value.ptr, u: u.ptr,
          rows: rows, channels: channels)
        return out
      },
      backward: { dOut in
        let (g, gU) = (Tensor(zeros: logits.shape), Tensor(zeros: u.shape))
        BDLRUCoefficients.backward(
          dRecurrenceLogits: g.ptr, dInputLogits: g.ptr + channels, dU: gU.ptr, dLambda: lambda.grad.ptr,
          dDecay: dOut.ptr, dInput: dOut.ptr + rows * channels, recurrenceLogits: logits.ptr,
          inputLogits: logits.ptr + channels, logitStride: 2 * channels, lambda: lambda.value.ptr, u: u.ptr,
          decay: out.ptr, rows: rows, channels: channels)
        Self.add(g, into: dLogits)
        Self.add(gU, into: dU)
      })
    #expect(report.passed, "\(report)")
    #expect(report.maxAbsGradient > 0)
  }

  @Test func convGradients() {
    var rng = SeededRNG(seed: 23)
    let (batch, steps, channels, kernelSize) = (2, 5, 3, 4)
    // x is the first half of a wider [B, T, 2H] projection, as in the layer.
    let x = Self.random([batch, steps, 2 * channels], -1, 1, &rng)
    let dX = Tensor(zeros: x.shape)
    let weight = Parameter(name: "conv1d.weight", shape: [channels, 1, kernelSize])
    let bias = Parameter(name: "conv1d.bias", shape: [channels])
    weight.value.fillUniform(-0.5, 0.5, rng: &rng)
    bias.value.fillUniform(-0.5, 0.5, rng: &rng)
    let y = Tensor(zeros: [batch, steps, channels])
    let report = GradCheck.check(
      inputs: [GradCheck.Input("x", value: x, grad: dX)], parameters: [weight, bias],
      forward: {
        CausalDepthwiseConv.forward(
          y: y.ptr, x: x.ptr, xStride: 2 * channels, weight: weight.value.ptr, bias: bias.value.ptr, batch: batch,
          steps: steps, channels: channels, kernelSize: kernelSize)
        return y
      },
      backward: { dY in
        let g = Tensor(zeros: x.shape)
        CausalDepthwiseConv.backward(
          dX: g.ptr, dWeight: weight.grad.ptr, dBias: bias.grad.ptr, dY: dY.ptr, x: x.ptr, xStride: 2 * channels,
          weight: weight.value.ptr, batch: batch, steps: steps, channels: channels, kernelSize: kernelSize)
        Self.add(g, into: dX)
      })
    #expect(report.passed, "\(report)")
    #expect(report.maxAbsGradient > 0)
  }
}
