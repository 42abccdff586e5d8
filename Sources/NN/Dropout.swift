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

  /// y = x ⊙ mask with a mask drawn from `rng`, or a copy of x when inactive. Elements are drawn in order, two per
  /// 64-bit draw (bits 40–63, then bits 8–31: each a 24-bit uniform in [0, 1) like `nextFloat`; an odd last element
  /// takes one `nextFloat`). The output is always a new tensor, so callers may modify it in place.
  public func forward(_ x: Tensor, training: Bool, rng: inout SeededRNG) -> (Tensor, DropoutCache) {
    guard isActive(training: training) else { return (x.copy(), DropoutCache(mask: nil)) }
    let mask = Tensor(uninitialized: x.shape)
    let keepScale: Float = probability < 1 ? 1 / (1 - probability) : 0
    let (m, n, p) = (mask.ptr, x.count, probability)
    let unit: Float = 1.0 / 16_777_216
    var i = 0
    while i + 1 < n {
      let bits = rng.next()
      m[i] = Float(bits >> 40) * unit < p ? 0 : keepScale
      m[i + 1] = Float((bits >> 8) & 0xFF_FFFF) * unit < p ? 0 : keepScale
      i += 2
    }
    if i < n { m[i] = rng.nextFloat() < p ? 0 : keepScale }
    let y = Tensor(uninitialized: x.shape)
    ElementwiseKernels.multiply(y.ptr, x.ptr, m, count: x.count)
    return (y, DropoutCache(mask: mask))
  }

  /// dx = dy ⊙ mask (a copy of dy when the forward was the identity).
  public func backward(_ dy: Tensor, _ cache: DropoutCache) -> Tensor {
    guard let mask = cache.mask else { return dy.copy() }
    precondition(mask.count == dy.count, "Dropout backward: dy \(dy.shape) for mask \(mask.shape)")
    let dx = Tensor(uninitialized: dy.shape)
    ElementwiseKernels.multiply(dx.ptr, dy.ptr, mask.ptr, count: dy.count)
    return dx
  }
}
