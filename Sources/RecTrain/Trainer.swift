import Foundation
import NN
import RecData
import RecEval
import RecModels
import TensorCore

/// Why training stopped early with an error.
public enum TrainingError: Error, CustomStringConvertible {
  case nonFiniteLoss(epoch: Int, batch: Int, value: Double)
  case objectiveNeedsCausalModel(model: String)
  case invalidConfig(String)
  /// The data cannot be split or trained on (e.g. no user long enough for a validation example).
  case unusableData(String)

  public var description: String {
    switch self {
    case .nonFiniteLoss(let epoch, let batch, let value):
      return "training diverged: loss is \(value) at epoch \(epoch + 1), batch \(batch + 1) (try a lower learning rate)"
    case .objectiveNeedsCausalModel(let model):
      return "the all-positions objective needs a causal model; \(model) is not causal (use --objective prefix)"
    case .invalidConfig(let message):
      return "invalid training configuration: \(message)"
    case .unusableData(let message):
      return "cannot train on this data: \(message)"
    }
  }
}

/// One epoch's record, as written to `metrics.jsonl`.
public struct EpochRecord: Codable, Sendable {
  public var epoch: Int
  public var trainLoss: Double
  public var trainSeconds: Double
  public var examplesPerSecond: Double
  public var validSeconds: Double
  public var valid: MetricReport
  public var improved: Bool
}

/// What `fit` returns.
public struct TrainingResult: Codable, Sendable {
  public var epochs: [EpochRecord]
  public var bestEpoch: Int
  public var bestValid: Double
  public var test: MetricReport
  public var stoppedEarly: Bool
  /// Why training ended: early stopping, the epoch limit, or the time budget.
  public var stopReason: String
  public var secondsPerEpoch: Double {
    epochs.isEmpty ? 0 : epochs.map(\.trainSeconds).reduce(0, +) / Double(epochs.count)
  }
}

/// Owns the training loop: shuffled batches split into micro-batches, Adam, validation every epoch, RecBole's early
/// stopping, the best parameters restored for one test evaluation. Models own only the math.
public final class Trainer {
  public let model: any SequentialRecommender
  public let dataset: SequenceDataset
  public let split: LeaveOneOutSplit
  public let config: TrainingConfig
  /// Called after an epoch whose validation value is a new best (write the checkpoint here).
  public var onImprovement: ((Int, MetricReport) throws -> Void)?
  /// Called after every epoch (write logs here).
  public var onEpoch: ((EpochRecord) throws -> Void)?
  /// Called after every epoch once its state is final (`resumePoint`, `resumeTensors()`): save the resume state here.
  public var onEpochEnd: (() throws -> Void)?
  /// Shows a progress bar per epoch.
  public var showProgress = true
  /// Workers a batch's micro-batches are spread over, each with a model replica sharing the parameter values
  /// (default `Parallel.appThreads`; 1 = serial; models that are not a `ReplicableRecommender` always run serially).
  /// Only the order of float summation differs from the serial run (see `MicroBatchRunner`).
  public var dataParallelWorkers = Parallel.appThreads {
    didSet { runner = nil }
  }

  private let optimizer: Adam
  private var rng: SeededRNG
  private var sampledEvaluator: PopularitySampledEvaluator?
  private var runner: MicroBatchRunner?
  /// `fit()`'s progress: early stopping, the epochs done, the best parameters so far (empty before the first epoch).
  private var stopping: EarlyStopping
  private var records: [EpochRecord] = []
  private var best: [Tensor] = []
  /// Workers the last training batches ran on (1: serial).
  public var activeWorkers: Int { runner?.workerCount ?? 1 }

