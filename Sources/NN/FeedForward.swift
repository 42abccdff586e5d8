import TensorCore

/// What `FeedForward.backward` needs from its forward.
public struct FeedForwardCache {
  /// x [..., size], the input (and the residual).
  public let input: Tensor
  /// act(W₁x + b₁) and what the activation backward needs.
  public let activation: ActivationCache
  /// The input of W₂: the activation output after the inner dropout.
  public let hidden: Tensor
  public let innerDropout: DropoutCache
  public let outputDropout: DropoutCache
  public let layerNorm: LayerNormCache
}

/// Position-wise feed-forward block with a post-norm residual:
///
///     y = LayerNorm( Dropout_out( W₂ · Dropout_in( act(W₁x + b₁) ) + b₂ ) + x )
///
/// RecBLR's PFFN uses SiLU and the same probability at both dropout sites. RecBole SASRec's FeedForward uses GELU
/// and has **no** inner dropout (`dense_1 → act → dense_2 → dropout → LayerNorm(· + input)`): pass
/// `innerDropoutProbability: 0`. Parameters: "\(name).w_1.weight" [inner, size], ".w_1.bias", ".w_2.weight"
/// [size, inner], ".w_2.bias", ".layer_norm.weight", ".layer_norm.bias" (the RecBLR golden names; `names: .recbole`
/// gives RecBole's ".dense_1", ".dense_2", ".LayerNorm" instead).
public final class FeedForward: ParameterContainer {
  /// Names of the two projections and the norm inside the block.
  public struct SublayerNames: Sendable {
    public var first: String
    public var second: String
    public var norm: String
    public init(first: String, second: String, norm: String) {
      self.first = first
      self.second = second
      self.norm = norm
    }
    /// RecBLR's PFFN: w_1, w_2, layer_norm.
    public static let recblr = SublayerNames(first: "w_1", second: "w_2", norm: "layer_norm")
    /// RecBole's TransformerEncoder FeedForward: dense_1, dense_2, LayerNorm.
    public static let recbole = SublayerNames(first: "dense_1", second: "dense_2", norm: "LayerNorm")
  }

  public let w1: Linear
  public let w2: Linear
  public let layerNorm: LayerNorm
  public let activation: Activation
  public let innerDropout: Dropout
  public let outputDropout: Dropout

  public init(
    name: String, size: Int, innerSize: Int, activation: ActivationFunction,
    innerDropoutProbability: Float, outputDropoutProbability: Float, eps: Float = 1e-12,
    names: SublayerNames = .recblr
  ) {
    w1 = Linear(name: "\(name).\(names.first)", inputSize: size, outputSize: innerSize)
    w2 = Linear(name: "\(name).\(names.second)", inputSize: innerSize, outputSize: size)
    layerNorm = LayerNorm(name: "\(name).\(names.norm)", size: size, eps: eps)
    self.activation = Activation(activation)
    innerDropout = Dropout(probability: innerDropoutProbability)
    outputDropout = Dropout(probability: outputDropoutProbability)
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  public init(replicaOf other: FeedForward) {
    w1 = Linear(replicaOf: other.w1)
    w2 = Linear(replicaOf: other.w2)
    layerNorm = LayerNorm(replicaOf: other.layerNorm)
    activation = Activation(other.activation.function)
    innerDropout = Dropout(probability: other.innerDropout.probability)
    outputDropout = Dropout(probability: other.outputDropout.probability)
  }

  public var parameters: [Parameter] { w1.parameters + w2.parameters + layerNorm.parameters }

  /// x [..., size] → y [..., size]. In training, the inner mask is drawn from `rng` before the output mask.
  public func forward(_ x: Tensor, training: Bool, rng: inout SeededRNG) -> (Tensor, FeedForwardCache) {
    let (activated, activationCache) = activation.forward(w1.forward(x))
    let (hidden, innerCache) = dropIfActive(innerDropout, activated, training: training, rng: &rng)
    let (sum, outputCache) = dropIfActive(outputDropout, w2.forward(hidden), training: training, rng: &rng)
    ElementwiseKernels.add(sum.ptr, sum.ptr, x.ptr, count: sum.count)  // residual
    let (y, normCache) = layerNorm.forward(sum)
    let cache = FeedForwardCache(
      input: x, activation: activationCache, hidden: hidden, innerDropout: innerCache, outputDropout: outputCache,
      layerNorm: normCache)
    return (y, cache)
  }

  /// Accumulates the gradients of W₁, b₁, W₂, b₂, γ, β; returns a new dx (through both the block and the residual).
  public func backward(_ dy: Tensor, _ cache: FeedForwardCache) -> Tensor {
    let dsum = layerNorm.backward(dy, cache.layerNorm)
    let dw2Out = passIfInactive(outputDropout, dsum, cache.outputDropout)
    let dhidden = w2.backward(dw2Out, input: cache.hidden)
    let dactivated = passIfInactive(innerDropout, dhidden, cache.innerDropout)
    let dw1Out = activation.backward(dactivated, cache.activation)
    let dx = w1.backward(dw1Out, input: cache.input)
    ElementwiseKernels.add(dx.ptr, dx.ptr, dsum.ptr, count: dx.count)  // residual
    return dx
  }

  /// Dropout without the identity copy: an inactive dropout passes its (freshly computed) input through.
  private func dropIfActive(
    _ dropout: Dropout, _ x: Tensor, training: Bool, rng: inout SeededRNG
  ) -> (Tensor, DropoutCache) {
    dropout.isActive(training: training)
      ? dropout.forward(x, training: training, rng: &rng) : (x, DropoutCache(mask: nil))
  }

  private func passIfInactive(_ dropout: Dropout, _ dy: Tensor, _ cache: DropoutCache) -> Tensor {
    cache.mask == nil ? dy : dropout.backward(dy, cache)
  }
}
