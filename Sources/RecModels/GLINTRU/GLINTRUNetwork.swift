import NN
import TensorCore

/// The layers of GLINT-RU (spec §1) with the official parameter names, their initialisation (§1.8), and the
/// forward/backward over every position of [B, T] sequences. `GLINTRU` (faithful: centred convolutions, global
/// attention) and `GLINTRUCausal` (causal convolutions and attention) each own one.
///
///     X = Dropout(E[items])                          (no positional embedding; dropout on padding too)
///     A = attention expert(X),  Y = selective GRU expert(X)
///     R = output block(X, Y, A)
public final class GLINTRUNetwork: ParameterContainer {
  public let config: GLINTRUConfig
  public let causal: Bool
  /// `item_embedding` (row 0 = padding: no lookup gradient, but trained through the tied output scores).
  public let itemEmbedding: Embedding
  public let embeddingDropout: PositionalDropout
  public let recurrent: SelectiveGRUExpert
  public let attention: LinearAttentionExpert
  public let output: GLINTRUOutputBlock

  init(config: GLINTRUConfig, itemCount: Int, causal: Bool, seed: UInt64) {
    do { try config.validate() } catch { preconditionFailure("\(error)") }
    precondition(itemCount >= 2, "GLINT-RU needs at least one item besides padding (itemCount \(itemCount))")
    self.config = config
    self.causal = causal
    itemEmbedding = Embedding(
      name: "item_embedding", embeddingCount: itemCount, dimension: config.hiddenSize, paddingIndex: 0)
    embeddingDropout = PositionalDropout(
      probability: config.embeddingDropout, site: GLINTRUDropoutSite.embedding.rawValue)
    recurrent = SelectiveGRUExpert(config: config, padding: causal ? .causal : .centered)
    attention = LinearAttentionExpert(config: config)
    output = GLINTRUOutputBlock(config: config)
    var rng = SeededRNG(seed: seed)
    initialize(rng: &rng)
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  init(replicaOf other: GLINTRUNetwork) {
    config = other.config
    causal = other.causal
    itemEmbedding = Embedding(replicaOf: other.itemEmbedding)
    embeddingDropout = other.embeddingDropout  // stateless
    recurrent = SelectiveGRUExpert(replicaOf: other.recurrent)
    attention = LinearAttentionExpert(replicaOf: other.attention)
    output = GLINTRUOutputBlock(replicaOf: other.output)
  }

  /// The official module order.
  public var parameters: [Parameter] {
    itemEmbedding.parameters + recurrent.parameters + attention.parameters + output.parameters
  }

  /// Spec §1.8: Xavier normal for the embedding table (padding row included), Xavier uniform for every Linear
  /// weight with zero biases, Xavier uniform for each stacked GRU matrix, PyTorch's default U(±1/√(3d)) for both
  /// convolutions, LayerNorms γ = 1, β = 0, ω = (0.5, 0.5).
  func initialize(rng: inout SeededRNG) {
    itemEmbedding.weight.initXavierNormal(rng: &rng)
    for linear in recurrent.linears + attention.linears + output.linears {
      linear.weight.initXavierUniform(rng: &rng)
      linear.bias?.initConstant(0)
    }
    recurrent.gru.weightIH.initXavierUniform(rng: &rng)
    recurrent.gru.weightHH.initXavierUniform(rng: &rng)
    for conv in recurrent.convolutions { conv.initializeDefault(rng: &rng) }
    for norm in [attention.layerNorm, output.layerNorm] {
      norm.weight.initConstant(1)
      norm.bias.initConstant(0)
    }
    output.mixing.logits.initConstant(0.5)
  }

  // MARK: - Every position

  struct AllPositionsCache {
    var ids: [Int32]
    var embeddingDropout: DropoutCache
    var input: Tensor
    var attention: LinearAttentionExpert.Cache
    var recurrent: SelectiveGRUExpert.Cache
    var output: GLINTRUOutputBlock.Cache
  }

  /// ids [batch, steps] (row-major) → R [batch·steps, d] at every position. For the faithful (non-causal) network
  /// this is the official computation when steps = L and rows are right-padded with 0: every output sees the
  /// whole row, padding included.
  func encodeAllPositions(ids: [Int32], batch: Int, steps: Int, training: Bool, seed: UInt64) -> (
    Tensor, AllPositionsCache
  ) {
    let tokens = TokenPosition.grid(rows: batch, length: steps)
    let segments = SequenceSegments.uniform(count: batch, length: steps)
    let context: ELULinearAttention.Context =
      causal ? .causal(segments) : .global(querySegments: segments, keySegments: segments, keyWeights: nil)
    let (x, dropCache) = embeddingDropout.forward(
      itemEmbedding.forward(ids), at: tokens, seed: seed, training: training)
    let (a, attentionCache) = attention.forward(
      queryInput: x, keyInput: x, context: context, queryTokens: tokens, seed: seed, training: training)
    let (y, recurrentCache) = recurrent.forward(
      x, batch: batch, steps: steps, tokens: tokens, seed: seed, training: training)
    let (r, outputCache) = output.forward(
      x: x, recurrent: y, attention: a, tokens: tokens, seed: seed, training: training)
    let cache = AllPositionsCache(
      ids: ids, embeddingDropout: dropCache, input: x, attention: attentionCache, recurrent: recurrentCache,
      output: outputCache)
    return (r, cache)
  }

  /// dR [batch·steps, d] → accumulates every parameter gradient.
  func encodeAllPositionsBackward(_ dR: Tensor, _ cache: AllPositionsCache) {
    let (dx, dY, dA) = output.backward(dR, cache.output)
    let dFromRecurrent = recurrent.backward(dY, cache.recurrent)
    let (dFromQueries, dFromKeys) = attention.backward(dA, cache.attention)
    for d in [dFromRecurrent, dFromQueries, dFromKeys] {
      ElementwiseKernels.add(dx.ptr, dx.ptr, d.ptr, count: dx.count)
    }
    itemEmbedding.backward(embeddingDropout.backward(dx, cache.embeddingDropout), ids: cache.ids)
  }

  // MARK: - Output scores

  /// Full-softmax cross-entropy of r [rows, d] against `targets` over every item id (tied scores), backward through
  /// the scores; returns (Σ_rows loss, dr). The gradient is scaled by `lossScale` (of the summed loss).
  func crossEntropy(_ r: Tensor, targets: [Int32], lossScale: Float) -> (Double, Tensor) {
    let logits = itemEmbedding.scores(r)
    let count = targets.count
    let meanLoss = Losses.softmaxCrossEntropy(
      logits: logits, targets: targets, scale: lossScale * Float(count), gradientInto: logits)
    let dr = itemEmbedding.scoresBackward(logits, input: r)
    return (Double(meanLoss) * Double(count), dr)
  }
}