  public init(
    model: any SequentialRecommender, dataset: SequenceDataset, split: LeaveOneOutSplit, config: TrainingConfig
  )
    throws
  {
    if let problem = config.problem { throw TrainingError.invalidConfig(problem) }
    guard !split.train.isEmpty, !split.valid.isEmpty, !split.test.isEmpty else {
      let longest = dataset.sequences.map(\.count).max() ?? 0
      throw TrainingError.unusableData(
        "\(dataset.name): \(split.train.count) training, \(split.valid.count) validation and \(split.test.count) test "
          + "examples: leave-one-out needs users with at least 3 interactions for each part "
          + "(\(dataset.userCount) users, the longest has \(longest))")
    }
    if config.objective == .allPositions && !(model is any CausalSequentialRecommender) {
      throw TrainingError.objectiveNeedsCausalModel(model: model.name)
    }
    self.model = model
    self.dataset = dataset
    self.split = split
    self.config = config
    self.rng = SeededRNG(seed: config.seed &+ 0x5EED)
    self.stopping = EarlyStopping(stoppingStep: config.stoppingStep)
    var adam = Adam.Configuration()
    adam.learningRate = Double(config.learningRate)
    adam.weightDecay = Double(config.weightDecay)
    adam.maxGradientNorm = config.clipGradNorm.map(Double.init)
    self.optimizer = Adam(parameters: model.parameters, configuration: adam)
    if config.evaluation == .sampled {
      sampledEvaluator = try PopularitySampledEvaluator(dataset: dataset, seed: config.seed)
    }
  }

  /// Trains until early stopping or `config.epochs`, then evaluates the best parameters on the test set. After
  /// `resume(from:tensors:)` it continues where the saved run stopped.
  public func fit() throws -> TrainingResult {
    if best.isEmpty { best = snapshot() }
    var stoppedEarly = stopping.hasStopped
    var stopReason =
      stoppedEarly
      ? "early stopping: \(config.stoppingStep + 1) epochs without improvement" : "reached \(config.epochs) epochs"
    let started = Date()
    for epoch in records.count..<(stoppedEarly ? records.count : max(config.epochs, records.count)) {
      let (loss, seconds, examples) = try trainEpoch(epoch)
      let validStart = Date()
      let valid = try evaluate(split.valid)
      let validSeconds = Date().timeIntervalSince(validStart)
      guard let value = valid[config.validMetric] else {
        throw TrainingError.invalidConfig("validation metric \(config.validMetric) is not computed (ks \(config.ks))")
      }
      let decision = stopping.record(value, epoch: epoch)
      let record = EpochRecord(
        epoch: epoch + 1, trainLoss: loss, trainSeconds: seconds, examplesPerSecond: Double(examples) / seconds,
        validSeconds: validSeconds, valid: valid, improved: decision == .improved)
      records.append(record)
      if showProgress {
        let mark = decision == .improved ? " *" : ""
        FileHandle.standardError.write(Data("  valid \(valid.line)\(mark)\n".utf8))
      }
      if decision == .improved {
        best = snapshot()
        try onImprovement?(epoch + 1, valid)
      }
      try onEpoch?(record)
      try onEpochEnd?()
      if decision == .stop {
        stoppedEarly = true
        stopReason = "early stopping: \(config.stoppingStep + 1) epochs without improvement"
        break
      }
      if let budget = config.timeBudgetSeconds, Date().timeIntervalSince(started) >= budget {
        stopReason = "time budget of \(Int(budget)) s used after \(epoch + 1) epochs (not converged)"
        break
      }
    }
    restore(best)
    let test = try evaluate(split.test)
    return TrainingResult(
      epochs: records, bestEpoch: stopping.bestEpoch + 1, bestValid: stopping.best, test: test,
      stoppedEarly: stoppedEarly, stopReason: stopReason)
  }

  /// One pass over the training data; returns (mean loss per target, seconds, targets).
  public func trainEpoch(_ epoch: Int) throws -> (Double, Double, Int) {
    let stats = try trainBatches(epoch: epoch)
    return (stats.meanLoss, stats.seconds, stats.targets)
  }

