import NN
import RecData
import TensorCore
import Testing

@testable import RecModels

@Suite struct GLINTRUTests {
  static func tinyConfig(dropout: Bool, hiddenSize: Int = 4, maxLength: Int = 6) -> GLINTRUConfig {
    var c = GLINTRUConfig()
    c.hiddenSize = hiddenSize
    c.headCount = 2
    c.maxLength = maxLength
    return dropout ? c : c.withoutDropout
  }

  /// Right-padded rows with lengths L, L − 1, L − 2, 3, 1 and 0 (an empty history) for L = 9.
  static func mixedBatch(itemCount: Int, seed: UInt64) -> SequenceBatch {
    var rng = SeededRNG(seed: seed)
    let histories = [9, 8, 7, 3, 1, 0].map { n in (0..<n).map { _ in Int32(1 + rng.int(below: itemCount - 1)) } }
    let b = SequenceDataset.batch(histories: histories, maxLength: 9)
    let targets = histories.map { _ in Int32(1 + rng.int(below: itemCount - 1)) }
    return SequenceBatch(maxLength: 9, items: b.items, lengths: b.lengths, targets: targets, users: b.users)
  }

  /// R from the full L-position computation at each row's position max(n, 1) − 1.
  static func fullOutputs(_ model: GLINTRU, _ batch: SequenceBatch, training: Bool, seed: UInt64) -> [Float] {
    let (l, d) = (model.maxLength, model.config.hiddenSize)
    let all = model.outputsAtAllPositions(items: batch.items, training: training, seed: seed)
    let values = all.array
    var out: [Float] = []
    for (b, n) in batch.lengths.enumerated() {
      let row = b * l + max(Int(n), 1) - 1
      out += values[(row * d)..<((row + 1) * d)]
    }
    return out
  }

  @Test func theShortcutEqualsTheFullComputationInEvalMode() {
    let model = GLINTRU(config: Self.tinyConfig(dropout: true, hiddenSize: 8, maxLength: 9), itemCount: 20, seed: 1)
    let batch = Self.mixedBatch(itemCount: 20, seed: 2)
    let shortcut = model.sequenceOutput(batch).array
    let full = Self.fullOutputs(model, batch, training: false, seed: 0)
    #expect(maxRelativeDifference(shortcut, full) < 1e-5)
  }

  /// Training mode: every dropout mask is a function of (seed, token), so the shortcut must reproduce the full
  /// computation with the same seed exactly, per-token padding keys included.
  @Test func theShortcutEqualsTheFullComputationInTrainingModeWithTheSameMasks() {
    let model = GLINTRU(config: Self.tinyConfig(dropout: true, hiddenSize: 8, maxLength: 9), itemCount: 20, seed: 3)
    let batch = Self.mixedBatch(itemCount: 20, seed: 4)
    for seed: UInt64 in [5, 6] {
      let (shortcut, _) = model.encode(batch, training: true, seed: seed)
      let full = Self.fullOutputs(model, batch, training: true, seed: seed)
      #expect(maxRelativeDifference(shortcut.array, full) < 1e-5, "seed \(seed)")
      // And the masks do act: training differs from eval.
      #expect(maxRelativeDifference(shortcut.array, model.sequenceOutput(batch).array) > 1e-3)
    }
  }

