import RealModule

/// Point-wise activation functions.
public enum ActivationFunction: String, Sendable, CaseIterable, Codable {
  /// x·Φ(x), the exact erf form (PyTorch `nn.GELU()` default, not the tanh approximation).
  case gelu
  /// x·σ(x) (a.k.a. swish).
  case silu
  case relu
  case tanh
  case sigmoid
  /// x for x > 0, eˣ − 1 otherwise (alpha 1, PyTorch `nn.ELU()` default).
  case elu
}

/// Activation kernels, forward and backward side by side.
///
/// Forward: `forward(y, x, count)` writes y = f(x). Backward: writes dx = f′ · dy (it does not accumulate), reading
/// x or y, whichever gives the derivative more cheaply and exactly. dx may alias dy. Transcendental functions come
/// from RealModule and are never relaxed, except SiLU, which uses `FastMath` (vectorisable, a few ulp).
public enum ActivationKernels {
  // MARK: Scalar functions (shared with the losses)

  /// Logistic sigmoid, evaluated without overflow for large |x|.
  @inlinable
  public static func sigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + Float.exp(-x)) }
    let e = Float.exp(x)
    return e / (1 + e)
  }

  /// softplus(x) = log(1 + eˣ) = logAddExp(0, x), without overflow for large x.
  @inlinable
  public static func softplus(_ x: Float) -> Float {
    Swift.max(x, 0) + Float.log(onePlus: Float.exp(-abs(x)))
  }

  @usableFromInline static let inverseSquareRootOfTwo: Float = 0.707_106_781_186_547_524_4
  @usableFromInline static let inverseSquareRootOfTwoPi: Float = 0.398_942_280_401_432_677_9

  // MARK: Dispatch

  /// y = f(x) for `count` elements (y may alias x).
  public static func forward(
    _ function: ActivationFunction, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int
  ) {
    switch function {
    case .gelu: geluForward(y, x, count: count)
    case .silu: siluForward(y, x, count: count)
    case .relu: reluForward(y, x, count: count)
    case .tanh: tanhForward(y, x, count: count)
    case .sigmoid: sigmoidForward(y, x, count: count)
    case .elu: eluForward(y, x, count: count)
    }
  }

  /// dx = f′(x) · dy, given both the forward input x and output y (each function reads what it needs).
  /// dx may alias dy, but not x or y.
  public static func backward(
    _ function: ActivationFunction, _ dx: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
    y: UnsafePointer<Float>, dy: UnsafePointer<Float>, count: Int
  ) {
    switch function {
    case .gelu: geluBackward(dx, x: x, dy: dy, count: count)
    case .silu: siluBackward(dx, x: x, dy: dy, count: count)
    case .relu: reluBackward(dx, x: x, dy: dy, count: count)
    case .tanh: tanhBackward(dx, y: y, dy: dy, count: count)
    case .sigmoid: sigmoidBackward(dx, y: y, dy: dy, count: count)
    case .elu: eluBackward(dx, x: x, y: y, dy: dy, count: count)
    }
  }

  // MARK: GELU (exact): y = x·Φ(x) = ½x(1 + erf(x/√2)),  y′ = Φ(x) + x·φ(x)

  public static func geluForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r {
        let v = x[i]
        y[i] = 0.5 * v * (1 + Float.erf(v * inverseSquareRootOfTwo))
      }
    }
  }

  public static func geluBackward(
    _ dx: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, count: Int
  ) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r {
        let v = x[i]
        let cdf = 0.5 * (1 + Float.erf(v * inverseSquareRootOfTwo))
        let pdf = inverseSquareRootOfTwoPi * Float.exp(-0.5 * v * v)
        dx[i] = (cdf + v * pdf) * dy[i]
      }
    }
  }

  // MARK: SiLU: y = x·σ(x),  y′ = σ(x)·(1 + x·(1 − σ(x)))
  // Through `FastMath` (branch-free, a few ulp): the loops vectorise, where libm's scalar `expf` dominated the FFN.

  public static func siluForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r { y[i] = FastMath.silu(x[i]) }
    }
  }

  public static func siluBackward(
    _ dx: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, count: Int
  ) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r { dx[i] = FastMath.siluDerivative(x[i]) * dy[i] }
    }
  }

  // MARK: ReLU: y = max(x, 0),  y′ = 1 for x > 0, else 0 (PyTorch's choice at 0)

  public static func reluForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r { y[i] = x[i] > 0 ? x[i] : 0 }
    }
  }

  public static func reluBackward(
    _ dx: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, count: Int
  ) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r { dx[i] = x[i] > 0 ? dy[i] : 0 }
    }
  }

  // MARK: Tanh: y′ = 1 − y²

  public static func tanhForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r { y[i] = Float.tanh(x[i]) }
    }
  }

  public static func tanhBackward(
    _ dx: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, count: Int
  ) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r { dx[i] = (1 - y[i] * y[i]) * dy[i] }
    }
  }

  // MARK: Sigmoid: y′ = y·(1 − y)

  public static func sigmoidForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r { y[i] = sigmoid(x[i]) }
    }
  }

  public static func sigmoidBackward(
    _ dx: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, count: Int
  ) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r { dx[i] = y[i] * (1 - y[i]) * dy[i] }
    }
  }

  // MARK: ELU (alpha 1): y = x for x > 0, eˣ − 1 otherwise;  y′ = 1 for x > 0, y + 1 = eˣ otherwise

  public static func eluForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r { y[i] = x[i] > 0 ? x[i] : Float.expMinusOne(x[i]) }
    }
  }

  public static func eluBackward(
    _ dx: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
    dy: UnsafePointer<Float>, count: Int
  ) {
    ElementwiseKernels.forEachChunk(count) { r in
      for i in r { dx[i] = x[i] > 0 ? dy[i] : (y[i] + 1) * dy[i] }
    }
  }
}
