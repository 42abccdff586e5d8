import NN
import RecData
import TensorCore

// SASRec (Kang & McAuley, ICDM 2018) as RecBole 1.2 implements it (`sequential_recommender/sasrec.py` with the
// `TransformerEncoder` of `model/layers.py`), loss_type CE:
//
//   e = Dropout_hidden( LayerNorm( item_embedding(seq) + position_embedding(0 … T−1) ) )   (LayerNorm first)
//   h = TransformerEncoder(e) with n_layers `SASRecLayer`s (causal + padding attention mask, additive −10000)
//   s = h[len − 1]  (gather_indexes),  logits = s · item_embedding.weightᵀ over all N ids,  loss = CE
//
// Facts checked against RecBole: sequences are left-aligned and right-padded, positions are 0 … L−1 from the left;
// the attention mask (`get_attention_mask`) allows key s for query t iff s ≤ t and item_seq[s] ≠ 0, and is added
// to the scaled scores as 0 (allowed) or −10000 (masked); hidden_act "gelu" is the exact erf GELU; `_init_weights`
// draws every nn.Linear and nn.Embedding weight from N(0, initializer_range²), **overwriting the padding row 0** of
// item_embedding, sets Linear biases to 0 and LayerNorm to γ = 1, β = 0. padding_idx = 0 still stops lookups from
// writing a gradient into row 0; the tied output does update it. Defaults are RecBole's SASRec.yaml: n_layers 2,
// n_heads 2, hidden_size 64, inner_size 256, hidden_dropout_prob 0.5, attn_dropout_prob 0.5, layer_norm_eps 1e-12,
// initializer_range 0.02 (RecBole issue #1289: hidden_dropout_prob 0.2 does better on ML-1M).
//
// Objectives: RecBole's (one target per row) and, since the model is causal, the all-positions objective of the
// original SASRec (a loss at every position with a target, from one forward pass).

/// SASRec hyperparameters (RecBole names in the comments). Decoding fills missing keys with the defaults.
public struct SASRecConfig: Codable, Sendable, Equatable {
  /// max_seq_length (MAX_ITEM_LIST_LENGTH): items read, and rows of the position table.
  public var maxLength = 50
  /// n_layers
  public var layerCount = 2
  /// n_heads
  public var headCount = 2
  /// hidden_size (= embedding size)
  public var hiddenSize = 64
  /// inner_size (feed-forward width)
  public var innerSize = 256
  /// hidden_dropout_prob: after the embedding LayerNorm and on each block's output.
  public var hiddenDropoutProbability: Float = 0.5
  /// attn_dropout_prob: on the attention probabilities.
  public var attentionDropoutProbability: Float = 0.5
  /// hidden_act
  public var hiddenActivation = ActivationFunction.gelu
  /// layer_norm_eps
  public var layerNormEpsilon: Float = 1e-12
  /// initializer_range: standard deviation of the initial weights.
  public var initializerRange: Float = 0.02

