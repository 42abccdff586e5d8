import NN
import RecData
import TensorCore

/// A causal variant of GLINT-RU (not in the paper): the same layers and parameter names as `GLINTRU`, but both
/// convolutions read the current and K−1 previous positions (taps t−K+1 … t) and the linear attention keeps a
/// running d_h × d_h state per head (position t sees keys 0…t; padding after a row never enters). The output at t
/// then depends on items 0…t only, so the model trains with a loss at every position of a window
/// (`accumulateWindowGradients`) and serves in O(1) per item (`step`, in `GLINTRUCausal+Streaming.swift`).
public final class GLINTRUCausal: CausalSequentialRecommender, ReplicableRecommender {
  public let name = "glintru-causal"
  public let config: GLINTRUConfig
  public let itemCount: Int
  public var maxLength: Int { config.maxLength }
  public let network: GLINTRUNetwork

  public init(config: GLINTRUConfig, itemCount: Int, seed: UInt64) {
    self.config = config
    self.itemCount = itemCount
    network = GLINTRUNetwork(config: config, itemCount: itemCount, causal: true, seed: seed)
  }

  /// A data-parallel replica: same config, every parameter value shared with this model, private gradients.
  public func replica() -> GLINTRUCausal { GLINTRUCausal(replicaOf: self) }

  init(replicaOf other: GLINTRUCausal) {
    config = other.config
    itemCount = other.itemCount
    network = GLINTRUNetwork(replicaOf: other.network)
  }

  public var parameters: [Parameter] { network.parameters }

  // MARK: - Objectives and scoring

  public func accumulateGradients(_ batch: SequenceBatch, lossScale: Float, rng: inout SeededRNG) -> Double {
    accumulate(TrainingRows(prefixBatch: batch), lossScale: lossScale, rng: &rng)
  }

  public func accumulateWindowGradients(_ batch: WindowBatch, lossScale: Float, rng: inout SeededRNG) -> Double {
    accumulate(TrainingRows(windowBatch: batch), lossScale: lossScale, rng: &rng)
  }

  /// Forward over the rows (up to the longest), cross-entropy at the selected positions, backward.
  func accumulate(_ rows: TrainingRows, lossScale: Float, rng: inout SeededRNG) -> Double {
    if rows.positions.isEmpty { return 0 }
    let (hidden, cache) = network.encodeAllPositions(
      ids: rows.ids, batch: rows.batch, steps: rows.steps, training: true, seed: rng.next())
    let selected = rows.gather(hidden)
    let (loss, dSelected) = network.crossEntropy(selected, targets: rows.targets, lossScale: lossScale)
    network.encodeAllPositionsBackward(rows.scatter(dSelected, like: hidden), cache)
    return loss
  }

  public func scores(_ batch: SequenceBatch, into scores: UnsafeMutablePointer<Float>) {
    network.itemEmbedding.scores(sequenceOutput(batch), into: scores)
  }

  /// The user representation [B, d] at each row's last real position (eval mode).
  public func sequenceOutput(_ batch: SequenceBatch) -> Tensor {
    let rows = TrainingRows(prefixBatch: batch)
    let (hidden, _) = network.encodeAllPositions(
      ids: rows.ids, batch: rows.batch, steps: rows.steps, training: false, seed: 0)
    return rows.gather(hidden)
  }

  /// R at every position of every row, [B, steps, d] (eval mode), for rows [B, steps] of ids.
  public func outputsAtAllPositions(items: [Int32], steps: Int) -> Tensor {
    precondition(steps > 0 && items.count % steps == 0, "GLINT-RU causal: \(items.count) ids are not rows of \(steps)")
    let batch = items.count / steps
    let (r, _) = network.encodeAllPositions(ids: items, batch: batch, steps: steps, training: false, seed: 0)
    return r.reshaped([batch, steps, config.hiddenSize])
  }
}
