import NN
import TensorCore

/// Everything after the two experts, position-wise (spec §1.5-§1.6):
///
///     M = w_gru Y + w_att A,  w = softmax(ω)                      (expert mixing, `weights`)
///     Z = LayerNorm( Dropout( Lin_d( M ⊙ GELU(Lin_2(X)) ) ) + X )  (`dense2`, `dense`, `dropmix`)
///     R = LayerNorm( Dropout( GatedMLP(Z) ) + Z )                  (`dense3/4`, `denseout`, `dropdense`)
///
/// Both LayerNorms are the same module (`LayerNorm`: one γ, β applied twice), as in the official code.
public final class GLINTRUOutputBlock: ParameterContainer {
  /// `dense2`: the data-aware gate on the raw embeddings.
  public let embeddingGate: Linear
  public let gateActivation = Activation(.gelu)
  /// `weights`: ω, whose softmax mixes (GRU expert, attention expert).
  public let mixing: SoftmaxMixing
  /// `dense`
  public let mixProjection: Linear
  public let mixDropout: PositionalDropout
  public let mlp: GatedMLP
  public let outputDropout: PositionalDropout
  /// `LayerNorm`, shared by both residual blocks.
  public let layerNorm: LayerNorm

  init(config: GLINTRUConfig) {
    let d = config.hiddenSize
    embeddingGate = Linear(name: "dense2", inputSize: d, outputSize: d)
    mixing = SoftmaxMixing(parameterName: "weights", inputCount: 2)
    mixProjection = Linear(name: "dense", inputSize: d, outputSize: d)
    mixDropout = PositionalDropout(probability: config.mixDropout, site: GLINTRUDropoutSite.mix.rawValue)
    mlp = GatedMLP(valueName: "dense3", gateName: "dense4", outputName: "denseout", size: d, innerSize: d)
    outputDropout = PositionalDropout(probability: config.outputDropout, site: GLINTRUDropoutSite.output.rawValue)
    layerNorm = LayerNorm(name: "LayerNorm", size: d, eps: config.layerNormEps)
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  init(replicaOf other: GLINTRUOutputBlock) {
    embeddingGate = Linear(replicaOf: other.embeddingGate)
    mixing = SoftmaxMixing(replicaOf: other.mixing)
    mixProjection = Linear(replicaOf: other.mixProjection)
    mixDropout = other.mixDropout  // stateless
    mlp = GatedMLP(replicaOf: other.mlp)
    outputDropout = other.outputDropout  // stateless
    layerNorm = LayerNorm(replicaOf: other.layerNorm)
  }

  public var parameters: [Parameter] {
    embeddingGate.parameters + mixing.parameters + mixProjection.parameters + mlp.parameters + layerNorm.parameters
  }

  var linears: [Linear] { [embeddingGate, mixProjection, mlp.value, mlp.gate, mlp.output] }

  struct Cache {
    var input: Tensor
    var mixing: SoftmaxMixingCache
    var mixed: Tensor
    var gate: ActivationCache
    var gated: Tensor
    var mixDropout: DropoutCache
    var firstNorm: LayerNormCache
    var mlp: GatedMLPCache
    var outputDropout: DropoutCache
    var secondNorm: LayerNormCache
  }

  /// x (embeddings), y (GRU expert), a (attention expert), all [rows, d] at `tokens` → R [rows, d].
  func forward(
    x: Tensor, recurrent y: Tensor, attention a: Tensor, tokens: [TokenPosition], seed: UInt64, training: Bool
  )
    -> (Tensor, Cache)
  {
    let (m, mixingCache) = mixing.forward([y, a])
    let (gate, gateCache) = gateActivation.forward(embeddingGate.forward(x))
    let gated = Tensor(zeros: m.shape)
    ElementwiseKernels.multiply(gated.ptr, m.ptr, gate.ptr, count: m.count)
    let (mixSum, mixDropCache) = mixDropout.forward(
      mixProjection.forward(gated), at: tokens, seed: seed, training: training)
    ElementwiseKernels.add(mixSum.ptr, mixSum.ptr, x.ptr, count: mixSum.count)
    let (z, firstNormCache) = layerNorm.forward(mixSum)
    let (filtered, mlpCache) = mlp.forward(z)
    let (outputSum, outputDropCache) = outputDropout.forward(filtered, at: tokens, seed: seed, training: training)
    ElementwiseKernels.add(outputSum.ptr, outputSum.ptr, z.ptr, count: outputSum.count)
    let (r, secondNormCache) = layerNorm.forward(outputSum)
    let cache = Cache(
      input: x, mixing: mixingCache, mixed: m, gate: gateCache, gated: gated, mixDropout: mixDropCache,
      firstNorm: firstNormCache, mlp: mlpCache, outputDropout: outputDropCache, secondNorm: secondNormCache)
    return (r, cache)
  }

  /// dR → (dx, dy, da), new tensors.
  func backward(_ dR: Tensor, _ cache: Cache) -> (Tensor, Tensor, Tensor) {
    let dOutputSum = layerNorm.backward(dR, cache.secondNorm)
    let dZ = mlp.backward(outputDropout.backward(dOutputSum, cache.outputDropout), cache.mlp)
    ElementwiseKernels.add(dZ.ptr, dZ.ptr, dOutputSum.ptr, count: dZ.count)  // residual
    let dMixSum = layerNorm.backward(dZ, cache.firstNorm)
    let dGated = mixProjection.backward(mixDropout.backward(dMixSum, cache.mixDropout), input: cache.gated)
    let dMixed = Tensor(zeros: dGated.shape)
    let dGate = Tensor(zeros: dGated.shape)
    ElementwiseKernels.multiply(dMixed.ptr, dGated.ptr, cache.gate.output.ptr, count: dGated.count)
    ElementwiseKernels.multiply(dGate.ptr, dGated.ptr, cache.mixed.ptr, count: dGated.count)
    let dx = embeddingGate.backward(gateActivation.backward(dGate, cache.gate), input: cache.input)
    ElementwiseKernels.add(dx.ptr, dx.ptr, dMixSum.ptr, count: dx.count)  // residual
    let dExperts = mixing.backward(dMixed, cache.mixing)
    return (dx, dExperts[0], dExperts[1])
  }
}
