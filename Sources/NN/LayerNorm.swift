import TensorCore

/// What `LayerNorm.backward` needs from its forward.
public struct LayerNormCache {
  /// The forward input [..., size].
  public let input: Tensor
  /// Per-row mean and 1/√(var + eps) [rows].
  public let mean: Tensor
  public let rstd: Tensor
}

/// Layer normalisation over the last dimension with an affine weight and bias (PyTorch `nn.LayerNorm`, biased
/// variance). eps defaults to 1e-12 as in RecBole's models.
public final class LayerNorm: ParameterContainer {
  public let name: String
  public let size: Int
  public let eps: Float
  /// γ [size], starts at 1 (as PyTorch's reset_parameters: the neutral value, not a random init).
  public let weight: Parameter
  /// β [size], starts at 0.
  public let bias: Parameter

  /// Parameters are named "\(name).weight" and "\(name).bias".
  public init(name: String, size: Int, eps: Float = 1e-12) {
    precondition(size > 0, "LayerNorm \(name): size must be positive")
    self.name = name
    self.size = size
    self.eps = eps
    self.weight = Parameter(name: "\(name).weight", shape: [size])
    self.bias = Parameter(name: "\(name).bias", shape: [size])
    weight.value.fill(1)
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  public init(replicaOf other: LayerNorm) {
    name = other.name
    size = other.size
    eps = other.eps
    weight = Parameter(sharing: other.weight)
    bias = Parameter(sharing: other.bias)
  }

  public var parameters: [Parameter] { [weight, bias] }

  /// x [..., size] → y [..., size].
  public func forward(_ x: Tensor) -> (Tensor, LayerNormCache) {
    precondition(x.shape.last == size, "LayerNorm \(name): input \(x.shape) does not end in \(size)")
    let rows = x.count / size
    let y = Tensor(uninitialized: x.shape)
    let cache = LayerNormCache(input: x, mean: Tensor(uninitialized: [rows]), rstd: Tensor(uninitialized: [rows]))
    LayerNormKernels.forward(
      y.ptr, mean: cache.mean.ptr, rstd: cache.rstd.ptr, x.ptr, weight: weight.value.ptr, bias: bias.value.ptr,
      rows: rows, cols: size, eps: eps)
    return (y, cache)
  }

  /// Accumulates dγ, dβ; returns a new dx.
  public func backward(_ dy: Tensor, _ cache: LayerNormCache) -> Tensor {
    let x = cache.input
    precondition(dy.count == x.count, "LayerNorm \(name): dy \(dy.shape) for input \(x.shape)")
    let dx = Tensor(uninitialized: x.shape)
    LayerNormKernels.backward(
      dx.ptr, dweight: weight.grad.ptr, dbias: bias.grad.ptr, dy: dy.ptr, x: x.ptr, weight: weight.value.ptr,
      mean: cache.mean.ptr, rstd: cache.rstd.ptr, rows: cache.mean.count, cols: size)
    return dx
  }
}
