import TensorCore

/// What `Activation.backward` needs: the forward input and output (each function reads the one it needs).
public struct ActivationCache {
  public let input: Tensor
  public let output: Tensor
}

/// A point-wise activation as a layer (GELU, SiLU, ReLU, Tanh, Sigmoid, ELU).
public final class Activation: ParameterContainer {
  public let function: ActivationFunction

  public init(_ function: ActivationFunction) { self.function = function }

  public var parameters: [Parameter] { [] }

  public func forward(_ x: Tensor) -> (Tensor, ActivationCache) {
    let y = Tensor(uninitialized: x.shape)
    ActivationKernels.forward(function, y.ptr, x.ptr, count: x.count)
    return (y, ActivationCache(input: x, output: y))
  }

  /// Returns a new dx = f′ ⊙ dy.
  public func backward(_ dy: Tensor, _ cache: ActivationCache) -> Tensor {
    precondition(dy.count == cache.input.count, "\(function) backward: dy \(dy.shape) for input \(cache.input.shape)")
    let dx = Tensor(uninitialized: dy.shape)
    ActivationKernels.backward(
      function, dx.ptr, x: cache.input.ptr, y: cache.output.ptr, dy: dy.ptr, count: dy.count)
    return dx
  }
}
