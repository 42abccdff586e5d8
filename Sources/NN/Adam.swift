import TensorCore

/// Adam / AdamW with the exact update of `torch.optim.Adam` / `torch.optim.AdamW` (amsgrad off, maximize off).
///
/// Per parameter, with g the gradient, at step t (1-based):
///
///     g ← g + λ·θ                       (weight decay, Adam: L2 added to the gradient)
///     θ ← θ · (1 − lr·λ)                (weight decay, AdamW: decoupled, instead of the line above)
///     m ← m + (1 − β₁)·(g − m)          (= β₁·m + (1 − β₁)·g, evaluated as torch's lerp)
///     v ← β₂·v + (1 − β₂)·g²
///     θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// The gradient tensors are not modified (except by clipping). State (m, v) is one pair of tensors per parameter.
public final class Adam {
  public struct Configuration: Sendable {
    public var learningRate = 1e-3
    public var beta1 = 0.9
    public var beta2 = 0.999
    public var epsilon = 1e-8
    public var weightDecay = 0.0
    /// AdamW: decay the weights directly instead of adding λ·θ to the gradient.
    public var decoupledWeightDecay = false
    /// Clip the global L2 norm of all gradients to this value before each step (`clip_grad_norm_`); nil: no clipping.
    public var maxGradientNorm: Double? = nil

    public init(
      learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
      weightDecay: Double = 0, decoupledWeightDecay: Bool = false, maxGradientNorm: Double? = nil
    ) {
      self.learningRate = learningRate
      self.beta1 = beta1
      self.beta2 = beta2
      self.epsilon = epsilon
      self.weightDecay = weightDecay
      self.decoupledWeightDecay = decoupledWeightDecay
      self.maxGradientNorm = maxGradientNorm
    }
  }

  public let parameters: [Parameter]
  /// Mutable so that a schedule can change the learning rate between steps.
  public var configuration: Configuration
  /// Number of steps taken (t of the last step); restore it together with the moments when resuming.
  public var stepCount = 0
  /// First moments m, one per parameter, same shapes.
  public let firstMoments: [Tensor]
  /// Second moments v, one per parameter, same shapes.
  public let secondMoments: [Tensor]

  public init(parameters: [Parameter], configuration: Configuration = Configuration()) {
    self.parameters = parameters
    self.configuration = configuration
    firstMoments = parameters.map { Tensor(zeros: $0.shape) }
    secondMoments = parameters.map { Tensor(zeros: $0.shape) }
  }

  /// One update of every parameter from its current gradient. Returns the global gradient norm before clipping
  /// when `maxGradientNorm` is set, nil otherwise.
  @discardableResult
  public func step() -> Float? {
    let c = configuration
    let norm = c.maxGradientNorm.map { Adam.clipGradientNorm(parameters, maxNorm: Float($0)) }
    stepCount += 1
    // Scalars are formed in Double and rounded to Float once, as PyTorch does with its Python-float hyperparameters.
    let biasCorrection1 = 1 - integerPower(c.beta1, stepCount)
    let biasCorrection2 = 1 - integerPower(c.beta2, stepCount)
    let stepSize = Float(c.learningRate / biasCorrection1)
    let biasCorrection2Sqrt = Float(biasCorrection2.squareRoot())
    let oneMinusBeta1 = Float(1 - c.beta1)
    let beta2 = Float(c.beta2)
    let oneMinusBeta2 = Float(1 - c.beta2)
    let eps = Float(c.epsilon)
    let l2 = Float(c.decoupledWeightDecay ? 0 : c.weightDecay)
    let decay = Float(c.decoupledWeightDecay ? 1 - c.learningRate * c.weightDecay : 1)
    for (index, parameter) in parameters.enumerated() {
      let theta = parameter.value.ptr
      let grad = parameter.grad.ptr
      let m = firstMoments[index].ptr
      let v = secondMoments[index].ptr
      // Eight lanes at a time, the same operations in the same order as the scalar tail (so the same results):
      // with three written arrays the compiler left the loop scalar, and the step is serial in data-parallel runs.
      typealias V = SIMD8<Float>
      var i = 0
      while i + 8 <= parameter.count {
        let g =
          UnsafeRawPointer(grad + i).loadUnaligned(as: V.self) + l2
          * UnsafeRawPointer(theta + i).loadUnaligned(as: V.self)
        var mi = UnsafeRawPointer(m + i).loadUnaligned(as: V.self)
        var vi = UnsafeRawPointer(v + i).loadUnaligned(as: V.self)
        mi += oneMinusBeta1 * (g - mi)
        vi = beta2 * vi + oneMinusBeta2 * g * g
        let t = UnsafeRawPointer(theta + i).loadUnaligned(as: V.self)
        let updated = t * decay - stepSize * (mi / (vi.squareRoot() / biasCorrection2Sqrt + eps))
        UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
        UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
        UnsafeMutableRawPointer(theta + i).storeBytes(of: updated, as: V.self)
        i += 8
      }
      while i < parameter.count {
        let g = grad[i] + l2 * theta[i]
        m[i] += oneMinusBeta1 * (g - m[i])  // torch: exp_avg.lerp_(grad, 1 − β₁)
        v[i] = beta2 * v[i] + oneMinusBeta2 * g * g
        theta[i] = theta[i] * decay - stepSize * (m[i] / (v[i].squareRoot() / biasCorrection2Sqrt + eps))
        i += 1
      }
    }
    return norm
  }

  /// Scales every gradient by maxNorm / (norm + 1e-6) when the global L2 norm exceeds maxNorm
  /// (`torch.nn.utils.clip_grad_norm_`). Returns the norm before clipping. Sums of squares are accumulated in Double.
  @discardableResult
  public static func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var squares = 0.0
    for p in parameters { squares += Double(ReductionKernels.sumOfSquares(p.grad.ptr, count: p.count)) }
    let norm = Float(squares.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
      for p in parameters { ElementwiseKernels.scale(p.grad.ptr, p.grad.ptr, by: coefficient, count: p.count) }
    }
    return norm
  }
}

/// base^exponent for a non-negative integer exponent, by repeated squaring (bias corrections β^t).
private func integerPower(_ base: Double, _ exponent: Int) -> Double {
  var result = 1.0
  var power = base
  var e = exponent
  while e > 0 {
    if e & 1 == 1 { result *= power }
    power *= power
    e >>= 1
  }
  return result
}
