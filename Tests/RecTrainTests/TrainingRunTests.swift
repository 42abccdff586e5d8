import Foundation
import RecData
import RecEval
import RecModels
import TensorCore
import Testing

@testable import RecTrain

/// End-to-end training on a tiny synthetic dataset where each user walks a cycle of items (i → i+1).
@Suite struct TrainingRunTests {
  static func cycles(users: Int = 40, items: Int = 12, length: Int = 10) -> SequenceDataset {
    var rng = SeededRNG(seed: 1)
    let sequences = (0..<users).map { _ -> [Int32] in
      let start = rng.int(below: items)
      return (0..<length).map { Int32(1 + (start + $0) % items) }
    }
    return SequenceDataset(
      name: "cycles", sequences: sequences, rawUserIds: (0..<users).map { "u\($0)" },
      rawItemIds: ["[PAD]"] + (1...items).map { "i\($0)" })
  }

  static func config(_ objective: TrainingObjective) -> TrainingConfig {
    var c = TrainingConfig()
    c.epochs = 25
    c.batchSize = 64
    c.microBatchSize = 16
    c.learningRate = 1e-2
    c.objective = objective
    c.stoppingStep = 100
    return c
  }

  static func spec() throws -> ModelSpec {
    try ModelSpec.resolve(
      model: "recblr", preset: nil, overrides: ["hiddenSize=8", "maxLength=8", "dropout=0", "layerCount=1"])
  }

  @Test(arguments: [TrainingObjective.prefix, .allPositions])
  func learnsCyclesWritesTheRunDirectoryAndReloadsTheBestCheckpoint(objective: TrainingObjective) throws {
    Parallel.configure(owner: .app, threads: 1)
    let data = Self.cycles()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seqrec-run-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try RunDirectory(dir)
    let result = try TrainingRun.train(
      spec: try Self.spec(), dataset: data, source: "memory", config: Self.config(objective), run: run,
      showProgress: false)
    #expect((result.test["HR@10"] ?? 0) > 0.9, "\(result.test.line)")
    #expect(result.epochs.count == 25)
    #expect(result.epochs.last!.trainLoss < result.epochs.first!.trainLoss)
    for file in [
      "config.json", "metrics.jsonl", "learning_curve.svg", "result.json", "model.safetensors", "checkpoint.json",
    ] {
      #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file)")
    }
    let lines = try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
      .split(separator: "\n")
    #expect(lines.count == 25)
    // The checkpoint holds the best epoch; reloading gives the same test metrics.
    let meta = try Checkpoint.read(from: dir)
    #expect(meta.epoch == result.bestEpoch)
    try meta.verify(dataset: data)
    let model = try meta.loadModel(from: dir)
    let report = try FullRankingEvaluator.evaluate(
      dataset: data, examples: LeaveOneOutSplit(data).test, maxLength: model.maxLength
    ) { model.scores($0, into: $1) }
    #expect(report == result.test)
  }

