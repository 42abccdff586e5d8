import NN
import RecData
import TensorCore

// GRU4Rec (Hidasi et al., ICLR 2016; Tan et al., DLRS 2016) as RecBole 1.2 implements it
// (`sequential_recommender/gru4rec.py`), loss_type CE:
//
//   e = emb_dropout( item_embedding(seq) )                    [B, T, embedding_size]
//   h = gru_layers(e)   nn.GRU(embedding_size, hidden_size, num_layers, bias=False, batch_first=True), h₀ = 0
//   s = dense(h)[len − 1]   nn.Linear(hidden_size, embedding_size) with bias (gather_indexes)
//   logits = s · item_embedding.weightᵀ over all N ids,  loss = CE
//
// Facts checked against RecBole: the GRU has no biases; `_init_weights` applies xavier_normal_ to every
// nn.Embedding weight (**overwriting the padding row 0**; padding_idx = 0 still stops lookups from writing a
// gradient into it, while the tied output updates it) and xavier_uniform_ to gru_layers.weight_hh_l0 and
// weight_ih_l0; `dense` keeps PyTorch's default nn.Linear init, U(−1/√fan_in, 1/√fan_in) for weight and bias.
// Defaults are RecBole's GRU4Rec.yaml: embedding_size 64, hidden_size 128, num_layers 1, dropout_prob 0.3.
// Only num_layers = 1 is supported (with more layers RecBole initialises only layer 0 by xavier).
//
// The dense projection is per position, so it is applied after the gather (only to the output rows); the GRU runs
// T = the longest row's steps, and its outputs before a row's padding do not depend on the padding.

/// GRU4Rec hyperparameters (RecBole names in the comments). Decoding fills missing keys with the defaults.
public struct GRU4RecConfig: Codable, Sendable, Equatable {
  /// MAX_ITEM_LIST_LENGTH: items read.
  public var maxLength = 50
  /// embedding_size
  public var embeddingSize = 64
  /// hidden_size (GRU state)
  public var hiddenSize = 128
  /// num_layers (only 1)
  public var layerCount = 1
  /// dropout_prob: on the item embeddings.
  public var dropoutProbability: Float = 0.3

  public init() {}

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = GRU4RecConfig()
    maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? d.maxLength
    embeddingSize = try c.decodeIfPresent(Int.self, forKey: .embeddingSize) ?? d.embeddingSize
    hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
    layerCount = try c.decodeIfPresent(Int.self, forKey: .layerCount) ?? d.layerCount
    dropoutProbability = try c.decodeIfPresent(Float.self, forKey: .dropoutProbability) ?? d.dropoutProbability
  }

  /// Throws a `ModelConfigurationError` naming the first invalid field.
  public func validate() throws {
    try require(maxLength >= 1, "maxLength", "must be ≥ 1, got \(maxLength)")
    try require(embeddingSize >= 1, "embeddingSize", "must be ≥ 1, got \(embeddingSize)")
    try require(hiddenSize >= 1, "hiddenSize", "must be ≥ 1, got \(hiddenSize)")
    try require(layerCount == 1, "layerCount", "must be 1 (multi-layer GRUs are not implemented), got \(layerCount)")
    try require((0..<1).contains(dropoutProbability), "dropoutProbability", "must be in [0, 1)")
  }
}

/// What `GRU4Rec.backward` needs from its forward.
struct GRU4RecCache {
  let input: CausalInput
  let positions: [Int]
  let embeddingDropout: DropoutCache
  let gru: GRUCache
  /// GRU states at the output positions [R, hidden_size] (the input of `dense`).
  let gathered: Tensor
}

/// GRU4Rec with RecBole's parameter names: item_embedding.weight [N, e], gru_layers.weight_ih_l0 [3H, e],
/// gru_layers.weight_hh_l0 [3H, H] (gate order r, z, n), dense.weight [e, H], dense.bias [e].
public final class GRU4Rec: CausalSequentialRecommender, TiedCausalModel, ReplicableRecommender {
  public let config: GRU4RecConfig
  public let itemCount: Int
  public var name: String { "gru4rec" }
  public var maxLength: Int { config.maxLength }