  /// The whole model through the shortcut, with and without dropout (fixed masks). h = 1e-3: the L2-normalised
  /// ELU of a query or key with a small norm is strongly curved, and h = 1e-2 is not local there (probed: the
  /// difference quotients converge to the analytic values as h shrinks). The loss is summed in Double, so fp32
  /// rounding of the ~10-unit loss costs ~5e-4 in a quotient, inside the absolute tolerance.
  @Test(
    arguments: [(false, .perToken), (true, .perToken), (true, .sharedPerRow)]
      as [(Bool, GLINTRUConfig.PaddingKeyDropout)])
  func objectiveGradientsMatchFiniteDifferences(dropout: Bool, paddingKeys: GLINTRUConfig.PaddingKeyDropout) {
    var config = Self.tinyConfig(dropout: dropout, hiddenSize: 8)
    config.paddingKeyDropout = paddingKeys
    let model = GLINTRU(config: config, itemCount: 12, seed: 7)
    let batch = SequenceBatch(
      maxLength: 6, items: [1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 3, 9, 2, 0, 0, 0, 8, 1, 4, 2, 6, 0],
      lengths: [6, 1, 3, 5], targets: [8, 3, 11, 5], users: [0, 1, 2, 3])
    let run = { (rng: inout SeededRNG, scale: Float) in model.accumulateGradients(batch, lossScale: scale, rng: &rng) }
    let table = model.network.itemEmbedding.weight
    let report = objectiveGradientCheck(
      model, parameters: model.parameters.filter { $0 !== table }, h: 1e-3, seed: 8, run: run)
    #expect(report.passed, "\(report)")
    #expect(report.maxAbsGradient > 0)
    // Every entry of the table: only the padding row may disagree, because its lookups get no gradient by design
    // (torch padding_idx), while finite differences also see E₀ through the padding tokens' keys and convolutions.
    let tableReport = objectiveGradientCheck(
      model, parameters: [table], h: 1e-3, entriesPerTensor: table.count, seed: 8, run: run)
    #expect(tableReport.checked == table.count)
    #expect(tableReport.mismatches.allSatisfy { $0.index < 8 }, "\(tableReport)")
    #expect(tableReport.maxAbsGradient > 0)
  }

  /// The shared-mask approximation changes training outputs only for rows with padding keys (T_b < L), never eval.
  @Test func sharedPaddingKeyMasksOnlyChangeTrainingRowsWithPaddingKeys() {
    var config = Self.tinyConfig(dropout: true, hiddenSize: 8, maxLength: 9)
    let exact = GLINTRU(config: config, itemCount: 20, seed: 12)
    config.paddingKeyDropout = .sharedPerRow
    let shared = GLINTRU(config: config, itemCount: 20, seed: 12)
    let batch = Self.mixedBatch(itemCount: 20, seed: 13)  // lengths 9, 8, 7, 3, 1, 0: T_b = 9, 9, 9, 5, 3, 3
    #expect(shared.sequenceOutput(batch).array == exact.sequenceOutput(batch).array)
    let (a, _) = exact.encode(batch, training: true, seed: 14)
    let (b, _) = shared.encode(batch, training: true, seed: 14)
    for row in 0..<6 {
      let range = (row * 8)..<((row + 1) * 8)
      let differs = maxRelativeDifference(Array(a.array[range]), Array(b.array[range])) > 1e-5
      #expect(differs == (row >= 3), "row \(row)")
    }
  }

