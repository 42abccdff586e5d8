import NN
import RecData
import TensorCore
import Testing

@testable import RecModels

@Suite struct GLINTRUCausalTests {
  static func tinyConfig(dropout: Bool, hiddenSize: Int = 4, maxLength: Int = 6) -> GLINTRUConfig {
    GLINTRUTests.tinyConfig(dropout: dropout, hiddenSize: hiddenSize, maxLength: maxLength)
  }

  @Test func sharesTheFaithfulModelsParameterNames() {
    let causal = GLINTRUCausal(config: Self.tinyConfig(dropout: true), itemCount: 12, seed: 1)
    let faithful = GLINTRU(config: Self.tinyConfig(dropout: true), itemCount: 12, seed: 1)
    #expect(causal.parameters.map(\.name) == faithful.parameters.map(\.name))
    #expect(causal.name == "glintru-causal" && faithful.name == "glintru")
    #expect(causal.network.recurrent.inputConv.padding == .causal)
  }

  @Test func laterItemsDoNotChangeEarlierOutputs() {
    let model = GLINTRUCausal(
      config: Self.tinyConfig(dropout: false, hiddenSize: 8, maxLength: 8), itemCount: 20, seed: 2)
    let items: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6]
    let base = model.outputsAtAllPositions(items: items, steps: 8).array
    for position in 1..<8 {
      var changed = items
      changed[position] = 17
      let other = model.outputsAtAllPositions(items: changed, steps: 8).array
      #expect(Array(other[0..<(position * 8)]) == Array(base[0..<(position * 8)]), "change at \(position)")
      #expect(other[(position * 8)..<(position * 8 + 8)] != base[(position * 8)..<(position * 8 + 8)])
    }
  }

  @Test func streamingEqualsTheParallelForwardAtEveryPosition() {
    let model = GLINTRUCausal(
      config: Self.tinyConfig(dropout: true, hiddenSize: 8, maxLength: 20), itemCount: 30, seed: 3)
    var rng = SeededRNG(seed: 4)
    for _ in 0..<4 {
      let sequence = (0..<(1 + rng.int(below: 20))).map { _ in Int32(1 + rng.int(below: 29)) }
      let parallel = model.outputsAtAllPositions(items: sequence, steps: sequence.count).array
      var state = model.initialStreamingState()
      for t in 0..<sequence.count {
        model.step(item: sequence[t], state: &state)
        let expected = Array(parallel[(t * 8)..<((t + 1) * 8)])
        #expect(maxRelativeDifference(state.output, expected) < 1e-4, "position \(t)")
      }
      #expect(state.itemCount == sequence.count)
      // Scores from the state are the tied scores of the last output.
      let scores = Tensor(zeros: [30])
      model.scores(state: state, into: scores.ptr)
      let batchScores = Tensor(zeros: [1, 30])
      model.scores(SequenceDataset.batch(histories: [sequence], maxLength: 20), into: batchScores.ptr)
      #expect(maxRelativeDifference(scores.array, batchScores.array) < 1e-4)
    }
  }

  @Test func prefixObjectiveGradientsMatchFiniteDifferences() {
    let model = GLINTRUCausal(config: Self.tinyConfig(dropout: true), itemCount: 12, seed: 5)
    let batch = SequenceBatch(
      maxLength: 6, items: [1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 3, 9, 2, 0, 0, 0], lengths: [6, 1, 3],
      targets: [8, 3, 11], users: [0, 1, 2])
    let report = objectiveGradientCheck(model, seed: 6) { rng, scale in
      model.accumulateGradients(batch, lossScale: scale, rng: &rng)
    }
    #expect(report.passed, "\(report)")
    #expect(report.maxAbsGradient > 0)
  }

  @Test func windowObjectiveGradientsMatchFiniteDifferences() {
    let model = GLINTRUCausal(config: Self.tinyConfig(dropout: true), itemCount: 12, seed: 7)
    let windows = WindowBatch(
      maxLength: 6, items: [1, 2, 3, 4, 5, 0, 7, 8, 0, 0, 0, 0], lengths: [5, 2],
      targets: [0, 3, 4, 5, 6, 0, 8, 9, 0, 0, 0, 0])
    let report = objectiveGradientCheck(model, seed: 8) { rng, scale in
      model.accumulateWindowGradients(windows, lossScale: scale, rng: &rng)
    }
    #expect(report.passed, "\(report)")
    #expect(report.maxAbsGradient > 0)
  }

  @Test func windowLossAndGradientEqualThePrefixObjectivesAtEveryPosition() {
    let model = GLINTRUCausal(config: Self.tinyConfig(dropout: false), itemCount: ModelFixtures.itemCount, seed: 9)
    ModelFixtures.randomise(model.parameters, seed: 26)
    CausalModelChecks.windowMatchesPrefixes(model)
  }
}
