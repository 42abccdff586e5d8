import NN
import RecData
import TensorCore

/// RecBLR (Liu et al., CIKM 2024) as the official code computes it (spec `recblr.md` §1):
///
///     X⁰ = LayerNorm(Dropout(E[items]))
///     per layer: Y = LayerNorm(Dropout(GatedRecurrentLayer(X)) + X);  X' = FeedForward_SiLU(Y)  (with residual + LN)
///     s = X^(nL)[len − 1];  logits = s·Eᵀ (all N columns, tied to the input table)
///
/// Every op is causal or position-wise, so batches run only up to their longest row and the model also trains
/// with a loss at every position of a window (`CausalSequentialRecommender`).
public final class RecBLR: CausalSequentialRecommender {
  public let name = "recblr"
  public let config: RecBLRConfig
  public let itemCount: Int
  public var maxLength: Int { config.maxLength }

  public let itemEmbedding: Embedding
  public let embeddingNorm: LayerNorm
  public let embeddingDropout: Dropout
  public let blocks: [RecBLRBlock]

  public init(config: RecBLRConfig, itemCount: Int, seed: UInt64) {
    do { try config.validate() } catch { preconditionFailure("\(error)") }
    self.config = config
    self.itemCount = itemCount
    let d = config.hiddenSize
    itemEmbedding = Embedding(name: "item_embedding", embeddingCount: itemCount, dimension: d, paddingIndex: 0)
    embeddingNorm = LayerNorm(name: "layer_norm", size: d, eps: config.layerNormEps)
    embeddingDropout = Dropout(probability: config.dropout)
    blocks = (0..<config.layerCount).map { RecBLRBlock(name: "recurrent_layers.\($0)", config: config) }
    var rng = SeededRNG(seed: seed)
    initialize(rng: &rng)
  }

  /// See `replica()`.
  init(replicaOf other: RecBLR) {
    config = other.config
    itemCount = other.itemCount
    itemEmbedding = Embedding(replicaOf: other.itemEmbedding)
    embeddingNorm = LayerNorm(replicaOf: other.embeddingNorm)
    embeddingDropout = Dropout(probability: other.embeddingDropout.probability)
    blocks = other.blocks.map(RecBLRBlock.init(replicaOf:))
  }

  public var parameters: [Parameter] {
    itemEmbedding.parameters + embeddingNorm.parameters + blocks.flatMap(\.parameters)
  }

  /// Spec §1.7: N(0, 0.02²) for the embedding table (padding row included) and every Linear weight, zero biases,
  /// LayerNorm γ = 1, β = 0; the gated layer initialises its conv (U(−0.5, 0.5)) and Λ (linspace) itself.
  func initialize(rng: inout SeededRNG) {
    itemEmbedding.weight.initNormal(std: 0.02, rng: &rng)
    for block in blocks {
      block.recurrent.initialize(rng: &rng)
      for linear in [block.feedForward.w1, block.feedForward.w2] {
        linear.weight.initNormal(std: 0.02, rng: &rng)
        linear.bias?.initConstant(0)
      }
    }
  }

  // MARK: Encoder forward and backward (mirror images)

  /// What `encodeBackward` needs from `encode`.
  struct EncoderCache {
    var ids: [Int32]
    var embeddingDropout: DropoutCache
    var embeddingNorm: LayerNormCache
    var blocks: [RecBLRBlock.Cache]
  }

  /// items [B, T] (row-major ids) → hidden states [B, T, d] and every layer's output.
  func encode(ids: [Int32], batch: Int, steps: Int, training: Bool, rng: inout SeededRNG)
    -> (output: Tensor, layerOutputs: [Tensor], cache: EncoderCache)
  {
    let embedded = itemEmbedding.forward(ids, shape: [batch, steps])
    let (dropped, dropCache) = embeddingDropout.forward(embedded, training: training, rng: &rng)
    var (x, normCache) = embeddingNorm.forward(dropped)
    var blockCaches: [RecBLRBlock.Cache] = []
    var layerOutputs: [Tensor] = []
    for block in blocks {
      let (y, cache) = block.forward(x, training: training, rng: &rng)
      blockCaches.append(cache)
      layerOutputs.append(y)
      x = y
    }
    let cache = EncoderCache(ids: ids, embeddingDropout: dropCache, embeddingNorm: normCache, blocks: blockCaches)
    return (x, layerOutputs, cache)
  }

  /// Gradient of the hidden states [B, T, d] → accumulates every parameter gradient.
  func encodeBackward(_ dOutput: Tensor, _ cache: EncoderCache) {
    var dx = dOutput
    for (block, blockCache) in zip(blocks, cache.blocks).reversed() {
      dx = block.backward(dx, blockCache)
    }
    let dDropped = embeddingNorm.backward(dx, cache.embeddingNorm)
    let dEmbedded = embeddingDropout.backward(dDropped, cache.embeddingDropout)
    itemEmbedding.backward(dEmbedded, ids: cache.ids)
  }

