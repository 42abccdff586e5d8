import Foundation
import Testing

@testable import RecModels

@Suite struct ModelSpecTests {
  @Test func presetsAndOverridesResolve() throws {
    let spec = try ModelSpec.resolve(model: "recblr", preset: "beauty", overrides: ["dropout=0.3", "maxLength=64"])
    guard let c = spec.configuration as? RecBLRConfig else { Issue.record("not recblr"); return }
    #expect(c.maxLength == 64)
    #expect(abs(c.dropout - 0.3) < 1e-6)
    #expect(spec.name == "recblr")
    let sas = try ModelSpec.resolve(model: "sasrec", preset: "ml-1m")
    guard let s = sas.configuration as? SASRecConfig else { Issue.record("not sasrec"); return }
    #expect(s.maxLength == 200 && s.hiddenDropoutProbability == 0.2)
    #expect(try ModelSpec.resolve(model: "gru4rec", preset: nil).maxLength == 50)
  }

  @Test func specsRoundTripThroughJSON() throws {
    for model in ModelSpec.modelNames {
      let spec = try ModelSpec.resolve(model: model, preset: ModelSpec.presetNames(model: model).first)
      let data = try JSONEncoder().encode(spec)
      #expect(try JSONDecoder().decode(ModelSpec.self, from: data) == spec)
      #expect(String(decoding: data, as: UTF8.self).contains("\"name\":\"\(model)\""))
    }
  }

  @Test func badNamesAndValuesSayWhatIsWrong() {
    #expect(throws: ModelSpecError.unknownModel("bert", known: ModelSpec.modelNames)) {
      try ModelSpec.resolve(model: "bert", preset: nil)
    }
    #expect(throws: ModelSpecError.self) { try ModelSpec.resolve(model: "recblr", preset: "gowalla") }
    #expect(throws: ModelSpecError.badAssignment("dropout")) {
      try ModelSpec.resolve(model: "recblr", preset: nil, overrides: ["dropout"])
    }
    do {
      _ = try ModelSpec.resolve(model: "recblr", preset: nil, overrides: ["dropot=0.1"])
      Issue.record("expected an error")
    } catch let error as ModelSpecError {
      #expect(error.description.contains("no option 'dropot'"))
    } catch { Issue.record("\(error)") }
    #expect(throws: ModelSpecError.self) {
      try ModelSpec.resolve(model: "recblr", preset: nil, overrides: ["maxLength=abc"])
    }
  }

  /// Values a model cannot be built with fail when resolved (the CLI's `--model-option`) or decoded (a checkpoint's
  /// config), naming the field, instead of stopping the process when the model is built.
  @Test(arguments: [
    ("recblr", "dropout"), ("sasrec", "hiddenDropoutProbability"), ("gru4rec", "dropoutProbability"),
    ("glintru", "embeddingDropout"), ("glintru-causal", "mixDropout"),
  ])
  func invalidValuesFailWhenResolvedOrDecoded(model: String, dropoutKey: String) throws {
    for assignment in ["\(dropoutKey)=1.5", "\(dropoutKey)=-0.1", "maxLength=0"] {
      let field = String(assignment.prefix { $0 != "=" })
      do {
        _ = try ModelSpec.resolve(model: model, preset: nil, overrides: [assignment])
        Issue.record("\(model) \(assignment): expected an error")
      } catch let error as ModelConfigurationError {
        #expect(error.field == field, "\(model) \(assignment)")
        #expect(error.description.contains(field))
      }
    }
    let valid = try ModelSpec.resolve(model: model, preset: nil)
    var object = try #require(
      JSONSerialization.jsonObject(with: JSONEncoder().encode(valid)) as? [String: Any])
    var config = try #require(object["config"] as? [String: Any])
    config[dropoutKey] = 2
    object["config"] = config
    let invalidJSON = try JSONSerialization.data(withJSONObject: object)
    #expect(throws: ModelConfigurationError.self) { try JSONDecoder().decode(ModelSpec.self, from: invalidJSON) }
  }

  @Test func overridesMayPassThroughAnInvalidCombination() throws {
    // 60 does not split into the default 8 heads, 60 with 4 heads is valid: only the result is checked.
    let spec = try ModelSpec.resolve(model: "glintru", preset: nil, overrides: ["hiddenSize=60", "headCount=4"])
    #expect((spec.configuration as? GLINTRUConfig)?.headSize == 15)
    #expect(throws: ModelConfigurationError.self) {
      try ModelSpec.resolve(model: "glintru", preset: nil, overrides: ["hiddenSize=60"])
    }
  }
}
