import Foundation
import NN
import RecData
import TensorCore
import Testing

@testable import RecModels

/// Fidelity to the official PyTorch GLINT-RU (shared/golden/README.md): the official weights load by name, and the
/// same inputs give the same sequence output, logits, loss and every parameter gradient.
enum GLINTRUGoldenFiles {
  static let weightsURL = SharedFiles.golden("glintru_seed7_weights.safetensors")
  static let ioURL = SharedFiles.golden("glintru_seed7_io.safetensors")
  static var available: Bool { SharedFiles.exists(weightsURL) && SharedFiles.exists(ioURL) }
}

@Suite(.enabled(if: GLINTRUGoldenFiles.available, "shared/golden is absent")) struct GLINTRUGoldenTests {
  struct Fixture {
    let model: GLINTRU
    let io: SafeTensorsFile
    let batch: SequenceBatch
  }

  /// N = 40, d = 64, 4 heads, L = 20, dropout off (the golden outputs are eval mode).
  static func fixture() throws -> Fixture {
    var config = GLINTRUConfig.presets["ml-1m-d64"]!.withoutDropout
    config.maxLength = 20
    let model = GLINTRU(config: config, itemCount: 40, seed: 1)
    try model.loadParameters(
      from: SafeTensorsFile(contentsOf: GLINTRUGoldenFiles.weightsURL), allowingExtraTensors: false)
    let io = try SafeTensorsFile(contentsOf: GLINTRUGoldenFiles.ioURL)
    let batch = SequenceBatch(
      maxLength: 20, items: try io.int64s(named: "item_seq").map { Int32($0) },
      lengths: try io.int64s(named: "item_seq_len").map { Int32($0) },
      targets: try io.int64s(named: "target").map { Int32($0) }, users: [0, 1, 2, 3, 4])
    return Fixture(model: model, io: io, batch: batch)
  }

  @Test func theBatchCoversShortFullAndNearlyFullRows() throws {
    let f = try Self.fixture()
    #expect(f.batch.lengths == [1, 5, 12, 20, 17])
  }

  @Test func sequenceOutputAndLogitsMatchTheOfficialCode() throws {
    let f = try Self.fixture()
    let expected = try f.io.tensor(named: "seq_output")
    RecBLRGoldenTests.expectClose(f.model.sequenceOutput(f.batch), expected, relative: 1e-4, "seq_output (shortcut)")
    let logits = Tensor(zeros: [5, 40])
    f.model.scores(f.batch, into: logits.ptr)
    RecBLRGoldenTests.expectClose(logits, try f.io.tensor(named: "logits"), relative: 1e-4, "logits")
    // The full L-position computation gives the same outputs at len − 1.
    let all = f.model.outputsAtAllPositions(items: f.batch.items)
    let gathered = gatherRows(all.reshaped([100, 64]), f.batch.lengths.enumerated().map { $0 * 20 + Int($1) - 1 })
    RecBLRGoldenTests.expectClose(gathered, expected, relative: 1e-4, "seq_output (all positions)")
  }

  @Test func lossAndEveryParameterGradientMatchTheOfficialCode() throws {
    let f = try Self.fixture()
    f.model.zeroGrads()
    var rng = SeededRNG(seed: 0)
    let lossSum = f.model.accumulateGradients(f.batch, lossScale: 1 / 5, rng: &rng)
    let expectedLoss = try f.io.tensor(named: "loss")[0]
    #expect(
      abs(Float(lossSum) / 5 - expectedLoss) <= 1e-4 * abs(expectedLoss), "loss \(lossSum / 5) vs \(expectedLoss)")
    for p in f.model.parameters {
      RecBLRGoldenTests.expectClose(p.grad, try f.io.tensor(named: "grad.\(p.name)"), relative: 1e-3, "grad.\(p.name)")
    }
    #expect(f.model.parameters.count == 38)
    #expect(f.model.network.itemEmbedding.weight.grad.array[0..<64].contains { $0 != 0 }, "E₀ gets the score gradient")
  }
}