  /// What `trainBatches` did.
  public struct TrainingStatistics: Sendable {
    public var meanLoss: Double
    public var seconds: Double
    /// Training targets (loss terms) processed.
    public var targets: Int
    /// Real (non-padding) sequence positions run through the model.
    public var positions: Int
    public var batches: Int
    /// Batches in a full epoch.
    public var epochBatches: Int
    /// Training targets in a full epoch.
    public var epochTargets: Int
  }

  /// One epoch's shuffled batches with optimiser steps, or only the first `batchLimit` of them (benchmarks).
  public func trainBatches(epoch: Int, batchLimit: Int? = nil) throws -> TrainingStatistics {
    if runner == nil { runner = MicroBatchRunner(model: model, workers: dataParallelWorkers) }
    switch config.objective {
    case .prefix: return try trainPrefixBatches(epoch: epoch, limit: batchLimit ?? .max)
    case .allPositions: return try trainWindowBatches(epoch: epoch, limit: batchLimit ?? .max)
    }
  }

  private func trainPrefixBatches(epoch: Int, limit: Int) throws -> TrainingStatistics {
    var order = split.train
    order.shuffle(using: &rng)
    let epochBatches = (order.count + config.batchSize - 1) / config.batchSize
    let planned = min(order.count, config.batchSize * min(limit, epochBatches))
    let bar = ProgressBar(
      label: "epoch \(epoch + 1)", total: planned, interactive: showProgress && ProgressBar.stderrIsTerminal)
    let (runner, model, dataset) = (self.runner!, self.model, self.dataset)
    var (lossSum, positions, batchIndex, done) = (0.0, 0, 0, 0)
    let maxLength = model.maxLength
    for batchStart in stride(from: 0, to: planned, by: config.batchSize) {
      let batch = batchStart..<min(batchStart + config.batchSize, order.count)
      // Longest histories first, so that a micro-batch holds similar lengths (each runs to its longest row).
      order[batch].sort { a, b in
        let (la, lb) = (min(Int(a.position), maxLength), min(Int(b.position), maxLength))
        return la != lb ? la > lb : (a.user, a.position) < (b.user, b.position)
      }
      var micro: [Range<Int>] = []
      var start = batch.lowerBound
      while start < batch.upperBound {
        let longest = max(1, min(Int(order[start].position), maxLength))
        let rows = min(config.microBatchSize, max(1, Self.microBatchPositions / longest))
        micro.append(start..<min(start + rows, batch.upperBound))
        start = micro.last!.upperBound
      }
      let lengths = micro.map { r in order[r].reduce(0) { $0 + min(Int($1.position), maxLength) } }
      let scale = 1 / Float(batch.count)
      let costs = micro.map { r in Double(r.count * min(Int(order[r.lowerBound].position), maxLength) + r.count) }
      let batchLoss = runner.run(costs: costs, rng: &rng) { [order] i, worker, rng in
        worker.accumulateGradients(dataset.batch(order[micro[i]], maxLength: maxLength), lossScale: scale, rng: &rng)
      }
      try step(loss: batchLoss, epoch: epoch, batch: batchIndex)
      lossSum += batchLoss
      positions += lengths.reduce(0, +)
      done += batch.count
      batchIndex += 1
      bar.advance(by: batch.count, loss: lossSum / Double(done))
    }
    let mean = lossSum / Double(max(done, 1))
    if showProgress { bar.finish(loss: mean) }
    return TrainingStatistics(
      meanLoss: mean, seconds: bar.elapsed, targets: done, positions: positions, batches: batchIndex,
      epochBatches: epochBatches, epochTargets: order.count)
  }