  let itemEmbedding: Embedding
  let embeddingDropout: Dropout
  let gru: GRU
  let dense: Linear

  /// `itemCount` includes the padding id 0. Weights are initialised as RecBole's `_init_weights` from `seed`.
  public init(config: GRU4RecConfig, itemCount: Int, seed: UInt64) {
    do { try config.validate() } catch { preconditionFailure("\(error)") }
    precondition(itemCount >= 2, "gru4rec: itemCount must be ≥ 2 (padding + one item), got \(itemCount)")
    self.config = config
    self.itemCount = itemCount
    let (e, h) = (config.embeddingSize, config.hiddenSize)
    itemEmbedding = Embedding(name: "item_embedding", embeddingCount: itemCount, dimension: e, paddingIndex: 0)
    embeddingDropout = Dropout(probability: config.dropoutProbability)
    gru = GRU(name: "gru_layers", inputSize: e, hiddenSize: h, bias: false)
    dense = Linear(name: "dense", inputSize: h, outputSize: e)
    var rng = SeededRNG(seed: seed)
    itemEmbedding.weight.initXavierNormal(rng: &rng)
    gru.weightHH.initXavierUniform(rng: &rng)
    gru.weightIH.initXavierUniform(rng: &rng)
    let denseBound = 1 / Float(h).squareRoot()  // PyTorch's nn.Linear default (kaiming_uniform_, a = √5)
    dense.weight.initUniform(bound: denseBound, rng: &rng)
    dense.bias?.initUniform(bound: denseBound, rng: &rng)
  }

  /// See `replica()`.
  init(replicaOf other: GRU4Rec) {
    config = other.config
    itemCount = other.itemCount
    itemEmbedding = Embedding(replicaOf: other.itemEmbedding)
    embeddingDropout = Dropout(probability: other.embeddingDropout.probability)
    gru = GRU(replicaOf: other.gru)
    dense = Linear(replicaOf: other.dense)
  }

  public var parameters: [Parameter] { itemEmbedding.parameters + gru.parameters + dense.parameters }

  /// A data-parallel replica: same config, every parameter value shared with this model, private gradients.
  public func replica() -> GRU4Rec { GRU4Rec(replicaOf: self) }

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

  /// dense(GRU states) at `positions` (flat indices into the [B, T] grid) → [positions.count, e].
  func forward(
    _ input: CausalInput, outputs positions: [Int], training: Bool, rng: inout SeededRNG
  ) -> (Tensor, GRU4RecCache) {
    let embedded = itemEmbedding.forward(input.ids, shape: [input.batchSize, input.steps])  // [B, T, e]
    let (dropped, dropoutCache) = embeddingDropout.forward(embedded, training: training, rng: &rng)
    let (hidden, gruCache) = gru.forward(dropped)  // [B, T, H]
    let gathered = hidden.gatheringRows(positions)  // [R, H]
    let output = dense.forward(gathered)  // [R, e]
    let cache = GRU4RecCache(
      input: input, positions: positions, embeddingDropout: dropoutCache, gru: gruCache, gathered: gathered)
    return (output, cache)
  }

  /// Mirrors `forward` in reverse, accumulating every parameter's gradient.
  func backward(_ dOutput: Tensor, _ cache: GRU4RecCache) {
    let dGathered = dense.backward(dOutput, input: cache.gathered)
    let dHidden = dGathered.scatteringRows(
      cache.positions, into: [cache.input.batchSize, cache.input.steps, config.hiddenSize])
    let dDropped = gru.backward(dHidden, cache.gru)
    let dEmbedded = embeddingDropout.backward(dDropped, cache.embeddingDropout)
    itemEmbedding.backward(dEmbedded, ids: cache.input.ids)
  }
}
