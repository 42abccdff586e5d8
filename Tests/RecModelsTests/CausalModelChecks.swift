import Foundation
import NN
import Testing

@testable import RecData
@testable import RecModels
@testable import TensorCore

/// Checks every causal model passes the same way (on `ModelFixtures`' tiny shapes: N = 12 item ids, L = 6). Each
/// model's suite calls them with its own tiny configuration; what is model-specific (hand-counted parameters,
/// initialisation, a step-by-step reference) stays in the suite.
enum CausalModelChecks {
  enum Objective: String { case prefix, window }

  /// Finite-difference check of one objective on `ModelFixtures`' batches, parameters redrawn from `seed`.
  static func objectiveGradientsMatchFiniteDifferences(
    _ model: some CausalSequentialRecommender, _ objective: Objective, seed: UInt64, what: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    ModelFixtures.randomise(model.parameters, seed: seed)
    let report: GradCheck.Report
    switch objective {
    case .prefix:
      let batch = ModelFixtures.prefixBatch()
      report = ModelFixtures.gradientCheck(parameters: model.parameters, dropoutSeed: 8) { scale, rng in
        model.accumulateGradients(batch, lossScale: scale, rng: &rng)
      }
    case .window:
      let batch = ModelFixtures.windowBatch()
      report = ModelFixtures.gradientCheck(parameters: model.parameters, dropoutSeed: 9) { scale, rng in
        model.accumulateWindowGradients(batch, lossScale: scale, rng: &rng)
      }
    }
    expectPassed(report, "\(what), \(objective) objective", sourceLocation: sourceLocation)
  }

  /// The score rows of `ModelFixtures.histories` equal `reference(history)` (computed in Double) to 1e-4 relative.
  static func scoresEqualReference(
    _ model: some SequentialRecommender, reference: ([Int32]) -> [Double],
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let rows = ModelFixtures.scoreRows(model, ModelFixtures.prefixBatch())
    for (history, row) in zip(ModelFixtures.histories, rows) {
      let expected = reference(history)
      let error = zip(row, expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max()!
      #expect(error < 1e-4, "history \(history): relative error \(error)", sourceLocation: sourceLocation)
    }
  }

  /// A row's scores do not depend on its trailing padding, on the batch's other rows or on how rows are chunked;
  /// an empty history scores zero.
  static func scoresIgnoreTrailingPaddingAndOtherRows(
    _ model: some TiedCausalModel, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let together = ModelFixtures.scoreRows(model, ModelFixtures.prefixBatch())
    for (history, row) in zip(ModelFixtures.histories, together) {
      // Alone, so T = its own length; and in a batch whose rows are padded to a shorter maxLength.
      let alone = ModelFixtures.scoreRows(model, ModelFixtures.prefixBatch([history], targets: [1]))[0]
      let narrow = ModelFixtures.scoreRows(
        model, ModelFixtures.prefixBatch([history, [1]], targets: [1, 1], maxLength: history.count))[0]
      #expect(ModelFixtures.maxAbsDifference(alone, row) < 1e-5, sourceLocation: sourceLocation)
      #expect(ModelFixtures.maxAbsDifference(narrow, row) < 1e-5, sourceLocation: sourceLocation)
    }
    let oneByOne = ModelFixtures.scoreRowsOneByOne(model, ModelFixtures.prefixBatch([[], [4, 2], [3]]))
    let chunked = ModelFixtures.scoreRows(model, ModelFixtures.prefixBatch([[], [4, 2], [3]]))
    #expect(
      zip(oneByOne, chunked).allSatisfy { ModelFixtures.maxAbsDifference($0, $1) < 1e-5 },
      sourceLocation: sourceLocation)
    let empty = ModelFixtures.scoreRows(model, ModelFixtures.prefixBatch([[], [3]], targets: [1, 1]))
    #expect(empty[0].allSatisfy { $0 == 0 } && empty[1].contains { $0 != 0 }, sourceLocation: sourceLocation)
  }

  /// The window objective's loss and gradient equal the sums of the prefix objective's over every targeted
  /// position, and changing the items after a position does not change the loss at that position (dropout off).
  static func windowMatchesPrefixes(
    _ model: some CausalSequentialRecommender, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let windows = ModelFixtures.windowBatch()
    let width = windows.maxLength
    var rng = SeededRNG(seed: 1)
    model.zeroGrads()
    let windowLoss = model.accumulateWindowGradients(windows, lossScale: 1, rng: &rng)
    let windowGradients = ModelFixtures.gradients(model.parameters)

    model.zeroGrads()
    var prefixSum = 0.0
    for row in 0..<windows.count {
      for t in 0..<width where windows.targets[row * width + t] != 0 {
        let items = windows.items[row * width..<row * width + t + 1]
        let target = windows.targets[row * width + t]
        let batch = ModelFixtures.prefixBatch([Array(items)], targets: [target], maxLength: model.maxLength)
        let prefixLoss = model.accumulateGradients(batch, lossScale: 1, rng: &rng)
        prefixSum += prefixLoss
        // The window objective at position t alone, with every later item replaced.
        var single = windows
        single.targets = [Int32](repeating: 0, count: single.targets.count)
        single.targets[row * width + t] = target
        for later in t + 1..<Int(single.lengths[row]) { single.items[row * width + later] = 1 }
        let snapshot = ModelFixtures.gradients(model.parameters)
        let singleLoss = model.accumulateWindowGradients(single, lossScale: 0, rng: &rng)
        #expect(
          abs(singleLoss - prefixLoss) < 1e-5 * max(1, prefixLoss), "row \(row), position \(t)",
          sourceLocation: sourceLocation)
        #expect(
          ModelFixtures.gradients(model.parameters) == snapshot, "lossScale 0 must add nothing",
          sourceLocation: sourceLocation)
      }
    }
    #expect(abs(windowLoss - prefixSum) < 1e-5 * prefixSum, sourceLocation: sourceLocation)
    for (parameter, (windowGradient, prefixGradient)) in zip(
      model.parameters, zip(windowGradients, ModelFixtures.gradients(model.parameters)))
    {
      let scale = max(1e-3, prefixGradient.map(abs).max() ?? 0)
      #expect(
        ModelFixtures.maxAbsDifference(windowGradient, prefixGradient) < 1e-4 * scale,
        "gradient of \(parameter.name)", sourceLocation: sourceLocation)
    }
  }

  /// Trained on a deterministic cycle with either objective (a fresh model from `makeModel` each), the model
  /// learns it: last-epoch loss < 0.1 and HR@1 > 0.95.
  static func learnsACycleWithEitherObjective(
    sourceLocation: SourceLocation = #_sourceLocation, _ makeModel: () -> some CausalSequentialRecommender
  ) {
    for windows in [false, true] {
      let (loss, hitRate) = ModelFixtures.trainOnCycle(makeModel(), epochs: 30, windows: windows)
      #expect(loss < 0.1, "windows \(windows): last epoch loss \(loss)", sourceLocation: sourceLocation)
      #expect(hitRate > 0.95, "windows \(windows): HR@1 \(hitRate)", sourceLocation: sourceLocation)
    }
  }
}
