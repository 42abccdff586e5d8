import NN
import RecData
import RecModels
import TensorCore
import Testing

@testable import RecTrain

@Suite struct DataParallelTests {
  static func tinyModel(seed: UInt64 = 5) -> RecBLR {
    var c = RecBLRConfig()
    c.hiddenSize = 4
    c.expand = 2
    c.layerCount = 2
    c.dropout = 0.3  // dropout on: each micro-batch must get the same mask in both runs
    c.maxLength = 6
    return RecBLR(config: c, itemCount: 12, seed: seed)
  }

  /// Users with 5…12 items over ids 1…11 (deterministic).
  static let dataset: SequenceDataset = {
    let sequences: [[Int32]] = (0..<9).map { (u: Int) -> [Int32] in
      (0..<(5 + u)).map { (t: Int) -> Int32 in Int32(1 + (u * 7 + t * 5) % 11) }
    }
    return SequenceDataset(
      name: "tiny", sequences: sequences, rawUserIds: sequences.indices.map { "u\($0)" },
      rawItemIds: [SequenceDataset.paddingRawId] + (1..<12).map { "i\($0)" })
  }()

  /// A tiny model of each replicable kind, dropout on (each micro-batch must get the same mask in both runs).
  static func tinyModel(_ name: String, seed: UInt64 = 5) -> any ReplicableRecommender {
    switch name {
    case "sasrec":
      var c = SASRecConfig()
      (c.hiddenSize, c.innerSize, c.headCount, c.layerCount, c.maxLength) = (4, 8, 2, 2, 6)
      (c.hiddenDropoutProbability, c.attentionDropoutProbability) = (0.3, 0.3)
      return SASRec(config: c, itemCount: 12, seed: seed)
    case "gru4rec":
      var c = GRU4RecConfig()
      (c.embeddingSize, c.hiddenSize, c.maxLength, c.dropoutProbability) = (4, 6, 6, 0.3)
      return GRU4Rec(config: c, itemCount: 12, seed: seed)
    case "glintru-causal":
      return GLINTRUCausal(config: tinyGLINTRU, itemCount: 12, seed: seed)
    case "glintru":
      return GLINTRU(config: tinyGLINTRU, itemCount: 12, seed: seed)
    default:
      return tinyModel(seed: seed)
    }
  }

  static var tinyGLINTRU: GLINTRUConfig {
    var c = GLINTRUConfig()
    (c.hiddenSize, c.headCount, c.maxLength) = (4, 2, 6)
    (c.embeddingDropout, c.gateDropout, c.attentionDropout, c.mixDropout, c.outputDropout) = (0.3, 0.3, 0.3, 0.3, 0.3)
    return c
  }

  /// Runs the tiny dataset as one optimisation batch of small micro-batches: every window (causal models) or
  /// every prefix example (the faithful GLINT-RU).
  static func batchGradients(_ name: String, workers: Int) -> (loss: Double, grads: [[Float]], replicaShared: Bool) {
    let model = tinyModel(name)
    let runner = MicroBatchRunner(model: model, workers: workers)
    var rng = SeededRNG(seed: 21)
    let loss: Double
    if model is any CausalSequentialRecommender {
      let windows = dataset.trainingWindows(maxLength: 6, stride: 3)
      let micro = stride(from: 0, to: windows.count, by: 2).map { $0..<min($0 + 2, windows.count) }
      let total = windows.reduce(0) { $0 + Int($1.targetCount) }
      loss = runner.run(costs: micro.map { Double($0.count) }, rng: &rng) { i, worker, rng in
        let batch = dataset.windowBatch(windows[micro[i]], maxLength: 6)
        return (worker as! any CausalSequentialRecommender).accumulateWindowGradients(
          batch, lossScale: 1 / Float(total), rng: &rng)
      }
    } else {
      let examples = LeaveOneOutSplit(dataset).train
      let micro = stride(from: 0, to: examples.count, by: 7).map { $0..<min($0 + 7, examples.count) }
      loss = runner.run(costs: micro.map { Double($0.count) }, rng: &rng) { i, worker, rng in
        worker.accumulateGradients(
          dataset.batch(Array(examples[micro[i]]), maxLength: 6), lossScale: 1 / Float(examples.count), rng: &rng)
      }
    }
    return (loss, model.parameters.map(\.grad.array), runner.workerCount == workers)
  }

