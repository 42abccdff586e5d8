import NN
import RecData
import TensorCore

/// The contract every trainable next-item model follows (RecBole's `calculate_loss` / `full_sort_predict`).
///
/// Models own the math only: the trainer owns epochs, batching, optimisation, early stopping and checkpoints.
public protocol SequentialRecommender: ParameterContainer {
  /// Short model name, e.g. "recblr".
  var name: String { get }
  /// Number of item ids including padding (width of the score matrix).
  var itemCount: Int { get }
  /// Maximum history length L the model reads.
  var maxLength: Int { get }

  /// Prefix objective (RecBole's; one target per row): forward in training mode (dropout on), softmax
  /// cross-entropy of each row over all `itemCount` columns, backward that **accumulates** into every parameter's
  /// `grad` the gradient of `lossScale · Σ_rows loss`. Returns `Σ_rows loss` (not scaled), so a trainer can split
  /// one optimisation batch into micro-batches with `lossScale = 1 / batchSize` and get the batch-mean gradient.
  func accumulateGradients(_ batch: SequenceBatch, lossScale: Float, rng: inout SeededRNG) -> Double

  /// Scores for every item id (eval mode, no dropout) written row-major into `scores` (B × itemCount).
  /// Column 0 (padding) is left as computed; evaluation masks it.
  func scores(_ batch: SequenceBatch, into scores: UnsafeMutablePointer<Float>)
}

/// A model whose output at position t depends only on items 0…t (causal), so one forward over a window can be
/// trained with a loss at every position (the all-positions objective).
public protocol CausalSequentialRecommender: SequentialRecommender {
  /// All-positions objective: `batch.items` holds windows (left-aligned, right-padded); `targets[r·L + t]` is the
  /// next item after position t of row r, or 0 where no loss is taken. Accumulates the gradient of
  /// `lossScale · Σ loss over every position with a target`; returns that sum (unscaled).
  func accumulateWindowGradients(_ batch: WindowBatch, lossScale: Float, rng: inout SeededRNG) -> Double
}
