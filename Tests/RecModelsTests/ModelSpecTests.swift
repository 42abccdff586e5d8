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
}