  @Test(arguments: ["recblr", "sasrec", "gru4rec", "glintru-causal", "glintru"])
  func dataParallelGradientsEqualSerialGradients(model: String) {
    let serial = Self.batchGradients(model, workers: 1)
    for workers in [2, 3] {
      let parallel = Self.batchGradients(model, workers: workers)
      #expect(parallel.replicaShared, "\(model) must be replicable")
      #expect(abs(parallel.loss - serial.loss) <= 1e-9 * abs(serial.loss))
      var (maxAbs, mismatches): (Float, Int) = (0, 0)
      for (p, s) in zip(parallel.grads, serial.grads) {
        // The workers' sums add the same terms in another order: an entry far below its tensor's largest can
        // differ by a few float32 steps of that largest one (seen: 1.7e-8 on a glintru gradient entry of 7e-4
        // whose tensor's largest is 0.09, on an AVX-512 OpenBLAS), so the floor is relative to the tensor.
        let tensorMax = s.map(abs).max() ?? 0
        for (a, b) in zip(p, s) {
          maxAbs = max(maxAbs, abs(b))
          if !(abs(a - b) <= 1e-5 * max(abs(b), 0.1 * tensorMax, 1e-3)) { mismatches += 1 }
        }
      }
      #expect(mismatches == 0, "\(model), \(workers) workers: \(mismatches) gradient entries differ beyond 1e-5")
      #expect(maxAbs > 0)
    }
  }

  @Test(arguments: ["recblr", "sasrec", "gru4rec", "glintru-causal", "glintru"])
  func replicasShareValuesButNotGradients(model name: String) {
    let model = Self.tinyModel(name)
    let replica = model.replica()
    #expect(model.parameters.count == replica.parameters.count)
    for (m, r) in zip(model.parameters, replica.parameters) {
      #expect(m.name == r.name)
      #expect(m.value.ptr == r.value.ptr)
      #expect(m.grad.ptr != r.grad.ptr)
    }
  }

  @Test(arguments: [1, 2, 3])
  func chunkedScoresEqualOneModelCall(workers: Int) {
    let model = Self.tinyModel()
    let examples = LeaveOneOutSplit(Self.dataset).train.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
    let batch = Self.dataset.batch(examples, maxLength: 6)
    let n = model.itemCount
    var direct = [Float](repeating: .nan, count: batch.count * n)
    var chunked = [Float](repeating: .nan, count: batch.count * n)
    direct.withUnsafeMutableBufferPointer { model.scores(batch, into: $0.baseAddress!) }
    let runner = MicroBatchRunner(model: model, workers: workers)
    chunked.withUnsafeMutableBufferPointer { runner.scores(batch, into: $0.baseAddress!, chunkRows: 4) }
    #expect(Set(batch.lengths).count > 1)  // rows of different lengths get reordered into chunks
    let mismatches = zip(direct, chunked).filter { !(abs($0 - $1) <= 1e-5 * max(1, abs($0))) }.count
    #expect(mismatches == 0, "\(mismatches) of \(direct.count) scores differ")
  }

  @Test func microBatchesAreSpreadByCostDeterministically() {
    let lists = MicroBatchRunner.assign(costs: [5, 1, 4, 2, 3, 3], workers: 2)
    // Largest first to the least loaded: 5→w0, 4→w1, 3(#4)→w1, 3(#5)→w0, 2→w1, 1→w0: loads 9 and 9.
    #expect(lists == [[0, 1, 5], [2, 3, 4]])
    #expect(MicroBatchRunner.assign(costs: [1], workers: 3) == [[0], [], []])
  }

  @Test func trainerStepsMatchWithAndWithoutDataParallelism() throws {
    func train(workers: Int) throws -> (Double, [[Float]], Int) {
      let model = Self.tinyModel()
      var config = TrainingConfig()
      config.objective = .allPositions
      config.batchSize = 20
      config.microBatchSize = 6
      config.windowStride = 3
      let trainer = try Trainer(
        model: model, dataset: Self.dataset, split: LeaveOneOutSplit(Self.dataset), config: config)
      trainer.showProgress = false
      trainer.dataParallelWorkers = workers
      let stats = try trainer.trainBatches(epoch: 0, batchLimit: 2)
      return (stats.meanLoss, model.parameters.map(\.value.array), trainer.activeWorkers)
    }
    let (serialLoss, serialValues, _) = try train(workers: 1)
    let (parallelLoss, parallelValues, workers) = try train(workers: 2)
    #expect(workers == 2)
    #expect(abs(serialLoss - parallelLoss) <= 1e-6 * serialLoss)
    var mismatches = 0
    for (p, s) in zip(parallelValues, serialValues) {
      for (a, b) in zip(p, s) where !(abs(a - b) <= 1e-5 * max(abs(b), 1)) { mismatches += 1 }
    }
    #expect(mismatches == 0, "\(mismatches) parameter entries differ after two steps")
  }
}
