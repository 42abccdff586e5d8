import Foundation
import RecData
import RecEval
import RecModels
import TensorCore

/// `seqrec bench`, callable from code: training throughput per objective (targets/s, seconds per epoch, GFLOP/s and
/// share of the machine's fp32 peak), full-ranking evaluation time, streaming latency and peak memory.
public enum Benchmark {
  public struct Options: Sendable {
    public var model = "recblr"
    public var preset: String?
    /// `key=value` model hyper-parameter overrides (`ModelSpec`).
    public var modelOverrides: [String] = []
    /// Objectives to time, in order.
    public var objectives: [TrainingObjective] = [.allPositions, .prefix]
    /// Optimiser steps timed per objective (after one untimed warm-up step); nil = one full epoch.
    public var batches: Int? = 20
    /// Steps timed for the prefix objective when `batches` is set (it is ~100× more work per target).
    public var prefixBatches = 2
    public var batchSize = 2048
    public var microBatchSize = 256
    public var dataParallel = true
    /// Time a full-ranking evaluation of every user's test target.
    public var evaluate = true
    public var evalBatchSize = 512
    /// Events timed for the streaming latency (0: skip).
    public var streamingEvents = 2000
    public var seed: UInt64 = 2020

    public init() {}
  }

  public struct TrainingMeasurement: Sendable {
    public var objective: TrainingObjective
    public var statistics: Trainer.TrainingStatistics
    /// Whether `statistics` covers a whole epoch (otherwise the epoch time is projected).
    public var fullEpoch: Bool
    public var flops: Double?
    /// Process CPU time (all threads) during the timed steps.
    public var cpuSeconds: Double

    public var targetsPerSecond: Double { Double(statistics.targets) / statistics.seconds }
    public var secondsPerEpoch: Double { Double(statistics.epochTargets) / targetsPerSecond }
    public var gflopsPerSecond: Double? { flops.map { $0 / statistics.seconds / 1e9 } }
  }

  public struct Report: Sendable {
    public var model: String
    public var parameterCount: Int
    public var dataset: String
    public var users: Int
    public var items: Int
    public var machine: Machine
    public var threads: Int
    public var parallelism: ParallelismOwner
    public var dataParallelWorkers: Int
    public var training: [TrainingMeasurement]
    public var evaluationSeconds: Double?
    public var evaluatedUsers: Int
    public var streaming: StreamingLatency?
    public var peakResidentBytes: Int
  }

  /// The model named `name` (a `ModelSpec` model) with a preset and overrides, freshly initialised. Models the spec
  /// does not know throw `ModelSpecError.unknownModel`.
  public static func makeModel(
    name: String, preset: String?, overrides: [String] = [], itemCount: Int, seed: UInt64
  ) throws -> any SequentialRecommender {
    try ModelSpec.resolve(model: name, preset: preset, overrides: overrides).make(itemCount: itemCount, seed: seed)
  }

