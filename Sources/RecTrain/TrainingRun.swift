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
    /// Workers each batch's micro-batches were spread over (`Trainer.dataParallelWorkers`). The float summation order
    /// depends on it, so a resumed run uses it again whatever `--threads` it is given. Absent in runs written before
    /// it was recorded, which used `threads`.
    public var dataParallelWorkers: Int?
  }

  /// Files of the resume state, rewritten after every epoch: `resume.safetensors` (parameter values, Adam's
  /// moments, the best parameters) and then `resume.json` (epochs so far, early stopping, random states).
  public static let resumeTensorsFile = "resume.safetensors"
  public static let resumeStateFile = "resume.json"

  /// Trains `spec` on `dataset` into `run`, spreading each batch over `dataParallelWorkers` model replicas
  /// (default: the threads configured in `Parallel`).
  @discardableResult
  public static func train(
    spec: ModelSpec, dataset: SequenceDataset, source: String, config: TrainingConfig, run: RunDirectory,
    dataParallelWorkers: Int? = nil, showProgress: Bool = true
  ) throws -> TrainingResult {
    try execute(
      spec: spec, dataset: dataset, source: source, config: config, run: run,
      workers: dataParallelWorkers ?? Parallel.appThreads, showProgress: showProgress, resume: nil)
  }

  /// Continues the run in `run` after its last completed epoch, with the same model, data and training settings
  /// (its `config.json`) except `epochs` and `timeBudgetSeconds`. The result is the one an uninterrupted run
  /// would have given (same batches, dropout masks and optimiser state) on any thread count, unless
  /// `dataParallelWorkers` is given and differs from the run's (then only the float summation order differs).
  /// `dataset` must be the run's data.
  @discardableResult
  public static func resume(
    run: RunDirectory, dataset: SequenceDataset, epochs: Int? = nil, timeBudgetSeconds: Double? = nil,
    dataParallelWorkers: Int? = nil, showProgress: Bool = true
  ) throws -> TrainingResult {
    let directory = run.url.path
    let resolved = try resolvedConfig(of: run)
    guard resolved.dataset.fingerprint == dataset.fingerprint else {
      throw TrainingError.invalidConfig(
        "\(directory): the run trained on \(resolved.dataset.source) (fingerprint \(resolved.dataset.fingerprint)); "
          + "the data given has fingerprint \(dataset.fingerprint): pass the same --data and dataset options")
    }
    let point: Trainer.ResumePoint = try readJSON(
      run.url.appendingPathComponent(resumeStateFile), what: "resume state (written after each completed epoch)")
    let tensors = try SafeTensorsFile(contentsOf: run.url.appendingPathComponent(resumeTensorsFile))
    guard tensors.metadata["epochs"] == String(point.epochsDone) else {
      throw TrainingError.invalidConfig(
        "\(directory): \(resumeStateFile) is after epoch \(point.epochsDone) but \(resumeTensorsFile) after epoch "
          + "\(tensors.metadata["epochs"] ?? "?") (interrupted while saving); cannot resume")
    }
    var config = resolved.training
    if let epochs { config.epochs = epochs }
    config.timeBudgetSeconds = timeBudgetSeconds
    return try execute(
      spec: resolved.model, dataset: dataset, source: resolved.dataset.source, config: config, run: run,
      workers: dataParallelWorkers ?? resolved.dataParallelWorkers ?? resolved.threads, showProgress: showProgress,
      resume: (point, tensors))
  }

  /// The resolved configuration a run directory was trained with (`config.json`).
  public static func resolvedConfig(of run: RunDirectory) throws -> ResolvedConfig {
    try readJSON(run.url.appendingPathComponent("config.json"), what: "run directory")
  }

  static func readJSON<T: Decodable>(_ url: URL, what: String) throws -> T {
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw TrainingError.invalidConfig("\(url.path): missing; not a \(what)")
    }
    do {
      return try JSONDecoder().decode(T.self, from: data)
    } catch {
      throw TrainingError.invalidConfig("\(url.path): unreadable \(what): \(error)")
    }
  }

  private static func execute(
    spec: ModelSpec, dataset: SequenceDataset, source: String, config: TrainingConfig, run: RunDirectory,
    workers: Int, showProgress: Bool, resume: (Trainer.ResumePoint, SafeTensorsFile)?
  ) throws -> TrainingResult {
    let model = spec.make(itemCount: dataset.itemCount, seed: config.seed)
    let split = LeaveOneOutSplit(dataset)
    let trainer = try Trainer(model: model, dataset: dataset, split: split, config: config)
    trainer.showProgress = showProgress
    trainer.dataParallelWorkers = max(1, workers)
    if let (point, tensors) = resume { try trainer.resume(from: point, tensors: tensors) }
    let info = Checkpoint(model: spec, seed: config.seed, training: config, dataset: dataset, source: source).dataset
    try run.writeJSON(
      ResolvedConfig(
        model: spec, training: config, dataset: info, parameterCount: model.parameterCount,
        threads: TensorCore.Parallel.appThreads, parallelism: TensorCore.Parallel.owner.rawValue,
        dataParallelWorkers: trainer.dataParallelWorkers),
      name: "config.json")
    if showProgress {
      var line =
        "\(spec.name): \(model.parameterCount) parameters; \(dataset.name): \(dataset.userCount) users, "
        + "\(dataset.itemCount - 1) items; \(split.train.count) training examples; objective \(config.objective.rawValue)\n"
      if let (point, _) = resume { line += "resuming \(run.url.path) after epoch \(point.epochsDone)\n" }
      FileHandle.standardError.write(Data(line.utf8))
    }
    var epochs = resume?.0.records ?? []
    trainer.onImprovement = { epoch, valid in
      let checkpoint = Checkpoint(
        model: spec, seed: config.seed, training: config, dataset: dataset, source: source, epoch: epoch, valid: valid)
      try checkpoint.write(model: model, to: run.url)
    }
    trainer.onEpoch = { record in
      epochs.append(record)
      try run.record(epochs, validMetric: config.validMetric)
    }
    trainer.onEpochEnd = {
      let point = trainer.resumePoint
      try SafeTensorsWriter.write(
        tensors: trainer.resumeTensors(), metadata: ["epochs": String(point.epochsDone)],
        to: run.url.appendingPathComponent(resumeTensorsFile))
      try run.writeJSON(point, name: resumeStateFile)
    }
    let result = try trainer.fit()
    try run.writeJSON(result, name: "result.json")
    return result
  }
}
