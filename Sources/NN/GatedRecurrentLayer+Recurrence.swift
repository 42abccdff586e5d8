import TensorCore

extension GatedRecurrentLayer {
  // MARK: - Prefix (the P padded steps, computed once)

  /// Activations of the P padded steps (all rows identical across the batch), kept for backward.
  struct Prefix {
    let steps: Int
    let convOut: Tensor  // [P, H]
    let activated: Tensor  // [P, H]
    let gateLogits: Tensor  // [P, 2H]
    let decay: Tensor  // [P, H]
    let state: Tensor  // [P, H]
    /// h_init [H]: the state after the last padded step.
    var finalState: Tensor { state.rows(steps - 1..<steps).reshaped([state.shape[1]]) }
  }

  /// Runs the P zero steps through conv, gates and scan (nil when the padding has no effect).
  func computePrefix() -> Prefix? {
    guard padding == .beforeConv, paddingSteps > 0 else { return nil }
    let (p, h) = (paddingSteps, stateDim)
    let prefix = Prefix(
      steps: p, convOut: Tensor(zeros: [p, h]), activated: Tensor(zeros: [p, h]),
      gateLogits: Tensor(zeros: [p, 2 * h]), decay: Tensor(zeros: [p, h]), state: Tensor(zeros: [p, h]))
    forwardCore(
      projection: Tensor(zeros: [p, h]), convOut: prefix.convOut, activated: prefix.activated,
      gateLogits: prefix.gateLogits, decay: prefix.decay, state: prefix.state, initial: nil, batch: 1, steps: p)
    return prefix
  }

  /// Backward through the prefix given ∂h_init [H]; accumulates parameter gradients.
  func backwardPrefix(_ prefix: Prefix, dFinalState: UnsafePointer<Float>) {
    let (p, h) = (prefix.steps, stateDim)
    let dState = Tensor(zeros: [p, h])
    (dState.ptr + (p - 1) * h).update(from: dFinalState, count: h)
    // The padded inputs are constant zeros: ∂(main branch) is computed and dropped.
    backwardCore(
      dProjection: Tensor(zeros: [p, h]), dInitial: nil, dState: dState,
      dDecay: Tensor(zeros: [p, h]), dGateLogits: Tensor(zeros: [p, 2 * h]),
      projection: Tensor(zeros: [p, h]), convOut: prefix.convOut, activated: prefix.activated,
      gateLogits: prefix.gateLogits, decay: prefix.decay, state: prefix.state, initial: nil, batch: 1, steps: p)
  }

  // MARK: - Core: conv → SiLU → gates → coefficients → scan (shared by the batch and the prefix)

  /// From the projected main branch (the first H columns of `projection` [B·T, ≥H]) to the state h [B·T, H],
  /// starting from `initial` [B, H] (or zeros).
  func forwardCore(
    projection: Tensor, convOut: Tensor, activated: Tensor, gateLogits: Tensor,
    decay: Tensor, state: Tensor, initial: Tensor?, batch: Int, steps: Int
  ) {
    let (h, rows) = (stateDim, batch * steps)
    CausalDepthwiseConv.forward(
      y: convOut.ptr, x: projection.ptr, xStride: projection.matrixShape.1, weight: convWeight.value.ptr,
      bias: convBias.value.ptr,
      batch: batch, steps: steps, channels: h, kernelSize: kernelSize)
    ActivationKernels.siluForward(activated.ptr, convOut.ptr, count: rows * h)
    ElementwiseKernels.broadcastRow(gateLogits.ptr, gateBias.value.ptr, rows: rows, cols: 2 * h)
    BLAS.gemm(
      transA: false, transB: true, m: rows, n: 2 * h, k: h, a: activated.ptr, lda: h,
      b: gateWeight.value.ptr, ldb: h, beta: 1, c: gateLogits.ptr, ldc: 2 * h)
    // b is written into `state`, and the scan then runs in place.
    BDLRUCoefficients.forward(
      decay: decay.ptr, input: state.ptr, recurrenceLogits: gateLogits.ptr, inputLogits: gateLogits.ptr + h,
      logitStride: 2 * h, lambda: lambda.value.ptr, u: activated.ptr, rows: rows, channels: h)
    LinearRecurrence.forward(
      h: state.ptr, decay: decay.ptr, input: state.ptr, initial: initial?.ptr, batch: batch, steps: steps, channels: h)
  }

  /// Mirror of `forwardCore`: from ∂h (consumed; overwritten with ∂b) to ∂(main branch) (the first H columns of
  /// `dProjection`, written), ∂initial (written) and the parameter gradients (accumulated).
  func backwardCore(
    dProjection: Tensor, dInitial: Tensor?, dState: Tensor, dDecay: Tensor, dGateLogits: Tensor,
    projection: Tensor, convOut: Tensor, activated: Tensor, gateLogits: Tensor,
    decay: Tensor, state: Tensor, initial: Tensor?, batch: Int, steps: Int
  ) {
    let (h, rows) = (stateDim, batch * steps)
    LinearRecurrence.backward(
      dDecay: dDecay.ptr, dInput: dState.ptr, dInitial: dInitial?.ptr, dH: dState.ptr, decay: decay.ptr,
      h: state.ptr, initial: initial?.ptr, batch: batch, steps: steps, channels: h)
    // ∂U is written over ∂a (allowed by the kernel); dDecay then holds ∂U.
    let dActivated = dDecay
    BDLRUCoefficients.backward(
      dRecurrenceLogits: dGateLogits.ptr, dInputLogits: dGateLogits.ptr + h, dU: dActivated.ptr,
      dLambda: lambda.grad.ptr, dDecay: dDecay.ptr, dInput: dState.ptr, recurrenceLogits: gateLogits.ptr,
      inputLogits: gateLogits.ptr + h, logitStride: 2 * h, lambda: lambda.value.ptr, u: activated.ptr,
      decay: decay.ptr, rows: rows, channels: h)
    ReductionKernels.accumulateColumnSumsInParallel(gateBias.grad.ptr, dGateLogits.ptr, rows: rows, cols: 2 * h)
    BLAS.gemm(
      transA: true, transB: false, m: 2 * h, n: h, k: rows, a: dGateLogits.ptr, lda: 2 * h,
      b: activated.ptr, ldb: h, beta: 1, c: gateWeight.grad.ptr, ldc: h)
    BLAS.gemm(
      transA: false, transB: false, m: rows, n: h, k: 2 * h, a: dGateLogits.ptr, lda: 2 * h,
      b: gateWeight.value.ptr, ldb: h, beta: 1, c: dActivated.ptr, ldc: h)
    // ∂(conv output), in place.
    ActivationKernels.siluBackward(dActivated.ptr, x: convOut.ptr, dy: dActivated.ptr, count: rows * h)
    CausalDepthwiseConv.backward(
      dX: dProjection.ptr, dWeight: convWeight.grad.ptr, dBias: convBias.grad.ptr, dY: dActivated.ptr,
      x: projection.ptr, xStride: projection.matrixShape.1, weight: convWeight.value.ptr,
      batch: batch, steps: steps, channels: h, kernelSize: kernelSize)
  }
}
