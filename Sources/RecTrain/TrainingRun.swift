import Foundation
import RecData
import RecEval
import RecModels
import TensorCore

/// Everything `seqrec train` does, callable from code and tests: build the model, train it with the trainer,
/// write the run directory (config, per-epoch metrics, learning curve, best checkpoint, result).
public enum TrainingRun {
  public struct ResolvedConfig: Codable, Sendable {
    public var model: ModelSpec
    public var training: TrainingConfig
    public var dataset: Checkpoint.DatasetInfo
    public var parameterCount: Int
    public var threads: Int
    public var parallelism: String
  }

  @discardableResult
  public static func train(
    spec: ModelSpec, dataset: SequenceDataset, source: String, config: TrainingConfig, run: RunDirectory,
    showProgress: Bool = true
  ) throws -> TrainingResult {
    let model = spec.make(itemCount: dataset.itemCount, seed: config.seed)
    let split = LeaveOneOutSplit(dataset)
    let trainer = try Trainer(model: model, dataset: dataset, split: split, config: config)
    trainer.showProgress = showProgress
    let info = Checkpoint(model: spec, seed: config.seed, training: config, dataset: dataset, source: source).dataset
    try run.writeJSON(
      ResolvedConfig(
        model: spec, training: config, dataset: info, parameterCount: model.parameterCount,
        threads: TensorCore.Parallel.appThreads, parallelism: TensorCore.Parallel.owner.rawValue),
      name: "config.json")
    if showProgress {
      let line =
        "\(spec.name): \(model.parameterCount) parameters; \(dataset.name): \(dataset.userCount) users, "
        + "\(dataset.itemCount - 1) items; \(split.train.count) training examples; objective \(config.objective.rawValue)\n"
      FileHandle.standardError.write(Data(line.utf8))
    }
    var epochs: [EpochRecord] = []
    trainer.onImprovement = { epoch, valid in
      let checkpoint = Checkpoint(
        model: spec, seed: config.seed, training: config, dataset: dataset, source: source, epoch: epoch, valid: valid)
      try checkpoint.write(model: model, to: run.url)
    }
    trainer.onEpoch = { record in
      epochs.append(record)
      try run.record(epochs, validMetric: config.validMetric)
    }
    let result = try trainer.fit()
    try run.writeJSON(result, name: "result.json")
    return result
  }
}
