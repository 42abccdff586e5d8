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

  public var description: String {
    switch self {
    case .nonFiniteLoss(let epoch, let batch, let value):
      return "training diverged: loss is \(value) at epoch \(epoch + 1), batch \(batch + 1) (try a lower learning rate)"
    case .objectiveNeedsCausalModel(let model):
      return "the all-positions objective needs a causal model; \(model) is not causal (use --objective prefix)"
    case .invalidConfig(let message):
      return "invalid training configuration: \(message)"
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
  /// Shows a progress bar per epoch.
  public var showProgress = true

  private let optimizer: Adam
  private var rng: SeededRNG
  private var sampledEvaluator: PopularitySampledEvaluator?

  public init(
    model: any SequentialRecommender, dataset: SequenceDataset, split: LeaveOneOutSplit, config: TrainingConfig
  )
    throws
  {
    guard config.batchSize > 0, config.microBatchSize > 0 else {
      throw TrainingError.invalidConfig("batch sizes must be positive")
    }
    if config.objective == .allPositions && !(model is any CausalSequentialRecommender) {
      throw TrainingError.objectiveNeedsCausalModel(model: model.name)
    }
    self.model = model
    self.dataset = dataset
    self.split = split
    self.config = config
    self.rng = SeededRNG(seed: config.seed &+ 0x5EED)
    var adam = Adam.Configuration()
    adam.learningRate = Double(config.learningRate)
    adam.weightDecay = Double(config.weightDecay)
    adam.maxGradientNorm = config.clipGradNorm.map(Double.init)
    self.optimizer = Adam(parameters: model.parameters, configuration: adam)
    if config.evaluation == .sampled {
      sampledEvaluator = try PopularitySampledEvaluator(dataset: dataset, seed: config.seed)
    }
  }

  /// Trains until early stopping or `config.epochs`, then evaluates the best parameters on the test set.
  public func fit() throws -> TrainingResult {
    var stopping = EarlyStopping(stoppingStep: config.stoppingStep)
    var records: [EpochRecord] = []
    var best = snapshot()
    var stoppedEarly = false
    for epoch in 0..<config.epochs {
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
      if decision == .stop {
        stoppedEarly = true
        break
      }
    }
    restore(best)
    let test = try evaluate(split.test)
    return TrainingResult(
      epochs: records, bestEpoch: stopping.bestEpoch + 1, bestValid: stopping.best, test: test,
      stoppedEarly: stoppedEarly)
  }

  /// One pass over the training data; returns (mean loss per target, seconds, targets).
  public func trainEpoch(_ epoch: Int) throws -> (Double, Double, Int) {
    switch config.objective {
    case .prefix: return try trainPrefixEpoch(epoch)
    case .allPositions: return try trainWindowEpoch(epoch)
    }
  }

  private func trainPrefixEpoch(_ epoch: Int) throws -> (Double, Double, Int) {
    var order = split.train
    order.shuffle(using: &rng)
    let bar = ProgressBar(
      label: "epoch \(epoch + 1)", total: order.count, interactive: showProgress && ProgressBar.stderrIsTerminal)
    var lossSum = 0.0
    var batchIndex = 0
    for batchStart in stride(from: 0, to: order.count, by: config.batchSize) {
      // Sorting a batch by history length before cutting micro-batches changes nothing in the summed gradient,
      // but lets each micro-batch run only as many positions as its longest row.
      let maxLength = model.maxLength
      let batch = order[batchStart..<min(batchStart + config.batchSize, order.count)].sorted {
        min(Int($0.position), maxLength) < min(Int($1.position), maxLength)
      }
      model.zeroGrads()
      var batchLoss = 0.0
      let scale = 1 / Float(batch.count)
      for microStart in stride(from: 0, to: batch.count, by: config.microBatchSize) {
        let micro = batch[microStart..<min(microStart + config.microBatchSize, batch.count)]
        batchLoss += model.accumulateGradients(
          dataset.batch(micro, maxLength: model.maxLength), lossScale: scale, rng: &rng)
      }
      try step(loss: batchLoss, epoch: epoch, batch: batchIndex)
      lossSum += batchLoss
      batchIndex += 1
      bar.advance(by: batch.count, loss: lossSum / Double(batchStart + batch.count))
    }
    let mean = lossSum / Double(max(order.count, 1))
    if showProgress { bar.finish(loss: mean) }
    return (mean, bar.elapsed, order.count)
  }

  private func trainWindowEpoch(_ epoch: Int) throws -> (Double, Double, Int) {
    guard let causal = model as? any CausalSequentialRecommender else {
      throw TrainingError.objectiveNeedsCausalModel(model: model.name)
    }
    let stride = config.windowStride ?? model.maxLength
    var windows = dataset.trainingWindows(maxLength: model.maxLength, stride: stride)
    windows.shuffle(using: &rng)
    let total = windows.reduce(0) { $0 + Int($1.targetCount) }
    let bar = ProgressBar(
      label: "epoch \(epoch + 1)", total: total, interactive: showProgress && ProgressBar.stderrIsTerminal)
    var lossSum = 0.0
    var done = 0
    var batchIndex = 0
    var i = 0
    // A batch is a run of windows holding about `batchSize` targets; micro-batches hold about `microBatchSize`.
    while i < windows.count {
      var j = i
      var targets = 0
      while j < windows.count && (targets == 0 || targets + Int(windows[j].targetCount) <= config.batchSize) {
        targets += Int(windows[j].targetCount)
        j += 1
      }
      windows[i..<j].sort { $0.length < $1.length }  // shorter micro-batches; the batch gradient is unchanged
      model.zeroGrads()
      let scale = 1 / Float(targets)
      var batchLoss = 0.0
      var m = i
      while m < j {
        var e = m
        var microTargets = 0
        while e < j && (microTargets == 0 || microTargets + Int(windows[e].targetCount) <= config.microBatchSize) {
          microTargets += Int(windows[e].targetCount)
          e += 1
        }
        let wb = dataset.windowBatch(windows[m..<e], maxLength: model.maxLength)
        batchLoss += causal.accumulateWindowGradients(wb, lossScale: scale, rng: &rng)
        m = e
      }
      try step(loss: batchLoss, epoch: epoch, batch: batchIndex)
      lossSum += batchLoss
      done += targets
      batchIndex += 1
      bar.advance(by: targets, loss: lossSum / Double(done))
      i = j
    }
    let mean = lossSum / Double(max(total, 1))
    if showProgress { bar.finish(loss: mean) }
    return (mean, bar.elapsed, total)
  }

  private func step(loss: Double, epoch: Int, batch: Int) throws {
    guard loss.isFinite else { throw TrainingError.nonFiniteLoss(epoch: epoch, batch: batch, value: loss) }
    _ = optimizer.step()
  }

  /// Evaluates `examples` with the configured protocol.
  public func evaluate(_ examples: [Example]) throws -> MetricReport {
    let model = self.model
    let score: (SequenceBatch, UnsafeMutablePointer<Float>) -> Void = { batch, out in model.scores(batch, into: out) }
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

  private func snapshot() -> [Tensor] { model.parameters.map { $0.value.copy() } }
  private func restore(_ values: [Tensor]) {
    for (p, v) in zip(model.parameters, values) { p.value.ptr.update(from: v.ptr, count: v.count) }
  }
}