  private func trainWindowBatches(epoch: Int, limit: Int) throws -> TrainingStatistics {
    guard model is any CausalSequentialRecommender else {
      throw TrainingError.objectiveNeedsCausalModel(model: model.name)
    }
    let stride = config.windowStride ?? model.maxLength
    var windows = dataset.trainingWindows(maxLength: model.maxLength, stride: stride)
    if let splits = config.windowSplits, splits > 1 {
      windows = windows.splittingTargets(parts: splits, seed: rng.next())
    }
    windows.shuffle(using: &rng)
    let total = windows.reduce(0) { $0 + Int($1.targetCount) }
    // A batch is a run of windows holding about `batchSize` targets; micro-batches hold about `microBatchSize`.
    // Inside a batch, windows are ordered longest first so that a micro-batch holds windows of similar length: every
    // row runs to the micro-batch's longest window, and on ML-1M (L = 200) shuffled micro-batches of 256 targets
    // computed 34% padding positions against 8.5% when sorted. The batch's gradient is the same either way.
    let batches = Self.group(windows, indices: windows.indices, size: config.batchSize)
    for batch in batches {
      windows[batch.range].sort { a, b in
        a.length != b.length ? a.length > b.length : (a.user, a.start, a.part) < (b.user, b.start, b.part)
      }
    }
    let planned = batches.prefix(limit).reduce(0) { $0 + $1.targets }
    let bar = ProgressBar(
      label: "epoch \(epoch + 1)", total: planned, interactive: showProgress && ProgressBar.stderrIsTerminal)
    let (runner, model, dataset) = (self.runner!, self.model, self.dataset)
    var (lossSum, positions, batchIndex, done) = (0.0, 0, 0, 0)
    for batch in batches.prefix(limit) {
      let micro = Self.group(windows, indices: batch.range, size: config.microBatchSize)
      let scale = 1 / Float(batch.targets)
      let costs = micro.map { m in
        Double(m.range.count * windows[m.range].reduce(0) { max($0, Int($1.length)) } + m.targets)
      }
      let batchLoss = runner.run(costs: costs, rng: &rng) { i, worker, rng in
        let wb = dataset.windowBatch(windows[micro[i].range], maxLength: model.maxLength)
        return (worker as! any CausalSequentialRecommender).accumulateWindowGradients(wb, lossScale: scale, rng: &rng)
      }
      try step(loss: batchLoss, epoch: epoch, batch: batchIndex)
      lossSum += batchLoss
      positions += windows[batch.range].reduce(0) { $0 + Int($1.length) }
      done += batch.targets
      batchIndex += 1
      bar.advance(by: batch.targets, loss: lossSum / Double(done))
    }
    let mean = lossSum / Double(max(done, 1))
    if showProgress { bar.finish(loss: mean) }
    return TrainingStatistics(
      meanLoss: mean, seconds: bar.elapsed, targets: done, positions: positions, batches: batchIndex,
      epochBatches: batches.count, epochTargets: total)
  }

  /// Most positions (rows × longest row) a prefix micro-batch runs at once, whatever `microBatchSize` allows: on
  /// ML-1M (L = 200), 256 rows of 200 steps held 3.8 GB of activations and ran at 2/3 the speed of 32-row ones.
  public static let microBatchPositions = 8192

  /// Consecutive runs of `windows[indices]` holding about `size` targets each (at least one window per run).
  static func group(_ windows: [TrainingWindow], indices: Range<Int>, size: Int) -> [(range: Range<Int>, targets: Int)]
  {
    var groups: [(range: Range<Int>, targets: Int)] = []
    var i = indices.lowerBound
    while i < indices.upperBound {
      var j = i
      var targets = 0
      while j < indices.upperBound && (targets == 0 || targets + Int(windows[j].targetCount) <= size) {
        targets += Int(windows[j].targetCount)
        j += 1
      }
      groups.append((i..<j, targets))
      i = j
    }
    return groups
  }

  private func step(loss: Double, epoch: Int, batch: Int) throws {
    guard loss.isFinite else { throw TrainingError.nonFiniteLoss(epoch: epoch, batch: batch, value: loss) }
    _ = optimizer.step()
  }

