import RealModule
import TensorCore

/// RecBLR's gated recurrent layer ("behavior modeling", spec §1.4), on x [B, T, d] → [B, T, d]:
///
///     [X_x | Z] = x·W_inᵀ                      (main branch, gate branch; each H wide)
///     U = SiLU(causalDepthwiseConv(X_x))       (kernel K, bias; zero history)
///     [ρ | ι] = U·W_gᵀ + b_g
///     a = exp(−softplus(Λ)·σ(ρ)),  b = sqrt(1 − a² + 1e−8)·σ(ι)·U
///     h_t = a_t·h_{t−1} + b_t,  h_{−1} = h_init
///     y = (SiLU(Z) ⊙ h)·W_outᵀ
///
/// Embedding padding (spec §1.6): the official code prepends P = nextPow2(L) − L zero steps to the main branch
/// *before* the conv, so the padded steps carry SiLU(conv bias) into the state. Those P steps are identical for
/// every sequence, so they are computed once per batch (`Prefix`): their final state is h_init, where every
/// sequence's scan starts, and the conv history they leave is all zeros. In backward, ∂h_init is summed over the
/// batch and sent back through the prefix once. With `.beforeRecurrence` (the paper's text) the padding is a no-op
/// and h_init = 0.
///
/// Buffers are owned by the layer: `forward` returns a tensor that the next `forward` overwrites, and `backward`
/// uses the caches of the last `forward` (whose input must not be modified in between).
public final class GatedRecurrentLayer: ParameterContainer {
  public enum Padding: String, Sendable, CaseIterable {
    /// Official code: P zero steps prepended to the main branch before the conv (a learned constant prefix).
    case beforeConv
    /// Paper text: P zero steps right before the recurrence (no effect on the output).
    case beforeRecurrence
  }

  public let modelDim: Int
  public let stateDim: Int
  public let kernelSize: Int
  /// L, the model's fixed sequence length (it sets P, not the batch).
  public let maxLength: Int
  /// P = nextPow2(L) − L.
  public let paddingSteps: Int
  public let padding: Padding

  /// W_in [2H, d] (PyTorch [out, in]): rows 0..<H give the main branch, rows H..<2H the gate branch.
  public let inputWeight: Parameter
  /// Depthwise conv weight [H, 1, K]; tap K−1 multiplies the current step.
  public let convWeight: Parameter
  public let convBias: Parameter
  /// W_g [2H, H]: rows 0..<H give the recurrence-gate logits, rows H..<2H the input-gate logits.
  public let gateWeight: Parameter
  public let gateBias: Parameter
  /// Λ [H]: the per-channel decay rate is softplus(Λ).
  public let lambda: Parameter
  /// W_out [d, H].
  public let outputWeight: Parameter

  public var parameters: [Parameter] {
    [inputWeight, convWeight, convBias, gateWeight, gateBias, lambda, outputWeight]
  }