  public init() {}

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = SASRecConfig()
    maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? d.maxLength
    layerCount = try c.decodeIfPresent(Int.self, forKey: .layerCount) ?? d.layerCount
    headCount = try c.decodeIfPresent(Int.self, forKey: .headCount) ?? d.headCount
    hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
    innerSize = try c.decodeIfPresent(Int.self, forKey: .innerSize) ?? d.innerSize
    hiddenDropoutProbability =
      try c.decodeIfPresent(Float.self, forKey: .hiddenDropoutProbability) ?? d.hiddenDropoutProbability
    attentionDropoutProbability =
      try c.decodeIfPresent(Float.self, forKey: .attentionDropoutProbability) ?? d.attentionDropoutProbability
    hiddenActivation = try c.decodeIfPresent(ActivationFunction.self, forKey: .hiddenActivation) ?? d.hiddenActivation
    layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? d.layerNormEpsilon
    initializerRange = try c.decodeIfPresent(Float.self, forKey: .initializerRange) ?? d.initializerRange
  }

  /// Throws a `ModelConfigurationError` naming the first invalid field.
  public func validate() throws {
    try require(maxLength >= 1, "maxLength", "must be ≥ 1, got \(maxLength)")
    try require(layerCount >= 1, "layerCount", "must be ≥ 1, got \(layerCount)")
    try require(headCount >= 1, "headCount", "must be ≥ 1, got \(headCount)")
    try require(
      hiddenSize >= 1 && hiddenSize % headCount == 0, "hiddenSize",
      "must be a positive multiple of headCount \(headCount), got \(hiddenSize)")
    try require(innerSize >= 1, "innerSize", "must be ≥ 1, got \(innerSize)")
    try require((0..<1).contains(hiddenDropoutProbability), "hiddenDropoutProbability", "must be in [0, 1)")
    try require((0..<1).contains(attentionDropoutProbability), "attentionDropoutProbability", "must be in [0, 1)")
    try require(layerNormEpsilon >= 0, "layerNormEpsilon", "must be ≥ 0, got \(layerNormEpsilon)")
    try require(initializerRange >= 0, "initializerRange", "must be ≥ 0, got \(initializerRange)")
  }
}

/// What `SASRec.backward` needs from its forward.
struct SASRecCache {
  let input: CausalInput
  let positions: [Int]
  let embeddingNorm: LayerNormCache
  let embeddingDropout: DropoutCache
  let layers: [SASRecLayerCache]
}

/// SASRec with RecBole's parameter names: item_embedding.weight [N, d], position_embedding.weight [L, d],
/// trm_encoder.layer.{i}.… (see `SASRecLayer`), LayerNorm.{weight,bias} (the embedding LayerNorm).
public final class SASRec: CausalSequentialRecommender, TiedCausalModel, ReplicableRecommender {
  public let config: SASRecConfig
  public let itemCount: Int
  public var name: String { "sasrec" }
  public var maxLength: Int { config.maxLength }

  let itemEmbedding: Embedding
  let positionEmbedding: Embedding
  let layers: [SASRecLayer]
  let embeddingNorm: LayerNorm
  let embeddingDropout: Dropout

  /// `itemCount` includes the padding id 0. Weights are initialised as RecBole's `_init_weights` from `seed`.
  public init(config: SASRecConfig, itemCount: Int, seed: UInt64) {
    do { try config.validate() } catch { preconditionFailure("\(error)") }
    precondition(itemCount >= 2, "sasrec: itemCount must be ≥ 2 (padding + one item), got \(itemCount)")
    self.config = config
    self.itemCount = itemCount
    let d = config.hiddenSize
    itemEmbedding = Embedding(name: "item_embedding", embeddingCount: itemCount, dimension: d, paddingIndex: 0)
    positionEmbedding = Embedding(
      name: "position_embedding", embeddingCount: config.maxLength, dimension: d, paddingIndex: nil)
    layers = (0..<config.layerCount).map { SASRecLayer(name: "trm_encoder.layer.\($0)", config: config) }
    embeddingNorm = LayerNorm(name: "LayerNorm", size: d, eps: config.layerNormEpsilon)
    embeddingDropout = Dropout(probability: config.hiddenDropoutProbability)
    var rng = SeededRNG(seed: seed)
    for weight in [itemEmbedding.weight, positionEmbedding.weight] + layers.flatMap(\.linearWeights) {
      weight.initNormal(std: config.initializerRange, rng: &rng)
    }
  }

  /// See `replica()`.
  init(replicaOf other: SASRec) {
    config = other.config
    itemCount = other.itemCount
    itemEmbedding = Embedding(replicaOf: other.itemEmbedding)
    positionEmbedding = Embedding(replicaOf: other.positionEmbedding)
    layers = other.layers.map(SASRecLayer.init(replicaOf:))
    embeddingNorm = LayerNorm(replicaOf: other.embeddingNorm)
    embeddingDropout = Dropout(probability: other.embeddingDropout.probability)
  }

