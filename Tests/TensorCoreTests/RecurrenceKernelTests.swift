import Testing

@testable import TensorCore

/// The BD-LRU kernels against their naive serial references (forward and backward), on shapes with several
/// sequences so the parallel split is exercised.
@Suite struct RecurrenceKernelTests {
  static func random(_ shape: [Int], _ lo: Float, _ hi: Float, _ rng: inout SeededRNG) -> Tensor {
    let t = Tensor(zeros: shape)
    t.fillUniform(lo, hi, rng: &rng)
    return t
  }

  static func expectClose(
    _ a: Tensor, _ b: Tensor, tolerance: Float = 1e-5, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    var worst: (Int, Float) = (-1, 0)
    for i in 0..<a.count {
      let err = abs(a[i] - b[i]) / max(1, abs(b[i]))
      if err > worst.1 { worst = (i, err) }
    }
    #expect(
      worst.1 <= tolerance, "\(what): worst relative error \(worst.1) at \(worst.0)", sourceLocation: sourceLocation)
  }

  @Test(arguments: [false, true])
  func scanMatchesNaiveReference(withInitialState: Bool) {
    var rng = SeededRNG(seed: 11)
    let (batch, steps, channels) = (5, 9, 13)
    let decay = Self.random([batch, steps, channels], 0.2, 0.999, &rng)
    let input = Self.random([batch, steps, channels], -1, 1, &rng)
    let initial = withInitialState ? Self.random([batch, channels], -2, 2, &rng) : nil
    let dH = Self.random([batch, steps, channels], -1, 1, &rng)
    let h = Tensor(zeros: decay.shape)
    let hRef = Tensor(zeros: decay.shape)
    LinearRecurrence.forward(
      h: h.ptr, decay: decay.ptr, input: input.ptr, initial: initial?.ptr, batch: batch, steps: steps,
      channels: channels)
    LinearRecurrence.naiveForward(
      h: hRef.ptr, decay: decay.ptr, input: input.ptr, initial: initial?.ptr, batch: batch, steps: steps,
      channels: channels)
    Self.expectClose(h, hRef, "h")
    // h = 0 everywhere would make the backward check weak.
    #expect(h.array.contains { abs($0) > 0.5 })

    let (dDecay, dInput, dDecayRef, dInputRef) = (
      Tensor(zeros: decay.shape), Tensor(zeros: decay.shape), Tensor(zeros: decay.shape), Tensor(zeros: decay.shape)
    )
    let (dInitial, dInitialRef) = (Tensor(zeros: [batch, channels]), Tensor(zeros: [batch, channels]))
    LinearRecurrence.backward(
      dDecay: dDecay.ptr, dInput: dInput.ptr, dInitial: withInitialState ? dInitial.ptr : nil, dH: dH.ptr,
      decay: decay.ptr, h: h.ptr, initial: initial?.ptr, batch: batch, steps: steps, channels: channels)
    LinearRecurrence.naiveBackward(
      dDecay: dDecayRef.ptr, dInput: dInputRef.ptr, dInitial: withInitialState ? dInitialRef.ptr : nil, dH: dH.ptr,
      decay: decay.ptr, h: hRef.ptr, initial: initial?.ptr, batch: batch, steps: steps, channels: channels)
    Self.expectClose(dDecay, dDecayRef, "∂decay")
    Self.expectClose(dInput, dInputRef, "∂input")
    if withInitialState {
      Self.expectClose(dInitial, dInitialRef, "∂initial")
      #expect(dInitial.array.contains { $0 != 0 })
    }
    // The kernels take raw pointers: keep the storage alive until here.
    withExtendedLifetime((decay, input, initial, dH)) {}
  }

  @Test func scanRunsInPlace() {
    var rng = SeededRNG(seed: 12)
    let (batch, steps, channels) = (3, 6, 8)
    let decay = Self.random([batch, steps, channels], 0.5, 1, &rng)
    let input = Self.random([batch, steps, channels], -1, 1, &rng)
    let expected = Tensor(zeros: input.shape)
    LinearRecurrence.naiveForward(
      h: expected.ptr, decay: decay.ptr, input: input.ptr, initial: nil, batch: batch, steps: steps,
      channels: channels)
    // h aliases the input; ∂input aliases ∂h.
    LinearRecurrence.forward(
      h: input.ptr, decay: decay.ptr, input: input.ptr, initial: nil, batch: batch, steps: steps, channels: channels)
    Self.expectClose(input, expected, "in-place h")
    let g = Self.random(input.shape, -1, 1, &rng)
    let (dDecayRef, dInputRef, dDecay) = (Tensor(zeros: g.shape), Tensor(zeros: g.shape), Tensor(zeros: g.shape))
    LinearRecurrence.naiveBackward(
      dDecay: dDecayRef.ptr, dInput: dInputRef.ptr, dInitial: nil, dH: g.ptr, decay: decay.ptr, h: input.ptr,
      initial: nil, batch: batch, steps: steps, channels: channels)
    LinearRecurrence.backward(
      dDecay: dDecay.ptr, dInput: g.ptr, dInitial: nil, dH: g.ptr, decay: decay.ptr, h: input.ptr, initial: nil,
      batch: batch, steps: steps, channels: channels)
    Self.expectClose(g, dInputRef, "in-place δ")
    Self.expectClose(dDecay, dDecayRef, "∂decay")
    withExtendedLifetime((decay, input)) {}
  }

  @Test func coefficientsMatchNaiveReference() {
    var rng = SeededRNG(seed: 13)
    let (rows, channels) = (300, 10)
    // Logits as the two halves of one [rows, 2H] projection, as the layer stores them.
    let logits = Self.random([rows, 2 * channels], -3, 3, &rng)
    let lambda = Self.random([channels], -7, 1, &rng)
    let u = Self.random([rows, channels], -2, 2, &rng)
    let (decay, input, decayRef, inputRef) = (
      Tensor(zeros: u.shape), Tensor(zeros: u.shape), Tensor(zeros: u.shape), Tensor(zeros: u.shape)
    )
    BDLRUCoefficients.forward(
      decay: decay.ptr, input: input.ptr, recurrenceLogits: logits.ptr, inputLogits: logits.ptr + channels,
      logitStride: 2 * channels, lambda: lambda.ptr, u: u.ptr, rows: rows, channels: channels)
    BDLRUCoefficients.naiveForward(
      decay: decayRef.ptr, input: inputRef.ptr, recurrenceLogits: logits.ptr, inputLogits: logits.ptr + channels,
      logitStride: 2 * channels, lambda: lambda.ptr, u: u.ptr, rows: rows, channels: channels)
    Self.expectClose(decay, decayRef, "a")
    Self.expectClose(input, inputRef, "b")
    #expect(decay.array.allSatisfy { $0 > 0 && $0 < 1 })

    let dDecay = Self.random(u.shape, -1, 1, &rng)
    let dInput = Self.random(u.shape, -1, 1, &rng)
    let (dLogits, dLogitsRef) = (Tensor(zeros: logits.shape), Tensor(zeros: logits.shape))
    let (dU, dURef) = (Tensor(zeros: u.shape), Tensor(zeros: u.shape))
    // ∂Λ accumulates: start both from the same non-zero value.
    let (dLambda, dLambdaRef) = (Tensor(shape: [channels], repeating: 0.5), Tensor(shape: [channels], repeating: 0.5))
    BDLRUCoefficients.backward(
      dRecurrenceLogits: dLogits.ptr, dInputLogits: dLogits.ptr + channels, dU: dU.ptr, dLambda: dLambda.ptr,
      dDecay: dDecay.ptr, dInput: dInput.ptr, recurrenceLogits: logits.ptr, inputLogits: logits.ptr + channels,
      logitStride: 2 * channels, lambda: lambda.ptr, u: u.ptr, decay: decay.ptr, rows: rows, channels: channels)
    BDLRUCoefficients.naiveBackward(
      dRecurrenceLogits: dLogitsRef.ptr, dInputLogits: dLogitsRef.ptr + channels, dU: dURef.ptr,
      dLambda: dLambdaRef.ptr, dDecay: dDecay.ptr, dInput: dInput.ptr, recurrenceLogits: logits.ptr,
      inputLogits: logits.ptr + channels, logitStride: 2 * channels, lambda: lambda.ptr, u: u.ptr, rows: rows,
      channels: channels)
    Self.expectClose(dLogits, dLogitsRef, tolerance: 1e-4, "∂logits")
    Self.expectClose(dU, dURef, tolerance: 1e-4, "∂U")
    Self.expectClose(dLambda, dLambdaRef, tolerance: 1e-4, "∂Λ")
    // ∂U may overwrite ∂a in place (the layer does this).
    let dDecayThenDU = dDecay.copy()
    BDLRUCoefficients.backward(
      dRecurrenceLogits: dLogits.ptr, dInputLogits: dLogits.ptr + channels, dU: dDecayThenDU.ptr,
      dLambda: dLambda.ptr, dDecay: dDecayThenDU.ptr, dInput: dInput.ptr, recurrenceLogits: logits.ptr,
      inputLogits: logits.ptr + channels, logitStride: 2 * channels, lambda: lambda.ptr, u: u.ptr, decay: decay.ptr,
      rows: rows, channels: channels)
    Self.expectClose(dDecayThenDU, dURef, tolerance: 1e-4, "∂U written over ∂a")
    Self.expectClose(dLogits, dLogitsRef, tolerance: 1e-4, "∂logits with ∂U aliasing ∂a")
    withExtendedLifetime((logits, lambda, u, decay, dDecay, dInput)) {}
  }

  @Test(arguments: [(4, 1), (4, 2), (3, 1), (1, 1)])
  func convMatchesNaiveReference(kernelSize: Int, strideFactor: Int) {
    var rng = SeededRNG(seed: 14)
    let (batch, steps, channels) = (4, 7, 9)
    let xStride = channels * strideFactor
    let x = Self.random([batch, steps, xStride], -1, 1, &rng)
    let weight = Self.random([channels, 1, kernelSize], -0.5, 0.5, &rng)
    let bias = Self.random([channels], -0.5, 0.5, &rng)
    let (y, yRef) = (Tensor(zeros: [batch, steps, channels]), Tensor(zeros: [batch, steps, channels]))
    CausalDepthwiseConv.forward(
      y: y.ptr, x: x.ptr, xStride: xStride, weight: weight.ptr, bias: bias.ptr, batch: batch, steps: steps,
      channels: channels, kernelSize: kernelSize)
    CausalDepthwiseConv.naiveForward(
      y: yRef.ptr, x: x.ptr, xStride: xStride, weight: weight.ptr, bias: bias.ptr, batch: batch, steps: steps,
      channels: channels, kernelSize: kernelSize)
    Self.expectClose(y, yRef, "y")

    let dY = Self.random(y.shape, -1, 1, &rng)
    let (dX, dXRef) = (Tensor(shape: x.shape, repeating: 9), Tensor(shape: x.shape, repeating: 9))
    let (dW, dWRef) = (Tensor(shape: weight.shape, repeating: 1), Tensor(shape: weight.shape, repeating: 1))
    let (dB, dBRef) = (Tensor(shape: bias.shape, repeating: -1), Tensor(shape: bias.shape, repeating: -1))
    CausalDepthwiseConv.backward(
      dX: dX.ptr, dWeight: dW.ptr, dBias: dB.ptr, dY: dY.ptr, x: x.ptr, xStride: xStride, weight: weight.ptr,
      batch: batch, steps: steps, channels: channels, kernelSize: kernelSize)
    CausalDepthwiseConv.naiveBackward(
      dX: dXRef.ptr, dWeight: dWRef.ptr, dBias: dBRef.ptr, dY: dY.ptr, x: x.ptr, xStride: xStride,
      weight: weight.ptr, batch: batch, steps: steps, channels: channels, kernelSize: kernelSize)
    Self.expectClose(dX, dXRef, "∂x")
    Self.expectClose(dW, dWRef, "∂weight")
    Self.expectClose(dB, dBRef, "∂bias")
    withExtendedLifetime((x, weight, bias, dY)) {}
  }

  @Test func convUsesThePyTorchTapOrder() {
    // One channel, K = 4, x = [1, 10, 100, 1000]: y_t = Σ_k w_k x_{t−3+k}; w_3 multiplies the current step.
    let x = Tensor(shape: [1, 4, 1], values: [1, 10, 100, 1000])
    let weight = Tensor(shape: [1, 1, 4], values: [1, 2, 3, 4])
    let bias = Tensor(shape: [1], values: [0.5])
    let y = Tensor(zeros: [1, 4, 1])
    CausalDepthwiseConv.forward(
      y: y.ptr, x: x.ptr, xStride: 1, weight: weight.ptr, bias: bias.ptr, batch: 1, steps: 4, channels: 1,
      kernelSize: 4)
    #expect(y.array == [4.5, 43.5, 432.5, 4321.5])
    withExtendedLifetime((x, weight, bias)) {}
  }
}