  /// Evaluates `examples` with the configured protocol. Score batches are split into chunks of similar history
  /// length spread over the data-parallel workers (see `MicroBatchRunner.scores`).
  public func evaluate(_ examples: [Example]) throws -> MetricReport {
    if runner == nil { runner = MicroBatchRunner(model: model, workers: dataParallelWorkers) }
    let (model, runner) = (self.model, self.runner!)
    let score: (SequenceBatch, UnsafeMutablePointer<Float>) -> Void = { batch, out in runner.scores(batch, into: out) }
    if var sampled = sampledEvaluator {
      defer { sampledEvaluator = sampled }
      return try sampled.evaluate(
        dataset: dataset, examples: examples, maxLength: model.maxLength, ks: config.ks,
        batchSize: config.evalBatchSize, score: score)
    }
    return try FullRankingEvaluator.evaluate(
      dataset: dataset, examples: examples, maxLength: model.maxLength, ks: config.ks, maskHistory: config.maskHistory,
      batchSize: config.evalBatchSize, score: score)
  }

  // MARK: - Resuming

  /// What a run needs besides tensors to continue exactly where it is (after a whole epoch): saved by the caller
  /// after every epoch (with `resumeTensors()`), read back with `resume(from:tensors:)`.
  public struct ResumePoint: Codable, Sendable {
    public var records: [EpochRecord]
    public var stopping: EarlyStopping
    public var rng: SeededRNG
    public var sampler: SplitMix64?
    public var adamSteps: Int
    public var epochsDone: Int { records.count }
  }

  public var resumePoint: ResumePoint {
    ResumePoint(
      records: records, stopping: stopping, rng: rng, sampler: sampledEvaluator?.generator,
      adamSteps: optimizer.stepCount)
  }

  /// Current parameter values, Adam's moments and the best parameters so far, by name.
  public func resumeTensors() -> [(String, Tensor)] {
    let parameters = model.parameters
    let bestValues = best.isEmpty ? parameters.map(\.value) : best
    return parameters.map { ("value/\($0.name)", $0.value) }
      + zip(parameters, optimizer.firstMoments).map { ("adam_m/\($0.name)", $1) }
      + zip(parameters, optimizer.secondMoments).map { ("adam_v/\($0.name)", $1) }
      + zip(parameters, bestValues).map { ("best/\($0.name)", $1) }
  }

  /// Restores a saved run (see `ResumePoint`); `fit()` then runs the remaining epochs. Checks every tensor's
  /// presence and shape and names the first one missing.
  public func resume(from point: ResumePoint, tensors file: SafeTensorsFile) throws {
    func load(_ prefix: String, into targets: [Tensor]) throws {
      for (parameter, target) in zip(model.parameters, targets) {
        let name = "\(prefix)/\(parameter.name)"
        guard file.contains(name) else {
          throw TrainingError.invalidConfig("\(file.source): no tensor \(name); not a resume file of this model")
        }
        let tensor = try file.tensor(named: name)
        guard tensor.shape == target.shape else {
          throw TrainingError.invalidConfig(
            "\(file.source): \(name) has shape \(tensor.shape), the model needs \(target.shape)")
        }
        target.ptr.update(from: tensor.ptr, count: target.count)
      }
    }
    let values = model.parameters.map(\.value)
    let bestValues = values.map { Tensor(zeros: $0.shape) }
    try load("value", into: values)
    try load("adam_m", into: optimizer.firstMoments)
    try load("adam_v", into: optimizer.secondMoments)
    try load("best", into: bestValues)
    best = bestValues
    optimizer.stepCount = point.adamSteps
    rng = point.rng
    if let sampler = point.sampler { sampledEvaluator?.generator = sampler }
    stopping = point.stopping
    records = point.records
  }

  private func snapshot() -> [Tensor] { model.parameters.map { $0.value.copy() } }
  private func restore(_ values: [Tensor]) {
    for (p, v) in zip(model.parameters, values) { p.value.ptr.update(from: v.ptr, count: v.count) }
  }
}
