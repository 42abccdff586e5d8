import NN
import RecData
import TensorCore

/// GLINT-RU (Zhang et al., KDD 2025) exactly as the official code computes it (spec `glintru.md` §1): embedding
/// without positions → (linear-attention expert ‖ dense selective GRU expert) → softmax mixing → gated MLP, the
/// output at each row's last item, scores tied to the item table.
///
/// The model is **not causal**: the centred convolutions read ahead and the attention state sums over all L
/// positions, padding included, so a row's output depends on the L − n padding tokens after it. It therefore
/// trains on RecBole's padded prefix rows only (one target per row, `SequentialRecommender`), never with a loss at
/// every position.
///
/// Each row is computed with the exact shortcut of spec §1.11 (`GLINTRULayout`): the convolution/GRU branch runs on
/// the min(n + 2r, L) positions the output at n − 1 depends on, the padding positions enter only as attention keys
/// (in eval mode as one key of weight L − T_b), and the rest runs on one position per row. Dropout masks are drawn
/// per token (`PositionalDropout`), so the shortcut gives exactly what the full L-position computation
/// (`outputsAtAllPositions`) gives with the same seed, in training as in eval (unless `config.paddingKeyDropout`
/// is `.sharedPerRow`, a cheaper approximation in training).
public final class GLINTRU: SequentialRecommender, ReplicableRecommender {
  public let name = "glintru"
  public let config: GLINTRUConfig
  public let itemCount: Int
  public var maxLength: Int { config.maxLength }
  public let network: GLINTRUNetwork

  public init(config: GLINTRUConfig, itemCount: Int, seed: UInt64) {
    self.config = config
    self.itemCount = itemCount
    network = GLINTRUNetwork(config: config, itemCount: itemCount, causal: false, seed: seed)
  }

  /// A data-parallel replica: same config, every parameter value shared with this model, private gradients.
  public func replica() -> GLINTRU { GLINTRU(replicaOf: self) }

  init(replicaOf other: GLINTRU) {
    config = other.config
    itemCount = other.itemCount
    network = GLINTRUNetwork(replicaOf: other.network)
  }

  public var parameters: [Parameter] { network.parameters }

  // MARK: - Encoder forward and backward (mirror images)

  /// What `encodeBackward` needs from `encode`.
  struct EncoderCache {
    var layout: GLINTRULayout
    var embeddingDropout: DropoutCache
    var keys: KeyInput
    var attention: LinearAttentionExpert.Cache
    var recurrent: SelectiveGRUExpert.LastPositionCache
    var output: GLINTRUOutputBlock.Cache
  }

  /// The attention keys of every row: its branch rows, then its padding tokens beyond them.
  struct KeyInput {
    var input: Tensor
    var segments: SequenceSegments
    var weights: [Float]?
  }

  /// The user representation R [B, d] at each row's position n − 1 (`batch.maxLength` must be L).
  func encode(_ batch: SequenceBatch, training: Bool, seed: UInt64) -> (Tensor, EncoderCache) {
    precondition(
      batch.maxLength == config.maxLength,
      "GLINT-RU: batch rows are padded to \(batch.maxLength), the model reads L = \(config.maxLength)")
    let layout = GLINTRULayout(batch: batch, kernelSize: config.kernelSize)
    let (x, dropCache) = network.embeddingDropout.forward(
      network.itemEmbedding.forward(layout.branchIds), at: layout.branchTokens, seed: seed, training: training)
    let keys = keyInput(x, layout: layout, training: training, seed: seed)
    let last = gatherRows(x, layout.lastRows)
    let context = ELULinearAttention.Context.global(
      querySegments: .uniform(count: layout.batch, length: 1), keySegments: keys.segments, keyWeights: keys.weights)
    let (a, attentionCache) = network.attention.forward(
      queryInput: last, keyInput: keys.input, context: context, queryTokens: layout.lastTokens, seed: seed,
      training: training)
    let (y, recurrentCache) = network.recurrent.forwardAtLastPositions(
      x, layout: layout, seed: seed, training: training)
    let (r, outputCache) = network.output.forward(
      x: last, recurrent: y, attention: a, tokens: layout.lastTokens, seed: seed, training: training)
    let cache = EncoderCache(
      layout: layout, embeddingDropout: dropCache, keys: keys, attention: attentionCache, recurrent: recurrentCache,
      output: outputCache)
    return (r, cache)
  }

  /// dR [B, d] → accumulates every parameter gradient.
  func encodeBackward(_ dR: Tensor, _ cache: EncoderCache) {
    let layout = cache.layout
    let (dLast, dY, dA) = network.output.backward(dR, cache.output)
    let dx = network.recurrent.backwardAtLastPositions(dY, cache.recurrent)
    let (dQuery, dKeys) = network.attention.backward(dA, cache.attention)
    scatterAddRows(dLast, layout.lastRows, into: dx)
    scatterAddRows(dQuery, layout.lastRows, into: dx)
    addBranchKeyGradients(dKeys, segments: cache.keys.segments, layout: layout, into: dx)
    let dEmbedded = network.embeddingDropout.backward(dx, cache.embeddingDropout)
    network.itemEmbedding.backward(dEmbedded, ids: layout.branchIds)
  }