  /// Parameter names are `\(name).input.weight`, `.conv1d.weight`, `.conv1d.bias`, `.gates.weight`, `.gates.bias`,
  /// `.Lambda`, `.output.weight` (the official names).
  public init(
    name: String, modelDim: Int, stateDim: Int, kernelSize: Int = 4, maxLength: Int, padding: Padding = .beforeConv
  ) {
    precondition(modelDim > 0 && stateDim > 0 && kernelSize > 0 && maxLength > 0, "layer sizes must be positive")
    self.modelDim = modelDim
    self.stateDim = stateDim
    self.kernelSize = kernelSize
    self.maxLength = maxLength
    self.paddingSteps = Self.paddingSteps(maxLength: maxLength)
    self.padding = padding
    let (d, h) = (modelDim, stateDim)
    inputWeight = Parameter(name: "\(name).input.weight", shape: [2 * h, d])
    convWeight = Parameter(name: "\(name).conv1d.weight", shape: [h, 1, kernelSize])
    convBias = Parameter(name: "\(name).conv1d.bias", shape: [h])
    gateWeight = Parameter(name: "\(name).gates.weight", shape: [2 * h, h])
    gateBias = Parameter(name: "\(name).gates.bias", shape: [2 * h])
    lambda = Parameter(name: "\(name).Lambda", shape: [h])
    outputWeight = Parameter(name: "\(name).output.weight", shape: [d, h])
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients and activation buffers.
  public init(replicaOf other: GatedRecurrentLayer) {
    modelDim = other.modelDim
    stateDim = other.stateDim
    kernelSize = other.kernelSize
    maxLength = other.maxLength
    paddingSteps = other.paddingSteps
    padding = other.padding
    inputWeight = Parameter(sharing: other.inputWeight)
    convWeight = Parameter(sharing: other.convWeight)
    convBias = Parameter(sharing: other.convBias)
    gateWeight = Parameter(sharing: other.gateWeight)
    gateBias = Parameter(sharing: other.gateBias)
    lambda = Parameter(sharing: other.lambda)
    outputWeight = Parameter(sharing: other.outputWeight)
  }

  /// P = 2^⌈log₂ L⌉ − L (0 when L is a power of two).
  public static func paddingSteps(maxLength: Int) -> Int {
    var p = 1
    while p < maxLength { p <<= 1 }
    return p - maxLength
  }

  /// Official initialisation (spec §1.7): linear weights N(0, 0.02²), gate bias 0, conv weight and bias
  /// U(−1/√K, 1/√K) (PyTorch's default; ±0.5 for K = 4), Λ = linspace(−ln 9, −ln 999, H).
  public func initialize(rng: inout SeededRNG) {
    inputWeight.value.fillNormal(std: 0.02, rng: &rng)
    let bound = 1 / Float(kernelSize).squareRoot()
    convWeight.value.fillUniform(-bound, bound, rng: &rng)
    convBias.value.fillUniform(-bound, bound, rng: &rng)
    gateWeight.value.fillNormal(std: 0.02, rng: &rng)
    gateBias.value.zero()
    outputWeight.value.fillNormal(std: 0.02, rng: &rng)
    let (first, last) = (-Double.log(9), -Double.log(999))
    for j in 0..<stateDim {
      let fraction = stateDim > 1 ? Double(j) / Double(stateDim - 1) : 0
      lambda.value[j] = Float(first + (last - first) * fraction)
    }
  }

  // MARK: - Batch forward / backward

  /// Activations of the last forward (what backward needs): views into `activationSlab`, which grows to the largest
  /// B·T seen and is then reused (micro-batches of windows change T nearly every call; fresh zero-filled buffers
  /// cost more than the recurrence itself).
  struct Activations {
    let batch: Int
    let steps: Int
    let projection: Tensor  // [B·T, 2H]: main branch X_x | gate branch Z
    let convOut: Tensor  // [B·T, H]: conv output before SiLU
    let activated: Tensor  // [B·T, H]: U = SiLU(convOut)
    let gateLogits: Tensor  // [B·T, 2H]: ρ | ι
    let decay: Tensor  // [B·T, H]: a
    let state: Tensor  // [B·T, H]: h
    let merged: Tensor  // [B·T, H]: SiLU(Z) ⊙ h
    let initialStates: Tensor  // [B, H]: h_init repeated per sequence
    let output: Tensor  // [B, T, d]

    init(batch: Int, steps: Int, modelDim d: Int, stateDim h: Int, slab: inout Tensor) {
      let rows = batch * steps
      (self.batch, self.steps) = (batch, steps)
      let views = GatedRecurrentLayer.carve(
        [
          [rows, 2 * h], [rows, h], [rows, h], [rows, 2 * h], [rows, h], [rows, h], [rows, h], [batch, h],
          [batch, steps, d],
        ], from: &slab)
      (projection, convOut, activated, gateLogits) = (views[0], views[1], views[2], views[3])
      (decay, state, merged, initialStates, output) = (views[4], views[5], views[6], views[7], views[8])
    }
  }

  /// Backward scratch: views into `gradientSlab` (grown like `activationSlab`).
  struct GradientScratch {
    let batch: Int
    let steps: Int
    let dDecay: Tensor  // [B·T, H]: ∂a, then ∂U, then ∂(conv output)
    let dGateLogits: Tensor  // [B·T, 2H]
    let dProjection: Tensor  // [B·T, 2H]
    let dInitialStates: Tensor  // [B, H]
    let dInput: Tensor  // [B, T, d]

    init(batch: Int, steps: Int, modelDim d: Int, stateDim h: Int, slab: inout Tensor) {
      let rows = batch * steps
      (self.batch, self.steps) = (batch, steps)
      let views = GatedRecurrentLayer.carve(
        [[rows, h], [rows, 2 * h], [rows, 2 * h], [batch, h], [batch, steps, d]], from: &slab)
      (dDecay, dGateLogits, dProjection, dInitialStates, dInput) = (views[0], views[1], views[2], views[3], views[4])
    }
  }

  /// Consecutive views of `shapes` at the start of `slab`, which is replaced by a larger zero-filled one when too
  /// small. Every buffer is fully written before it is read in each forward/backward, so stale values are harmless.
  static func carve(_ shapes: [[Int]], from slab: inout Tensor) -> [Tensor] {
    let sizes = shapes.map { $0.reduce(1, *) }
    let total = sizes.reduce(0, +)
    if slab.count < total { slab = Tensor(zeros: [total]) }
    var offset = 0
    return zip(shapes, sizes).map { shape, size in
      defer { offset += size }
      return slab.rows(offset..<offset + size).reshaped(shape)
    }
  }

  private var activations: Activations?
  private var scratch: GradientScratch?
  private var activationSlab = Tensor(zeros: [0])
  private var gradientSlab = Tensor(zeros: [0])
  private var cachedInput: Tensor?
  private var cachedPrefix: Prefix?

  /// y [B, T, d] for x [B, T, d]. T is the number of positions computed (any T ≥ 1; positions never affect earlier
  /// ones). The result is owned by the layer and overwritten by the next call.
  public func forward(_ x: Tensor) -> Tensor {
    precondition(
      x.rank == 3 && x.shape[2] == modelDim, "GatedRecurrentLayer input \(x.shape) is not [B, T, \(modelDim)]")
    let (batch, steps, d, h) = (x.shape[0], x.shape[1], modelDim, stateDim)
    let rows = batch * steps
    if activations?.batch != batch || activations?.steps != steps {
      activations = Activations(batch: batch, steps: steps, modelDim: d, stateDim: h, slab: &activationSlab)
    }
    let act = activations!
    BLAS.gemm(
      transA: false, transB: true, m: rows, n: 2 * h, k: d, a: x.ptr, lda: d, b: inputWeight.value.ptr, ldb: d,
      c: act.projection.ptr, ldc: 2 * h)
    let prefix = computePrefix()
    if let prefix {
      ElementwiseKernels.broadcastRow(act.initialStates.ptr, prefix.finalState.ptr, rows: batch, cols: h)
    }
    forwardCore(
      projection: act.projection, convOut: act.convOut, activated: act.activated, gateLogits: act.gateLogits,
      decay: act.decay, state: act.state, initial: prefix == nil ? nil : act.initialStates, batch: batch,
      steps: steps)
    Elementwise.gatedMerge(
      act.merged.ptr, state: act.state.ptr, gate: act.projection.ptr + h, gateStride: 2 * h, rows: rows, width: h)
    BLAS.gemm(
      transA: false, transB: true, m: rows, n: d, k: h, a: act.merged.ptr, lda: h, b: outputWeight.value.ptr, ldb: h,
      c: act.output.ptr, ldc: d)
    cachedInput = x
    cachedPrefix = prefix
    return act.output
  }

  /// ∂x [B, T, d] for ∂y of the last forward; accumulates every parameter gradient. The result is owned by the
  /// layer and overwritten by the next call. At most one backward per forward (it reuses forward buffers).
  public func backward(_ dY: Tensor) -> Tensor {
    guard let act = activations, let x = cachedInput else { preconditionFailure("backward called before forward") }
    precondition(dY.shape == act.output.shape, "∂y \(dY.shape) does not match the last output \(act.output.shape)")
    let (batch, steps, d, h) = (act.batch, act.steps, modelDim, stateDim)
    let rows = batch * steps
    if scratch?.batch != batch || scratch?.steps != steps {
      scratch = GradientScratch(batch: batch, steps: steps, modelDim: d, stateDim: h, slab: &gradientSlab)
    }
    let grad = scratch!
    BLAS.gemm(
      transA: true, transB: false, m: d, n: h, k: rows, a: dY.ptr, lda: d, b: act.merged.ptr, ldb: h, beta: 1,
      c: outputWeight.grad.ptr, ldc: h)
    // ∂merged overwrites `merged` (no longer needed), then becomes ∂h in place.
    let dState = act.merged
    BLAS.gemm(
      transA: false, transB: false, m: rows, n: h, k: d, a: dY.ptr, lda: d, b: outputWeight.value.ptr, ldb: h,
      c: dState.ptr, ldc: h)
    Elementwise.gatedMergeBackward(
      inPlace: dState.ptr, dGate: grad.dProjection.ptr + h, state: act.state.ptr, gate: act.projection.ptr + h,
      gateStride: 2 * h, rows: rows, width: h)
    backwardCore(
      dProjection: grad.dProjection, dInitial: cachedPrefix == nil ? nil : grad.dInitialStates, dState: dState,
      dDecay: grad.dDecay, dGateLogits: grad.dGateLogits, projection: act.projection, convOut: act.convOut,
      activated: act.activated, gateLogits: act.gateLogits, decay: act.decay, state: act.state,
      initial: cachedPrefix == nil ? nil : act.initialStates, batch: batch, steps: steps)
    if let prefix = cachedPrefix {
      withUnsafeTemporaryAllocation(of: Float.self, capacity: h) { dFinal in
        dFinal.initialize(repeating: 0)
        ReductionKernels.accumulateColumnSumsInParallel(
          dFinal.baseAddress!, grad.dInitialStates.ptr, rows: batch, cols: h)
        backwardPrefix(prefix, dFinalState: dFinal.baseAddress!)
      }
    }
    BLAS.gemm(
      transA: true, transB: false, m: 2 * h, n: d, k: rows, a: grad.dProjection.ptr, lda: 2 * h, b: x.ptr, ldb: d,
      beta: 1, c: inputWeight.grad.ptr, ldc: d)
    BLAS.gemm(
      transA: false, transB: false, m: rows, n: d, k: 2 * h, a: grad.dProjection.ptr, lda: 2 * h,
      b: inputWeight.value.ptr, ldb: d, c: grad.dInput.ptr, ldc: d)
    return grad.dInput
  }
}
