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

  /// One training step on prefix examples (one target per row, RecBole's objective): forward in training mode
  /// (dropout on), mean softmax cross-entropy over all `itemCount` columns, backward that accumulates into every
  /// parameter's `grad`. Returns the mean loss of the batch.
  func trainStep(_ batch: SequenceBatch, rng: inout SeededRNG) -> Float

  /// Scores for every item id (eval mode, no dropout) written row-major into `scores` (B × itemCount).
  /// Column 0 (padding) is left as computed; evaluation masks it.
  func scores(_ batch: SequenceBatch, into scores: UnsafeMutablePointer<Float>)
}