  /// Runs every measurement of `options` on `dataset` (leave-one-out split). `log` receives progress lines.
  public static func run(
    dataset: SequenceDataset, options: Options, log: (String) -> Void = { _ in }
  ) throws -> Report {
    let split = LeaveOneOutSplit(dataset)
    let model = try makeModel(
      name: options.model, preset: options.preset, overrides: options.modelOverrides, itemCount: dataset.itemCount,
      seed: options.seed)
    var training: [TrainingMeasurement] = []
    var workers = 1
    for objective in options.objectives {
      var config = TrainingConfig()
      config.objective = objective
      config.batchSize = options.batchSize
      config.microBatchSize = options.microBatchSize
      config.seed = options.seed
      config.evalBatchSize = options.evalBatchSize
      let trainer = try Trainer(model: model, dataset: dataset, split: split, config: config)
      trainer.showProgress = false
      trainer.dataParallelWorkers = options.dataParallel ? Parallel.appThreads : 1
      log("training \(objective.rawValue): warm-up step")
      _ = try trainer.trainBatches(epoch: 0, batchLimit: 1)
      workers = trainer.activeWorkers
      let limit = options.batches.map { objective == .prefix ? min($0, options.prefixBatches) : $0 }
      log("training \(objective.rawValue): \(limit.map { "\($0) steps" } ?? "one epoch")")
      let cpuStart = Machine.processCPUSeconds
      let stats = try trainer.trainBatches(epoch: 1, batchLimit: limit)
      let cpuSeconds = Machine.processCPUSeconds - cpuStart
      let flops = (model as? any FLOPCounting)?.trainingFLOPs(positions: stats.positions, scoredRows: stats.targets)
      training.append(
        TrainingMeasurement(
          objective: objective, statistics: stats, fullEpoch: stats.batches == stats.epochBatches, flops: flops,
          cpuSeconds: cpuSeconds))
    }
    var evaluationSeconds: Double?
    if options.evaluate {
      log("evaluation: full ranking of \(split.test.count) test targets")
      var config = TrainingConfig()
      config.evalBatchSize = options.evalBatchSize
      let trainer = try Trainer(model: model, dataset: dataset, split: split, config: config)
      trainer.dataParallelWorkers = options.dataParallel ? Parallel.appThreads : 1
      let start = Date()
      _ = try trainer.evaluate(split.test)
      evaluationSeconds = Date().timeIntervalSince(start)
    }
    var streaming: StreamingLatency?
    if options.streamingEvents > 0, let streamable = model as? any StreamingRecommender {
      log("streaming: \(options.streamingEvents) events")
      streaming = StreamingLatency.measure(streamable, dataset: dataset, events: options.streamingEvents)
    }
    return Report(
      model: model.name, parameterCount: model.parameterCount, dataset: dataset.name, users: dataset.userCount,
      items: dataset.itemCount - 1, machine: Machine.current,
      threads: Parallel.owner == .app ? Parallel.appThreads : BLAS.threads,
      parallelism: Parallel.owner, dataParallelWorkers: workers, training: training,
      evaluationSeconds: evaluationSeconds, evaluatedUsers: split.test.count, streaming: streaming,
      peakResidentBytes: Machine.peakResidentBytes)
  }
}

extension Benchmark.Report {
  /// The report as printed by `seqrec bench`.
  public var lines: [String] {
    var out: [String] = []
    out.append("model \(model) (\(parameterCount.grouped) parameters); \(dataset): \(users) users, \(items) items")
    out.append(
      "machine: \(machine.description); threads \(threads), parallelism \(parallelism.rawValue), "
        + "data-parallel workers \(dataParallelWorkers)")
    for t in training {
      let s = t.statistics
      let epoch = String(format: "%.1f s", t.secondsPerEpoch) + (t.fullEpoch ? " (measured)" : " (projected)")
      var line =
        "train \(t.objective.rawValue): \(s.batches) steps, \(s.targets.grouped) targets in "
        + String(format: "%.2f s (CPU %.2f s)", s.seconds, t.cpuSeconds)
        + " → \(Int(t.targetsPerSecond.rounded()).grouped) targets/s; "
        + "epoch of \(s.epochTargets.grouped) targets: \(epoch)"
      if let g = t.gflopsPerSecond {
        line += String(format: "; %.1f GFLOP/s", g)
        if let peak = machine.peakGFLOPs { line += String(format: " (%.1f%% of peak)", 100 * g / peak) }
      }
      out.append(line)
    }
    if let e = evaluationSeconds {
      out.append(
        "evaluation (full ranking, test split, \(evaluatedUsers.grouped) users): " + String(format: "%.2f s", e))
    }
    if let s = streaming {
      out.append(
        "streaming (one event + scores + top-10, \(s.events) events): "
          + String(format: "p50 %.1f µs, p99 %.1f µs", s.p50Microseconds, s.p99Microseconds))
    }
    out.append(String(format: "peak RSS: %.1f MiB", Double(peakResidentBytes) / 1_048_576))
    return out
  }
}

extension Int {
  /// 1234567 → "1,234,567".
  var grouped: String {
    let digits = String(magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return (self < 0 ? "-" : "") + out
  }
}
