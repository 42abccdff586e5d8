/// RecBole's early-stopping rule (`recbole.utils.early_stopping`): the best value starts at −∞; a validation value
/// that is **greater than or equal to** the best counts as an improvement (ties included) and resets the counter;
/// otherwise the counter grows, and training stops once it exceeds `stoppingStep` (i.e. after the
/// `stoppingStep + 1`-th consecutive non-improving validation).
public struct EarlyStopping: Sendable, Codable {
  public let stoppingStep: Int
  public private(set) var best: Double = -.infinity
  public private(set) var bestEpoch: Int = -1
  public private(set) var badEpochs = 0

  public init(stoppingStep: Int = 10) { self.stoppingStep = stoppingStep }

  /// True once `record` has answered `.stop`.
  public var hasStopped: Bool { badEpochs > stoppingStep }

  public enum Decision: Equatable, Sendable {
    /// New best (or tie): save a checkpoint.
    case improved
    case noImprovement
    case stop
  }

  /// Records the validation value of `epoch` and says what to do.
  public mutating func record(_ value: Double, epoch: Int) -> Decision {
    if value >= best {
      best = value
      bestEpoch = epoch
      badEpochs = 0
      return .improved
    }
    badEpochs += 1
    return badEpochs > stoppingStep ? .stop : .noImprovement
  }
}