  // MARK: Objectives and scoring

  public func accumulateGradients(_ batch: SequenceBatch, lossScale: Float, rng: inout SeededRNG) -> Double {
    let rows = TrainingRows(prefixBatch: batch)
    return accumulate(rows, lossScale: lossScale, rng: &rng)
  }

  public func accumulateWindowGradients(_ batch: WindowBatch, lossScale: Float, rng: inout SeededRNG) -> Double {
    let rows = TrainingRows(windowBatch: batch)
    return accumulate(rows, lossScale: lossScale, rng: &rng)
  }

  /// Forward, CE at the selected positions, backward.
  func accumulate(_ rows: TrainingRows, lossScale: Float, rng: inout SeededRNG) -> Double {
    if rows.positions.isEmpty { return 0 }
    let (hidden, _, cache) = encode(ids: rows.ids, batch: rows.batch, steps: rows.steps, training: true, rng: &rng)
    let selected = rows.gather(hidden)
    let logits = itemEmbedding.scores(selected)
    let count = rows.positions.count
    let meanLoss = Losses.softmaxCrossEntropy(
      logits: logits, targets: rows.targets, scale: lossScale * Float(count), gradientInto: logits)
    let dSelected = itemEmbedding.scoresBackward(logits, input: selected)
    encodeBackward(rows.scatter(dSelected, like: hidden), cache)
    return Double(meanLoss) * Double(count)
  }

  public func scores(_ batch: SequenceBatch, into scores: UnsafeMutablePointer<Float>) {
    let output = sequenceOutput(batch)
    itemEmbedding.scores(output, into: scores)
  }

  /// The user representation s [B, d] at each row's last real position (eval mode).
  public func sequenceOutput(_ batch: SequenceBatch) -> Tensor {
    let rows = TrainingRows(prefixBatch: batch)
    var rng = SeededRNG(seed: 0)
    let (hidden, _, _) = encode(ids: rows.ids, batch: rows.batch, steps: rows.steps, training: false, rng: &rng)
    return rows.gather(hidden)
  }
}

/// One RecBLR layer: gated recurrent layer → dropout → residual → LayerNorm → SiLU feed-forward (own residual + LN).
public final class RecBLRBlock: ParameterContainer {
  public let recurrent: GatedRecurrentLayer
  public let dropout: Dropout
  public let layerNorm: LayerNorm
  public let feedForward: FeedForward

  init(name: String, config: RecBLRConfig) {
    let d = config.hiddenSize
    recurrent = GatedRecurrentLayer(
      name: "\(name).behavior_modeling", modelDim: d, stateDim: config.stateSize, kernelSize: config.convWidth,
      maxLength: config.maxLength, padding: config.padding)
    dropout = Dropout(probability: config.dropout)
    layerNorm = LayerNorm(name: "\(name).layer_norm", size: d, eps: config.layerNormEps)
    feedForward = FeedForward(
      name: "\(name).ffn", size: d, innerSize: 4 * d, activation: .silu,
      innerDropoutProbability: config.dropout, outputDropoutProbability: config.dropout, eps: config.layerNormEps)
  }

  init(recurrent: GatedRecurrentLayer, dropout: Dropout, layerNorm: LayerNorm, feedForward: FeedForward) {
    self.recurrent = recurrent
    self.dropout = dropout
    self.layerNorm = layerNorm
    self.feedForward = feedForward
  }

  public var parameters: [Parameter] { recurrent.parameters + layerNorm.parameters + feedForward.parameters }

  struct Cache {
    var dropout: DropoutCache
    var layerNorm: LayerNormCache
    var feedForward: FeedForwardCache
  }

  func forward(_ x: Tensor, training: Bool, rng: inout SeededRNG) -> (Tensor, Cache) {
    let g = recurrent.forward(x)  // layer-owned buffer; dropout returns a fresh tensor
    let (sum, dropCache) = dropout.forward(g, training: training, rng: &rng)
    ElementwiseKernels.add(sum.ptr, sum.ptr, x.ptr, count: sum.count)
    let (y, normCache) = layerNorm.forward(sum)
    let (out, ffnCache) = feedForward.forward(y, training: training, rng: &rng)
    return (out, Cache(dropout: dropCache, layerNorm: normCache, feedForward: ffnCache))
  }

  /// Requires that this block's `forward` was the last one run on its recurrent layer (it keeps its own caches).
  func backward(_ dOut: Tensor, _ cache: Cache) -> Tensor {
    let dY = feedForward.backward(dOut, cache.feedForward)
    let dSum = layerNorm.backward(dY, cache.layerNorm)
    let dG = dropout.backward(dSum, cache.dropout)
    let dX = recurrent.backward(dG)
    ElementwiseKernels.add(dSum.ptr, dSum.ptr, dX.ptr, count: dSum.count)  // residual path + recurrent path
    return dSum
  }
}
