import Foundation
import NN
import Testing

@testable import RecData
@testable import RecModels
@testable import TensorCore

@Suite struct SASRecTests {
  /// N = 12, d = 8, 2 heads, inner 16, 2 layers, L = 6.
  static func config(dropout: Float = 0) -> SASRecConfig {
    var config = SASRecConfig()
    config.maxLength = ModelFixtures.maxLength
    config.hiddenSize = 8
    config.innerSize = 16
    config.hiddenDropoutProbability = dropout
    config.attentionDropoutProbability = dropout
    return config
  }

  static func model(dropout: Float = 0, seed: UInt64 = 3) -> SASRec {
    SASRec(config: config(dropout: dropout), itemCount: ModelFixtures.itemCount, seed: seed)
  }

  @Test func parameterCountMatchesTheHandCount() {
    let (n, d, inner, length, layers) = (12, 8, 16, 6, 2)
    let attention = 4 * (d * d + d) + 2 * d  // query, key, value, dense + LayerNorm
    let feedForward = (d * inner + inner) + (inner * d + d) + 2 * d
    let expected = n * d + length * d + layers * (attention + feedForward) + 2 * d
    let model = Self.model()
    #expect(model.parameterCount == expected)
    let names = model.parameters.map(\.name)
    #expect(Set(names).count == names.count)
    for name in [
      "item_embedding.weight", "position_embedding.weight", "LayerNorm.weight", "LayerNorm.bias",
      "trm_encoder.layer.0.multi_head_attention.query.weight", "trm_encoder.layer.1.multi_head_attention.dense.bias",
      "trm_encoder.layer.1.multi_head_attention.LayerNorm.weight", "trm_encoder.layer.0.feed_forward.dense_1.weight",
      "trm_encoder.layer.1.feed_forward.dense_2.bias", "trm_encoder.layer.1.feed_forward.LayerNorm.bias",
    ] {
      #expect(names.contains(name), "missing parameter \(name)")
    }
  }

