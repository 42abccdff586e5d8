/// Which loss a training epoch optimises.
public enum TrainingObjective: String, Codable, Sendable, CaseIterable {
  /// RecBole's: one example per (prefix, next item), loss at the last real position only. The reference.
  case prefix
  /// Causal models only: one forward per window of a user's sequence, loss at every position whose next item is a
  /// training target; every training target appears exactly once per epoch.
  case allPositions = "all-positions"
}

/// Which ranking protocol validation and test use.
public enum EvaluationMode: String, Codable, Sendable, CaseIterable {
  /// Rank the target against every item (RecBole `mode: full`).
  case full
  /// Rank the target against 100 popularity-sampled negatives (GLINT-RU's code, RecBole `mode: pop100`).
  case sampled
}

/// Everything the trainer needs besides the model and the data. Defaults are RecBole's (and the papers').
public struct TrainingConfig: Codable, Sendable, Equatable {
  public var epochs = 300
  /// Examples (prefix objective) or training targets (all-positions objective) per optimiser step.
  public var batchSize = 2048
  /// Rows (prefix objective; at most `Trainer.microBatchPositions` positions in all) or targets (all-positions
  /// objective) run through the model at once; gradients of a batch's micro-batches are summed before the step.
  public var microBatchSize = 256
  public var learningRate: Float = 1e-3
  public var weightDecay: Float = 0
  /// Global gradient-norm clipping threshold (nil = off, RecBole's default).
  public var clipGradNorm: Float? = nil
  /// RecBole `stopping_step`: stop after `stoppingStep + 1` validations without improvement.
  public var stoppingStep = 10
  public var validMetric = "NDCG@10"
  /// Stop after the first epoch that ends past this many seconds of training and validation (nil = no limit);
  /// the best checkpoint so far is then tested as usual. The result says the run was cut short.
  public var timeBudgetSeconds: Double? = nil
  public var ks = [10, 20]
  public var evalBatchSize = 512
  public var seed: UInt64 = 2020
  public var objective: TrainingObjective = .prefix
  /// All-positions objective: targets per window chunk (nil = the model's max length: non-overlapping windows).
  public var windowStride: Int? = nil
  /// All-positions objective: runs per window per epoch, each with the loss of a random share of its targets (nil
  /// or 1 = one run per window; see `TrainingWindow`). Every target is still trained on once per epoch.
  public var windowSplits: Int? = nil
  public var evaluation: EvaluationMode = .full
  /// Mask items of the user's history when ranking (off by default, as RecBole does for sequential models).
  public var maskHistory = false

  public init() {}

  /// Why these settings cannot train (nil when they can).
  public var problem: String? {
    if epochs < 1 { return "epochs must be at least 1, got \(epochs)" }
    if batchSize < 1 || microBatchSize < 1 { return "batch sizes must be positive" }
    if !(learningRate > 0 && learningRate.isFinite) { return "the learning rate must be positive, got \(learningRate)" }
    if !(weightDecay >= 0 && weightDecay.isFinite) { return "weight decay must be ≥ 0, got \(weightDecay)" }
    if let clipGradNorm, !(clipGradNorm > 0) { return "the gradient-norm clip must be positive, got \(clipGradNorm)" }
    if stoppingStep < 0 { return "the stopping step must be ≥ 0, got \(stoppingStep)" }
    if let timeBudgetSeconds, !(timeBudgetSeconds > 0) {
      return "the time budget must be positive, got \(timeBudgetSeconds) s (\(timeBudgetSeconds / 60) min)"
    }
    if ks.isEmpty || ks.contains(where: { $0 < 1 }) { return "cut-offs K must be at least 1, got \(ks)" }
    if evalBatchSize < 1 { return "the evaluation batch size must be at least 1, got \(evalBatchSize)" }
    if let windowStride, windowStride < 1 { return "the window stride must be at least 1, got \(windowStride)" }
    if let windowSplits {
      if windowSplits < 1 { return "the window splits must be at least 1, got \(windowSplits)" }
      if windowSplits > 1 && objective != .allPositions {
        return "window splits (\(windowSplits)) apply to the all-positions objective, not \(objective.rawValue)"
      }
    }
    return nil
  }
}
