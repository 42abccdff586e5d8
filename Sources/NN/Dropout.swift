import TensorCore

/// What `Dropout.backward` needs: the scaled keep mask (0 or 1/(1−p) per element), or nil when the forward was the
/// identity (eval mode or p = 0).
public struct DropoutCache {
  public let mask: Tensor?
}

/// Inverted dropout (PyTorch `nn.Dropout`): in training each element is zeroed with probability p and the
/// survivors are scaled by 1/(1−p); otherwise the layer is the identity.
public final class Dropout: ParameterContainer {
  public let probability: Float

  public init(probability: Float) {
    precondition((0...1).contains(probability), "dropout probability \(probability) is outside [0, 1]")
    self.probability = probability
  }

  public var parameters: [Parameter] { [] }

  /// True when `forward` actually drops elements.
  public func isActive(training: Bool) -> Bool { training && probability > 0 }

  /// y = x ⊙ mask with a mask drawn from `rng` (one draw per element, in order), or a copy of x when inactive.
  /// The output is always a new tensor, so callers may modify it in place.
  public func forward(_ x: Tensor, training: Bool, rng: inout SeededRNG) -> (Tensor, DropoutCache) {
    guard isActive(training: training) else { return (x.copy(), DropoutCache(mask: nil)) }
    let mask = Tensor(zeros: x.shape)
    let keepScale: Float = probability < 1 ? 1 / (1 - probability) : 0
    let m = mask.ptr
    for i in 0..<x.count { m[i] = rng.nextFloat() < probability ? 0 : keepScale }
    let y = Tensor(zeros: x.shape)
    ElementwiseKernels.multiply(y.ptr, x.ptr, m, count: x.count)
    return (y, DropoutCache(mask: mask))
  }

  /// dx = dy ⊙ mask (a copy of dy when the forward was the identity).
  public func backward(_ dy: Tensor, _ cache: DropoutCache) -> Tensor {
    guard let mask = cache.mask else { return dy.copy() }
    precondition(mask.count == dy.count, "Dropout backward: dy \(dy.shape) for mask \(mask.shape)")
    let dx = Tensor(zeros: dy.shape)
    ElementwiseKernels.multiply(dx.ptr, dy.ptr, mask.ptr, count: dy.count)
    return dx
  }
}