  public var parameters: [Parameter] {
    itemEmbedding.parameters + positionEmbedding.parameters + layers.flatMap(\.parameters)
      + embeddingNorm.parameters
  }

  /// A data-parallel replica: same config, every parameter value shared with this model, private gradients.
  public func replica() -> SASRec { SASRec(replicaOf: self) }

  // MARK: - Objectives and scores

  public func accumulateGradients(_ batch: SequenceBatch, lossScale: Float, rng: inout SeededRNG) -> Double {
    prefixObjective(batch, lossScale: lossScale, rng: &rng)
  }

  public func accumulateWindowGradients(_ batch: WindowBatch, lossScale: Float, rng: inout SeededRNG) -> Double {
    windowObjective(batch, lossScale: lossScale, rng: &rng)
  }

  public func scores(_ batch: SequenceBatch, into scores: UnsafeMutablePointer<Float>) {
    tiedScores(batch, into: scores)
  }

  // MARK: - Forward and backward

  /// Hidden states of the last layer at `positions` (flat indices into the [B, T] grid) → [positions.count, d].
  /// Randomness is drawn in order: embedding dropout, then each layer's.
  func forward(
    _ input: CausalInput, outputs positions: [Int], training: Bool, rng: inout SeededRNG
  ) -> (Tensor, SASRecCache) {
    let (batch, steps) = (input.batchSize, input.steps)
    let embedded = itemEmbedding.forward(input.ids, shape: [batch, steps])  // [B, T, d]
    addPositions(embedded, steps: steps)
    let (normed, normCache) = embeddingNorm.forward(embedded)
    var (hidden, dropoutCache) = embeddingDropout.forward(normed, training: training, rng: &rng)
    var layerCaches: [SASRecLayerCache] = []
    for layer in layers {
      let (next, cache) = layer.forward(hidden, lengths: input.lengths, training: training, rng: &rng)
      layerCaches.append(cache)
      hidden = next
    }
    let output = hidden.gatheringRows(positions)
    let cache = SASRecCache(
      input: input, positions: positions, embeddingNorm: normCache, embeddingDropout: dropoutCache,
      layers: layerCaches)
    return (output, cache)
  }

  /// Mirrors `forward` in reverse, accumulating every parameter's gradient.
  func backward(_ dOutput: Tensor, _ cache: SASRecCache) {
    let (batch, steps) = (cache.input.batchSize, cache.input.steps)
    var dHidden = dOutput.scatteringRows(cache.positions, into: [batch, steps, config.hiddenSize])
    for (layer, layerCache) in zip(layers, cache.layers).reversed() {
      dHidden = layer.backward(dHidden, layerCache)
    }
    let dNormed = embeddingDropout.backward(dHidden, cache.embeddingDropout)
    let dEmbedded = embeddingNorm.backward(dNormed, cache.embeddingNorm)
    accumulatePositionGradients(dEmbedded, steps: steps)
    itemEmbedding.backward(dEmbedded, ids: cache.input.ids)
  }

  /// x[b, t] += position_embedding[t] for t < steps.
  private func addPositions(_ x: Tensor, steps: Int) {
    let block = steps * config.hiddenSize
    for b in 0..<x.shape[0] {
      ElementwiseKernels.add(x.ptr + b * block, x.ptr + b * block, positionEmbedding.weight.value.ptr, count: block)
    }
  }

  /// position_embedding.grad[t] += Σ_b dx[b, t] for t < steps.
  private func accumulatePositionGradients(_ dx: Tensor, steps: Int) {
    let (block, grad) = (steps * config.hiddenSize, positionEmbedding.weight.grad.ptr)
    for b in 0..<dx.shape[0] { ElementwiseKernels.add(grad, grad, dx.ptr + b * block, count: block) }
  }
}