  @Test func initialisationFollowsRecBole() {
    var config = SASRecConfig()
    config.maxLength = 50
    let model = SASRec(config: config, itemCount: 500, seed: 11)
    let weights = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.value.array) })
    let table = weights["item_embedding.weight"]!
    let std = (table.reduce(0) { $0 + Double($1 * $1) } / Double(table.count)).squareRoot()
    #expect(abs(std - 0.02) < 0.001, "item embedding std \(std)")
    #expect(table[0..<64].contains { $0 != 0 }, "RecBole's normal_ overwrites the padding row")
    #expect(weights["trm_encoder.layer.0.multi_head_attention.query.bias"]!.allSatisfy { $0 == 0 })
    #expect(weights["trm_encoder.layer.1.feed_forward.LayerNorm.weight"]!.allSatisfy { $0 == 1 })
    #expect(weights["trm_encoder.layer.1.feed_forward.dense_2.weight"]!.contains { $0 != 0 })
  }

  @Test func configurationDecodesMissingKeysAsDefaultsAndValidates() throws {
    let json = #"{"maxLength": 200, "hiddenDropoutProbability": 0.2}"#
    let config = try JSONDecoder().decode(SASRecConfig.self, from: Data(json.utf8))
    var expected = SASRecConfig()
    expected.maxLength = 200
    expected.hiddenDropoutProbability = 0.2
    #expect(config == expected)
    #expect(try JSONDecoder().decode(SASRecConfig.self, from: JSONEncoder().encode(config)) == config)
    var invalid = SASRecConfig()
    invalid.headCount = 3
    #expect(throws: ModelConfigurationError.self) { try invalid.validate() }
  }

  @Test(arguments: [Float(0), 0.3])
  func prefixObjectiveGradientsMatchFiniteDifferences(dropout: Float) {
    CausalModelChecks.objectiveGradientsMatchFiniteDifferences(
      Self.model(dropout: dropout), .prefix, seed: 21, what: "SASRec, dropout \(dropout)")
  }

  @Test(arguments: [Float(0), 0.3])
  func windowObjectiveGradientsMatchFiniteDifferences(dropout: Float) {
    CausalModelChecks.objectiveGradientsMatchFiniteDifferences(
      Self.model(dropout: dropout), .window, seed: 22, what: "SASRec, dropout \(dropout)")
  }

  @Test func scoresEqualAStepByStepReference() {
    let model = Self.model(dropout: 0.5)  // eval mode: dropout must not act
    ModelFixtures.randomise(model.parameters, seed: 23)
    CausalModelChecks.scoresEqualReference(model) { Self.referenceLogits(model, history: $0) }
  }

  @Test func trailingPaddingAndOtherRowsDoNotChangeScores() {
    let model = Self.model()
    ModelFixtures.randomise(model.parameters, seed: 24)
    CausalModelChecks.scoresIgnoreTrailingPaddingAndOtherRows(model)
  }

  @Test func windowLossAtEachPositionEqualsThePrefixLoss() {
    let model = Self.model()
    ModelFixtures.randomise(model.parameters, seed: 25)
    CausalModelChecks.windowMatchesPrefixes(model)
  }

  @Test func trainingOnACycleReachesHitRateOne() {
    var config = Self.config(dropout: 0.1)
    config.hiddenSize = 16
    config.innerSize = 32
    CausalModelChecks.learnsACycleWithEitherObjective {
      SASRec(config: config, itemCount: ModelFixtures.itemCount, seed: 4)
    }
  }

  /// SASRec over the real positions of one history, in Double from the parameter values, position by position.
  static func referenceLogits(_ model: SASRec, history: [Int32]) -> [Double] {
    let w = Reference.weights(model.parameters)
    let (d, heads, eps) = (model.config.hiddenSize, model.config.headCount, Double(model.config.layerNormEpsilon))
    let headSize = d / heads
    func norm(_ x: [Double], _ prefix: String) -> [Double] {
      Reference.layerNorm(x, w[prefix + ".weight"]!, w[prefix + ".bias"]!, eps: eps)
    }
    func linear(_ x: [Double], _ prefix: String) -> [Double] {
      Reference.linear(x, w[prefix + ".weight"]!, w[prefix + ".bias"]!)
    }
    var hidden = history.enumerated().map { t, item in
      norm(
        Reference.add(
          Reference.row(w["item_embedding.weight"]!, Int(item), width: d),
          Reference.row(w["position_embedding.weight"]!, t, width: d)), "LayerNorm")
    }
    for layer in 0..<model.config.layerCount {
      let prefix = "trm_encoder.layer.\(layer)"
      let attention = prefix + ".multi_head_attention"
      let (q, k, v) = (
        hidden.map { linear($0, attention + ".query") }, hidden.map { linear($0, attention + ".key") },
        hidden.map { linear($0, attention + ".value") }
      )
      hidden = hidden.indices.map { t in
        var context = [Double](repeating: 0, count: d)
        for head in 0..<heads {
          let features = head * headSize..<(head + 1) * headSize
          let scores = (0...t).map { s in
            var dot = 0.0
            for f in features { dot += q[t][f] * k[s][f] }
            return dot / Double(headSize).squareRoot()
          }
          let top = scores.max()!
          let exps = scores.map { exp($0 - top) }
          let total = exps.reduce(0, +)
          for s in 0...t { for f in features { context[f] += exps[s] / total * v[s][f] } }
        }
        let attended = norm(Reference.add(linear(context, attention + ".dense"), hidden[t]), attention + ".LayerNorm")
        let inner = linear(attended, prefix + ".feed_forward.dense_1").map(Reference.gelu)
        return norm(
          Reference.add(linear(inner, prefix + ".feed_forward.dense_2"), attended), prefix + ".feed_forward.LayerNorm")
      }
    }
    return Reference.logits(hidden.last!, table: w["item_embedding.weight"]!)
  }
}