  /// Spec §7 item 5: with items 0…n−1 fixed, an item in place of the padding at n or n + 1 (through the centred
  /// convolutions and the GRU) or anywhere later (through the attention keys) changes the output at n − 1.
  @Test func theOutputAtTheLastItemDependsOnLaterPositions() {
    let model = GLINTRU(config: Self.tinyConfig(dropout: false, hiddenSize: 8, maxLength: 9), itemCount: 20, seed: 9)
    let (l, d, n) = (9, 8, 4)
    let prefix: [Int32] = [3, 1, 4, 1]
    func output(_ items: [Int32]) -> [Float] {
      Array(model.outputsAtAllPositions(items: items).array[((n - 1) * d)..<(n * d)])
    }
    let padded = prefix + [Int32](repeating: 0, count: l - n)
    let base = output(padded)
    #expect(
      maxRelativeDifference(base, model.sequenceOutput(SequenceDataset.batch(histories: [prefix], maxLength: l)).array)
        < 1e-5)
    for position in n..<l {
      var changed = padded
      changed[position] = 7
      #expect(maxRelativeDifference(output(changed), base) > 1e-4, "an item at position \(position)")
    }
    // Without the attention expert, only positions n and n + 1 reach n − 1 (kernel 3: one step of look-ahead per
    // convolution).
    model.network.output.mixing.logits.value[1] = -80
    let recurrentBase = output(padded)
    for position in n..<l {
      var changed = padded
      changed[position] = 7
      let moved = maxRelativeDifference(output(changed), recurrentBase) > 1e-4
      #expect(moved == (position <= n + 1), "an item at position \(position) through the GRU branch")
    }
  }

  /// Spec A9: nothing masks the padding, so the same history gives a different output under a different L.
  @Test func theMaximumLengthItselfChangesTheOutput() {
    let short = GLINTRU(config: Self.tinyConfig(dropout: false, maxLength: 6), itemCount: 12, seed: 10)
    let long = GLINTRU(config: Self.tinyConfig(dropout: false, maxLength: 9), itemCount: 12, seed: 10)
    #expect(short.parameters.map(\.value.array) == long.parameters.map(\.value.array))
    let history: [[Int32]] = [[2, 5, 7]]
    let a = short.sequenceOutput(SequenceDataset.batch(histories: history, maxLength: 6)).array
    let b = long.sequenceOutput(SequenceDataset.batch(histories: history, maxLength: 9)).array
    #expect(maxRelativeDifference(a, b) > 1e-4)
  }

  @Test func parameterCountsMatchTheSpec() {
    // Spec §1.10: 24d² + 18.5d + 2 besides the V × d table.
    for (preset, d) in [("ml-1m", 128), ("beauty-d64", 64)] {
      let model = GLINTRU(config: GLINTRUConfig.presets[preset]!, itemCount: 3417, seed: 0)
      #expect(model.parameterCount == 3417 * d + 24 * d * d + 37 * d / 2 + 2, "\(preset)")
    }
    #expect(GLINTRU(config: GLINTRUConfig(), itemCount: 3417, seed: 0).parameterCount == 832_962)
  }

  @Test func presetsFollowTheOfficialConfigs() {
    let presets = GLINTRUConfig.presets
    #expect(
      Set(presets.keys) == ["code", "ml-1m", "beauty", "video-games", "ml-1m-d64", "beauty-d64", "video-games-d64"])
    for (name, c) in presets {
      #expect(throws: Never.self, "\(name)") { try c.validate() }
      #expect(c.hiddenSize == (name.hasSuffix("-d64") ? 64 : 128) && c.headSize == 16, "\(name)")
      #expect(c.maxLength == (name.hasPrefix("beauty") || name.hasPrefix("video") ? 100 : 200), "\(name)")
      #expect(c.embeddingDropout == 0.3 && c.attentionDropout == 0.2 && c.kernelSize == 3, "\(name)")
    }
    var badHeads = GLINTRUConfig()
    badHeads.headCount = 5
    #expect(
      throws: ModelConfigurationError(
        model: "glintru", field: "headCount", message: "must divide hiddenSize 128, got 5")
    ) {
      try badHeads.validate()
    }
    var badKernel = GLINTRUConfig()
    badKernel.kernelSize = 4
    #expect(throws: ModelConfigurationError.self) { try badKernel.validate() }
  }

  @Test func initialisationFollowsTheOfficialCode() {
    let model = GLINTRU(config: GLINTRUConfig.presets["beauty-d64"]!, itemCount: 500, seed: 11)
    let net = model.network
    #expect(net.output.mixing.logits.value.array == [0.5, 0.5])
    #expect(net.output.layerNorm.weight.value.array.allSatisfy { $0 == 1 })
    #expect(net.recurrent.outputProjection.bias!.value.array.allSatisfy { $0 == 0 })
    let convBound = 1 / Float(3 * 64).squareRoot()
    #expect(net.recurrent.inputConv.bias.value.array.allSatisfy { abs($0) <= convBound })
    #expect(net.recurrent.inputConv.bias.value.array.contains { abs($0) > convBound / 2 })
    let gruBound = (6 / Float(4 * 64)).squareRoot()
    #expect(net.recurrent.gru.weightHH.value.array.allSatisfy { abs($0) <= gruBound })
    let table = net.itemEmbedding.weight.value.array
    let std = (table.reduce(0) { $0 + $1 * $1 } / Float(table.count)).squareRoot()
    #expect(abs(std - (2 / Float(500 + 64)).squareRoot()) < 0.01 * std * 5)
  }
}