  /// Keys of row b: its T_b branch rows (weight 1), then its L − T_b padding tokens. With embedding dropout active
  /// each padding token has its own mask, so each is a key; otherwise they are all E₀ and one key of weight L − T_b
  /// stands for them (also in training with `.sharedPerRow`, then with the mask of token T_b). Padding keys get no
  /// gradient into the table (E₀ is the padding row).
  func keyInput(_ x: Tensor, layout: GLINTRULayout, training: Bool, seed: UInt64) -> KeyInput {
    let d = config.hiddenSize
    let perToken = network.embeddingDropout.isActive(training: training) && config.paddingKeyDropout == .perToken
    var paddingTokens: [TokenPosition] = []
    var keyLengths: [Int] = []
    var weights: [Float] = []
    for b in 0..<layout.batch {
      let (branchLength, padding) = (layout.branch.length(b), layout.paddingCounts[b])
      let paddingKeys = perToken ? padding : min(padding, 1)
      keyLengths.append(branchLength + paddingKeys)
      weights += [Float](repeating: 1, count: branchLength)
      if perToken {
        paddingTokens += (branchLength..<config.maxLength).map { TokenPosition(row: b, position: $0) }
      } else if padding > 0 {
        paddingTokens.append(TokenPosition(row: b, position: branchLength))
        weights.append(Float(padding))
      }
    }
    let padding = network.embeddingDropout.forward(
      network.itemEmbedding.forward([Int32](repeating: 0, count: paddingTokens.count)), at: paddingTokens, seed: seed,
      training: training
    ).0
    let segments = SequenceSegments(lengths: keyLengths)
    let input = Tensor(zeros: [segments.totalLength, d])
    var paddingRow = 0
    for b in 0..<layout.batch {
      let (branch, keys) = (layout.branch.range(b), segments.range(b))
      (input.ptr + keys.lowerBound * d).update(from: x.ptr + branch.lowerBound * d, count: branch.count * d)
      let extra = keys.count - branch.count
      (input.ptr + (keys.lowerBound + branch.count) * d).update(from: padding.ptr + paddingRow * d, count: extra * d)
      paddingRow += extra
    }
    return KeyInput(input: input, segments: segments, weights: perToken ? nil : weights)
  }

  /// dx[branch rows of b] += dKeys[first T_b keys of b] (the padding keys' gradients stop at E₀).
  func addBranchKeyGradients(_ dKeys: Tensor, segments: SequenceSegments, layout: GLINTRULayout, into dx: Tensor) {
    let d = config.hiddenSize
    for b in 0..<layout.batch {
      let (branch, keys) = (layout.branch.range(b), segments.range(b))
      ElementwiseKernels.add(
        dx.ptr + branch.lowerBound * d, dx.ptr + branch.lowerBound * d, dKeys.ptr + keys.lowerBound * d,
        count: branch.count * d)
    }
  }

  // MARK: - Objective and scoring

  public func accumulateGradients(_ batch: SequenceBatch, lossScale: Float, rng: inout SeededRNG) -> Double {
    if batch.count == 0 { return 0 }
    let (r, cache) = encode(batch, training: true, seed: rng.next())
    let (loss, dR) = network.crossEntropy(r, targets: batch.targets, lossScale: lossScale)
    encodeBackward(dR, cache)
    return loss
  }

  public func scores(_ batch: SequenceBatch, into scores: UnsafeMutablePointer<Float>) {
    network.itemEmbedding.scores(sequenceOutput(batch), into: scores)
  }

  /// The user representation [B, d] at each row's last item (eval mode).
  public func sequenceOutput(_ batch: SequenceBatch) -> Tensor {
    encode(batch, training: false, seed: 0).0
  }

  /// The full computation, as the official code runs it: items [B, L] (row-major, any ids) → R at every one of the
  /// L positions, [B, L, d]. With `training`, dropout masks come from `seed` exactly as in `accumulateGradients`'s
  /// forward. For analysis and tests (it computes all L positions of every row).
  public func outputsAtAllPositions(items: [Int32], training: Bool = false, seed: UInt64 = 0) -> Tensor {
    let length = config.maxLength
    precondition(items.count % length == 0, "GLINT-RU: \(items.count) ids are not rows of L = \(length)")
    let batch = items.count / length
    let (r, _) = network.encodeAllPositions(ids: items, batch: batch, steps: length, training: training, seed: seed)
    return r.reshaped([batch, length, config.hiddenSize])
  }
}
