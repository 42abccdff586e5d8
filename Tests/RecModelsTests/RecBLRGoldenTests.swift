import Foundation
import NN
import RecData
import TensorCore
import Testing

@testable import RecModels

/// Fidelity to the official PyTorch RecBLR (shared/golden/README.md): same weights and inputs must give the same
/// layer outputs, sequence output, logits, loss and every parameter gradient.
enum RecBLRGoldenFiles {
  static let weightsURL = SharedFiles.golden("recblr_seed7_weights.safetensors")
  static let ioURL = SharedFiles.golden("recblr_seed7_io.safetensors")
  static var available: Bool { SharedFiles.exists(weightsURL) && SharedFiles.exists(ioURL) }
}

@Suite(.enabled(if: RecBLRGoldenFiles.available, "shared/golden is absent")) struct RecBLRGoldenTests {
  static let weightsURL = RecBLRGoldenFiles.weightsURL
  static let ioURL = RecBLRGoldenFiles.ioURL

  struct Fixture {
    let model: RecBLR
    let io: SafeTensorsFile
    let batch: SequenceBatch
  }

  static func fixture() throws -> Fixture {
    var config = RecBLRConfig()
    config.maxLength = 20
    config.dropout = 0
    let model = RecBLR(config: config, itemCount: 40, seed: 1)
    try model.loadParameters(from: SafeTensorsFile(contentsOf: weightsURL), allowingExtraTensors: false)
    let io = try SafeTensorsFile(contentsOf: ioURL)
    let items = try io.int64s(named: "item_seq").map { Int32($0) }
    let lengths = try io.int64s(named: "item_seq_len").map { Int32($0) }
    let targets = try io.int64s(named: "target").map { Int32($0) }
    let batch = SequenceBatch(
      maxLength: 20, items: items, lengths: lengths, targets: targets, users: Array(0..<Int32(lengths.count)))
    return Fixture(model: model, io: io, batch: batch)
  }

  static func expectClose(
    _ actual: Tensor, _ expected: Tensor, relative: Float, _ what: String, rows: [Range<Int>]? = nil
  ) {
    #expect(actual.count == expected.count, "\(what): \(actual.shape) vs \(expected.shape)")
    guard actual.count == expected.count else { return }
    let scale = (0..<expected.count).reduce(Float(0)) { max($0, abs(expected[$1])) }
    var worst: Float = 0
    var worstIndex = 0
    let indices = rows.map { $0.flatMap { $0 } } ?? Array(0..<expected.count)
    for i in indices {
      let err = abs(actual[i] - expected[i]) / max(abs(expected[i]), 0.1 * scale, 1e-6)
      if err > worst { (worst, worstIndex) = (err, i) }
    }
    #expect(
      worst <= relative,
      "\(what): worst relative error \(worst) at \(worstIndex) (\(actual[worstIndex]) vs \(expected[worstIndex]))")
  }

  @Test func layerOutputsSequenceOutputAndLogitsMatchTheOfficialCode() throws {
    let f = try Self.fixture()
    let rows = TrainingRows(prefixBatch: f.batch)
    var rng = SeededRNG(seed: 0)
    // Run all L = 20 positions, as the official code does (padding positions included).
    let full = TrainingRows.truncate(f.batch.items, rows: f.batch.count, from: 20, to: 20)
    let (_, layers, _) = f.model.encode(ids: full, batch: f.batch.count, steps: 20, training: false, rng: &rng)
    for (i, layer) in layers.enumerated() {
      Self.expectClose(layer, try f.io.tensor(named: "layer\(i)_out"), relative: 1e-4, "layer\(i)_out")
    }
    #expect(rows.steps == 20)
    Self.expectClose(
      f.model.sequenceOutput(f.batch), try f.io.tensor(named: "seq_output"), relative: 1e-4, "seq_output")
    let logits = Tensor(zeros: [f.batch.count, 40])
    f.model.scores(f.batch, into: logits.ptr)
    Self.expectClose(logits, try f.io.tensor(named: "logits"), relative: 1e-4, "logits")
  }

  @Test func shortBatchesComputeOnlyUpToTheLongestRowWithTheSameOutputs() throws {
    let f = try Self.fixture()
    // Rows of length 1, 5, 12: the batch runs 12 steps instead of 20, outputs at len − 1 are unchanged.
    let subset = SequenceBatch(
      maxLength: 20, items: Array(f.batch.items[0..<60]), lengths: Array(f.batch.lengths[0..<3]),
      targets: Array(f.batch.targets[0..<3]), users: [0, 1, 2])
    #expect(TrainingRows(prefixBatch: subset).steps == 12)
    let expected = try f.io.tensor(named: "seq_output").rows(0..<3)
    Self.expectClose(f.model.sequenceOutput(subset), expected, relative: 1e-4, "seq_output of 3 rows")
  }

  @Test func lossAndEveryParameterGradientMatchTheOfficialCode() throws {
    let f = try Self.fixture()
    f.model.zeroGrads()
    var rng = SeededRNG(seed: 0)
    let lossSum = f.model.accumulateGradients(f.batch, lossScale: 1 / Float(f.batch.count), rng: &rng)
    let expectedLoss = try f.io.tensor(named: "loss")[0]
    #expect(abs(Float(lossSum) / Float(f.batch.count) - expectedLoss) <= 1e-4 * abs(expectedLoss))
    var checked = 0
    for p in f.model.parameters {
      let expected = try f.io.tensor(named: "grad.\(p.name)")
      Self.expectClose(p.grad, expected, relative: 1e-3, "grad.\(p.name)")
      checked += 1
    }
    #expect(checked == 3 + 2 * 15)
  }

  @Test func parameterCountsMatchTheSpec() {
    // Spec §1.8: N·64 + 183,552.
    for (n, expected) in [(3417, 402_240), (12_102, 958_080), (18_358, 1_358_464)] {
      let model = RecBLR(config: RecBLRConfig(), itemCount: n, seed: 0)
      #expect(model.parameterCount == expected)
    }
  }
}
