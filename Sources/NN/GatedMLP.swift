import TensorCore

/// What `GatedMLP.backward` needs from its forward.
public struct GatedMLPCache {
  public let input: Tensor
  /// V x + b_v
  public let value: Tensor
  /// GELU(G x + b_g) and its activation cache.
  public let gate: ActivationCache
  /// value ⊙ gate: the input of the output projection.
  public let product: Tensor
}

/// A GELU-gated MLP without expansion (GLINT-RU's output filter, spec §1.6, without its residual and norm):
///
///     y = W_out ( (W_v x + b_v) ⊙ GELU(W_g x + b_g) ) + b_out
///
/// Names are the caller's (GLINT-RU: value "dense3", gate "dense4", output "denseout").
public final class GatedMLP: ParameterContainer {
  public let value: Linear
  public let gate: Linear
  public let output: Linear
  public let activation = Activation(.gelu)

  public init(valueName: String, gateName: String, outputName: String, size: Int, innerSize: Int) {
    value = Linear(name: valueName, inputSize: size, outputSize: innerSize)
    gate = Linear(name: gateName, inputSize: size, outputSize: innerSize)
    output = Linear(name: outputName, inputSize: innerSize, outputSize: size)
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  public init(replicaOf other: GatedMLP) {
    value = Linear(replicaOf: other.value)
    gate = Linear(replicaOf: other.gate)
    output = Linear(replicaOf: other.output)
  }

  public var parameters: [Parameter] { value.parameters + gate.parameters + output.parameters }

  /// x [..., size] → y [..., size].
  public func forward(_ x: Tensor) -> (Tensor, GatedMLPCache) {
    let v = value.forward(x)
    let (g, gateCache) = activation.forward(gate.forward(x))
    let product = Tensor(zeros: v.shape)
    ElementwiseKernels.multiply(product.ptr, v.ptr, g.ptr, count: v.count)
    let y = output.forward(product)
    return (y, GatedMLPCache(input: x, value: v, gate: gateCache, product: product))
  }

  /// Accumulates every parameter gradient; returns a new dx.
  public func backward(_ dy: Tensor, _ cache: GatedMLPCache) -> Tensor {
    let dProduct = output.backward(dy, input: cache.product)
    let dValue = Tensor(zeros: dProduct.shape)
    let dGate = Tensor(zeros: dProduct.shape)
    ElementwiseKernels.multiply(dValue.ptr, dProduct.ptr, cache.gate.output.ptr, count: dProduct.count)
    ElementwiseKernels.multiply(dGate.ptr, dProduct.ptr, cache.value.ptr, count: dProduct.count)
    let dx = value.backward(dValue, input: cache.input)
    let dxGate = gate.backward(activation.backward(dGate, cache.gate), input: cache.input)
    ElementwiseKernels.add(dx.ptr, dx.ptr, dxGate.ptr, count: dx.count)
    return dx
  }
}
