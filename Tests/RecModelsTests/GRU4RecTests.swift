import Foundation
import NN
import Testing

@testable import RecData
@testable import RecModels
@testable import TensorCore

@Suite struct GRU4RecTests {
  /// N = 12, embedding 8, hidden 10, L = 6.
  static func config(dropout: Float = 0) -> GRU4RecConfig {
    var config = GRU4RecConfig()
    config.maxLength = ModelFixtures.maxLength
    config.embeddingSize = 8
    config.hiddenSize = 10
    config.dropoutProbability = dropout
    return config
  }

  static func model(dropout: Float = 0, seed: UInt64 = 3) -> GRU4Rec {
    GRU4Rec(config: config(dropout: dropout), itemCount: ModelFixtures.itemCount, seed: seed)
  }

  @Test func parameterCountMatchesTheHandCount() {
    let (n, e, h) = (12, 8, 10)
    let expected = n * e + 3 * h * e + 3 * h * h + (h * e + e)  // embedding, bias-free GRU, dense
    let model = Self.model()
    #expect(model.parameterCount == expected)
    #expect(
      model.parameters.map(\.name) == [
        "item_embedding.weight", "gru_layers.weight_ih_l0", "gru_layers.weight_hh_l0", "dense.weight", "dense.bias",
      ])
  }

  @Test func initialisationFollowsRecBole() {
    var config = GRU4RecConfig()
    config.maxLength = 50
    let (n, e, h) = (500, config.embeddingSize, config.hiddenSize)
    let model = GRU4Rec(config: config, itemCount: n, seed: 11)
    let weights = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.value.array) })
    func std(_ x: [Float]) -> Double { (x.reduce(0) { $0 + Double($1 * $1) } / Double(x.count)).squareRoot() }
    func maxAbs(_ x: [Float]) -> Float { x.map(abs).max()! }
    let table = weights["item_embedding.weight"]!
    let xavierNormalStd = (2 / Double(n + e)).squareRoot()
    #expect(abs(std(table) / xavierNormalStd - 1) < 0.05)
    #expect(table[0..<e].contains { $0 != 0 }, "RecBole's xavier_normal_ overwrites the padding row")
    // xavier_uniform_: U(±√(6 / (fan_in + fan_out))), std = bound / √3.
    for (name, fanIn) in [("gru_layers.weight_ih_l0", e), ("gru_layers.weight_hh_l0", h)] {
      let bound = (6 / Float(fanIn + 3 * h)).squareRoot()
      #expect(maxAbs(weights[name]!) <= bound && maxAbs(weights[name]!) > 0.9 * bound, "\(name)")
    }
    let denseBound = 1 / Float(h).squareRoot()
    #expect(maxAbs(weights["dense.weight"]!) <= denseBound && maxAbs(weights["dense.bias"]!) <= denseBound)
    #expect(weights["dense.bias"]!.contains { $0 != 0 })
  }

  @Test func configurationDecodesMissingKeysAsDefaultsAndValidates() throws {
    let config = try JSONDecoder().decode(GRU4RecConfig.self, from: Data(#"{"maxLength": 200}"#.utf8))
    var expected = GRU4RecConfig()
    expected.maxLength = 200
    #expect(config == expected)
    #expect(config.dropoutProbability == 0.3 && config.hiddenSize == 128 && config.embeddingSize == 64)
    var invalid = GRU4RecConfig()
    invalid.layerCount = 2
    #expect(throws: ModelConfigurationError.self) { try invalid.validate() }
  }

  @Test(arguments: [Float(0), 0.3])
  func prefixObjectiveGradientsMatchFiniteDifferences(dropout: Float) {
    CausalModelChecks.objectiveGradientsMatchFiniteDifferences(
      Self.model(dropout: dropout), .prefix, seed: 31, what: "GRU4Rec, dropout \(dropout)")
  }

  @Test(arguments: [Float(0), 0.3])
  func windowObjectiveGradientsMatchFiniteDifferences(dropout: Float) {
    CausalModelChecks.objectiveGradientsMatchFiniteDifferences(
      Self.model(dropout: dropout), .window, seed: 32, what: "GRU4Rec, dropout \(dropout)")
  }

  @Test func scoresEqualAStepByStepReference() {
    let model = Self.model(dropout: 0.5)  // eval mode: dropout must not act
    ModelFixtures.randomise(model.parameters, seed: 33)
    CausalModelChecks.scoresEqualReference(model) { Self.referenceLogits(model, history: $0) }
  }

  @Test func trailingPaddingAndOtherRowsDoNotChangeScores() {
    let model = Self.model()
    ModelFixtures.randomise(model.parameters, seed: 34)
    CausalModelChecks.scoresIgnoreTrailingPaddingAndOtherRows(model)
  }

  @Test func windowLossAtEachPositionEqualsThePrefixLoss() {
    let model = Self.model()
    ModelFixtures.randomise(model.parameters, seed: 35)
    CausalModelChecks.windowMatchesPrefixes(model)
  }

  @Test func trainingOnACycleReachesHitRateOne() {
    var config = Self.config(dropout: 0.1)
    config.embeddingSize = 16
    config.hiddenSize = 32
    CausalModelChecks.learnsACycleWithEitherObjective {
      GRU4Rec(config: config, itemCount: ModelFixtures.itemCount, seed: 4)
    }
  }

  /// GRU4Rec over one history, in Double from the parameter values, step by step (PyTorch gate order r, z, n).
  static func referenceLogits(_ model: GRU4Rec, history: [Int32]) -> [Double] {
    let w = Reference.weights(model.parameters)
    let (e, h) = (model.config.embeddingSize, model.config.hiddenSize)
    var state = [Double](repeating: 0, count: h)
    for item in history {
      let x = Reference.row(w["item_embedding.weight"]!, Int(item), width: e)
      let gi = Reference.linear(x, w["gru_layers.weight_ih_l0"]!, nil)
      let gh = Reference.linear(state, w["gru_layers.weight_hh_l0"]!, nil)
      state = (0..<h).map { j in
        let r = Reference.sigmoid(gi[j] + gh[j])
        let z = Reference.sigmoid(gi[h + j] + gh[h + j])
        let candidate = tanh(gi[2 * h + j] + r * gh[2 * h + j])
        return (1 - z) * candidate + z * state[j]
      }
    }
    let output = Reference.linear(state, w["dense.weight"]!, w["dense.bias"]!)
    return Reference.logits(output, table: w["item_embedding.weight"]!)
  }
}