  @Test func aResumedRunEqualsAnUninterruptedOneOnAnyThreadCount() throws {
    Parallel.configure(owner: .app, threads: 2)
    let data = Self.cycles()
    // Dropout and sampled evaluation on: the resume state must carry both random streams.
    let spec = try ModelSpec.resolve(
      model: "recblr", preset: nil, overrides: ["hiddenSize=8", "maxLength=8", "dropout=0.3", "layerCount=1"])
    var config = Self.config(.allPositions)
    config.epochs = 6
    config.evaluation = .sampled
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("seqrec-resume-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: base) }
    let wholeRun = try RunDirectory(base.appendingPathComponent("whole"))
    let whole = try TrainingRun.train(
      spec: spec, dataset: data, source: "memory", config: config, run: wholeRun, dataParallelWorkers: 2,
      showProgress: false)

    var firstHalf = config
    firstHalf.epochs = 3
    let partRun = try RunDirectory(base.appendingPathComponent("part"))
    _ = try TrainingRun.train(
      spec: spec, dataset: data, source: "memory", config: firstHalf, run: partRun, dataParallelWorkers: 2,
      showProgress: false)
    // Resumed on another thread count: the run's 2 data-parallel workers are used again, and kernel reductions do
    // not depend on the thread count.
    #expect(try TrainingRun.resolvedConfig(of: partRun).dataParallelWorkers == 2)
    Parallel.configure(owner: .app, threads: 3)
    defer { Parallel.configure(owner: .app, threads: 1) }
    let resumed = try TrainingRun.resume(run: partRun, dataset: data, epochs: 6, showProgress: false)

    #expect(resumed.epochs.map(\.trainLoss) == whole.epochs.map(\.trainLoss))
    #expect(resumed.epochs.map(\.valid) == whole.epochs.map(\.valid))
    #expect(resumed.test == whole.test && resumed.bestEpoch == whole.bestEpoch)
    let (a, b) = (
      try SafeTensorsFile(contentsOf: wholeRun.url.appendingPathComponent(Checkpoint.weightsFile)),
      try SafeTensorsFile(contentsOf: partRun.url.appendingPathComponent(Checkpoint.weightsFile))
    )
    #expect(a.names == b.names)
    for name in a.names { #expect(try a.tensor(named: name).array == b.tensor(named: name).array, "\(name)") }
    let lines = try String(contentsOf: partRun.url.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
    #expect(lines.split(separator: "\n").count == 6)

    // Other data, or a directory without a resume state, is refused with what is wrong.
    var other = data
    other.sequences[0].swapAt(0, 1)
    #expect {
      try TrainingRun.resume(run: partRun, dataset: other, showProgress: false)
    } throws: { "\($0)".contains("fingerprint") }
    try FileManager.default.removeItem(at: partRun.url.appendingPathComponent(TrainingRun.resumeStateFile))
    #expect {
      try TrainingRun.resume(run: partRun, dataset: data, showProgress: false)
    } throws: { "\($0)".contains("resume.json: missing") }
  }

  @Test func checkpointRejectsOtherData() throws {
    let data = Self.cycles()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seqrec-ckpt-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let spec = try Self.spec()
    let model = spec.make(itemCount: data.itemCount, seed: 1)
    try Checkpoint(model: spec, seed: 1, training: nil, dataset: data, source: "memory").write(model: model, to: dir)
    var other = data
    other.sequences[0].swapAt(0, 1)
    do {
      try Checkpoint.read(from: dir).verify(dataset: other)
      Issue.record("expected a mismatch")
    } catch let error as CheckpointError {
      #expect(error.description.contains("fingerprint"))
    }
    #expect(throws: CheckpointError.self) { try Checkpoint.read(from: dir.appendingPathComponent("nope")) }
  }

  @Test func divergingTrainingStopsNamingEpochAndBatch() throws {
    let data = Self.cycles()
    var config = Self.config(.prefix)
    config.learningRate = 1e30  // one Adam step moves every parameter by ~1e30
    let model = try Self.spec().make(itemCount: data.itemCount, seed: 1)
    let trainer = try Trainer(model: model, dataset: data, split: LeaveOneOutSplit(data), config: config)
    trainer.showProgress = false
    do {
      _ = try trainer.fit()
      Issue.record("expected divergence")
    } catch let error as TrainingError {
      #expect(error.description.contains("epoch 1, batch 2") || error.description.contains("epoch 2"), "\(error)")
    }
  }

  @Test func dataTooShortForLeaveOneOutIsRejectedBeforeTraining() throws {
    // Two items per user: each user's one example goes to training, none to validation or test.
    let data = Self.cycles(users: 5, length: 2)
    let model = try Self.spec().make(itemCount: data.itemCount, seed: 1)
    do {
      _ = try Trainer(model: model, dataset: data, split: LeaveOneOutSplit(data), config: Self.config(.prefix))
      Issue.record("expected an error")
    } catch let error as TrainingError {
      #expect(error.description.contains("cycles: 5 training, 0 validation and 0 test examples"), "\(error)")
      #expect(error.description.contains("the longest has 2"), "\(error)")
    }
  }

  @Test func splitWindowsTrainEveryTargetOnceAndRunEachWindowSeveralTimes() throws {
    Parallel.configure(owner: .app, threads: 1)
    let data = Self.cycles(length: 20)
    func epoch(splits: Int?) throws -> Trainer.TrainingStatistics {
      var config = Self.config(.allPositions)
      config.windowSplits = splits
      let model = try Self.spec().make(itemCount: data.itemCount, seed: 1)
      let trainer = try Trainer(model: model, dataset: data, split: LeaveOneOutSplit(data), config: config)
      trainer.showProgress = false
      return try trainer.trainBatches(epoch: 0)
    }
    let whole = try epoch(splits: nil)
    let split = try epoch(splits: 4)
    let targets = data.trainingWindows(maxLength: 8, stride: 8).reduce(0) { $0 + Int($1.chunkLength) }
    #expect(whole.targets == targets && whole.epochTargets == targets)
    #expect(split.targets == targets && split.epochTargets == targets)
    // 18 training targets per user in windows of 8: each run of a split window feeds the whole window.
    #expect(split.positions > 2 * whole.positions, "\(split.positions) against \(whole.positions)")
    #expect(split.meanLoss.isFinite && split.meanLoss > 0)
  }

  @Test func settingsThatCannotTrainAreRejectedNamingTheSetting() throws {
    let data = Self.cycles()
    let model = try Self.spec().make(itemCount: data.itemCount, seed: 1)
    let cases: [(String, (inout TrainingConfig) -> Void)] = [
      ("epochs", { $0.epochs = 0 }), ("learning rate", { $0.learningRate = .nan }),
      ("weight decay", { $0.weightDecay = -1 }), ("gradient-norm clip", { $0.clipGradNorm = 0 }),
      ("stopping step", { $0.stoppingStep = -1 }), ("time budget", { $0.timeBudgetSeconds = -300 }),
      ("cut-offs", { $0.ks = [10, 0] }), ("window stride", { $0.windowStride = 0 }),
      ("window splits", { $0.windowSplits = 0 }),
      (
        "window splits (2) apply to the all-positions objective",
        { config in
          config.objective = .prefix
          config.windowSplits = 2
        }
      ),
    ]
    for (what, edit) in cases {
      var config = Self.config(.allPositions)
      edit(&config)
      do {
        _ = try Trainer(model: model, dataset: data, split: LeaveOneOutSplit(data), config: config)
        Issue.record("\(what): expected an error")
      } catch let error as TrainingError {
        #expect(error.description.contains(what), "\(error)")
      }
    }
  }
}
