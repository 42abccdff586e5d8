import Foundation
import TensorCore

/// A model's hyper-parameters: Codable (checkpoints record them), with named presets and a factory.
public protocol ModelConfiguration: Codable, Sendable, Equatable {
  static var modelName: String { get }
  /// Dataset-specific hyper-parameters from the papers, by name.
  static var presets: [String: Self] { get }
  init()
  var maxLength: Int { get }
  /// Throws a `ModelConfigurationError` naming the first field the model cannot be built with.
  func validate() throws
  func makeModel(itemCount: Int, seed: UInt64) -> any SequentialRecommender
}

extension RecBLRConfig: ModelConfiguration {
  public static let modelName = "recblr"
  public func makeModel(itemCount: Int, seed: UInt64) -> any SequentialRecommender {
    RecBLR(config: self, itemCount: itemCount, seed: seed)
  }
}

extension SASRecConfig: ModelConfiguration {
  public static let modelName = "sasrec"
  /// ML-1M uses dropout 0.2 (RecBole's 0.5 default is known to be poor there, RecBole #1289); Amazon keeps 0.5.
  public static let presets: [String: SASRecConfig] = [
    "ml-1m": .with {
      $0.maxLength = 200; $0.hiddenDropoutProbability = 0.2; $0.attentionDropoutProbability = 0.2
    },
    "ml-1m-recbole": .with { $0.maxLength = 200 },
    "beauty": .with { $0.maxLength = 50 },
    "sports": .with { $0.maxLength = 50 },
  ]
  public func makeModel(itemCount: Int, seed: UInt64) -> any SequentialRecommender {
    SASRec(config: self, itemCount: itemCount, seed: seed)
  }
}

extension GLINTRUConfig: ModelConfiguration {
  public static let modelName = "glintru"
  public func makeModel(itemCount: Int, seed: UInt64) -> any SequentialRecommender {
    GLINTRU(config: self, itemCount: itemCount, seed: seed)
  }
}

extension GRU4RecConfig: ModelConfiguration {
  public static let modelName = "gru4rec"
  public static let presets: [String: GRU4RecConfig] = [
    "ml-1m": .with { $0.maxLength = 200 },
    "beauty": .with { $0.maxLength = 50 },
    "sports": .with { $0.maxLength = 50 },
  ]
  public func makeModel(itemCount: Int, seed: UInt64) -> any SequentialRecommender {
    GRU4Rec(config: self, itemCount: itemCount, seed: seed)
  }
}

extension ModelConfiguration {
  /// For `validate()`: throws a `ModelConfigurationError` naming this model and `field` unless `condition` holds.
  func require(_ condition: Bool, _ field: String, _ message: @autoclosure () -> String) throws {
    try ModelConfigurationError.require(condition, model: Self.modelName, field: field, message())
  }

  static func with(_ edit: (inout Self) -> Void) -> Self {
    var c = Self()
    edit(&c)
    return c
  }
}

/// One model the tool can build: its name, its configuration type and how to build it from a configuration.
struct ModelEntry: Sendable {
  let name: String
  let configurationType: any ModelConfiguration.Type
  let make: @Sendable (any ModelConfiguration, Int, UInt64) -> any SequentialRecommender
}

/// Which model, with its full configuration: what a checkpoint records (as `{"name": …, "config": {…}}`) and what
/// `make` builds.
public struct ModelSpec: Sendable {
  public let name: String
  public let configuration: any ModelConfiguration

  static let entries: [ModelEntry] = [
    ModelEntry(name: "recblr", configurationType: RecBLRConfig.self) { $0.makeModel(itemCount: $1, seed: $2) },
    ModelEntry(name: "sasrec", configurationType: SASRecConfig.self) { $0.makeModel(itemCount: $1, seed: $2) },
    ModelEntry(name: "gru4rec", configurationType: GRU4RecConfig.self) { $0.makeModel(itemCount: $1, seed: $2) },
    ModelEntry(name: "glintru", configurationType: GLINTRUConfig.self) { $0.makeModel(itemCount: $1, seed: $2) },
    ModelEntry(name: "glintru-causal", configurationType: GLINTRUConfig.self) { config, items, seed in
      GLINTRUCausal(config: config as! GLINTRUConfig, itemCount: items, seed: seed)
    },
  ]
  public static var modelNames: [String] { entries.map(\.name) }

  /// A spec for `configuration` under the model name `name` (default: the configuration type's own model).
  public init(_ configuration: any ModelConfiguration, name: String? = nil) {
    self.name = name ?? type(of: configuration).modelName
    self.configuration = configuration
  }

  public static func recblr(_ config: RecBLRConfig) -> ModelSpec { ModelSpec(config) }

  public var maxLength: Int { configuration.maxLength }

  /// A freshly initialised model.
  public func make(itemCount: Int, seed: UInt64) -> any SequentialRecommender {
    (try! ModelSpec.entry(named: name)).make(configuration, itemCount, seed)
  }

  static func entry(named model: String) throws -> ModelEntry {
    guard let e = entries.first(where: { $0.name == model }) else {
      throw ModelSpecError.unknownModel(model, known: modelNames)
    }
    return e
  }

  /// Preset names of a model.
  public static func presetNames(model: String) -> [String] {
    ((try? entry(named: model))?.configurationType.presetNames) ?? []
  }

  /// The model's spec for a preset (nil = the model's defaults), then `overrides` applied as `key=value`
  /// assignments to the configuration's JSON fields (e.g. `dropout=0.3`, `maxLength=50`).
  public static func resolve(model: String, preset: String?, overrides: [String] = []) throws -> ModelSpec {
    let e = try entry(named: model)
    var spec = ModelSpec(try e.configurationType.preset(preset), name: model)
    for assignment in overrides { spec = try spec.applying(assignment) }
    try spec.configuration.validate()
    return spec
  }

  /// A copy with one `key=value` assignment applied to the configuration (not validated: a combination of
  /// assignments may pass through invalid states; `resolve` validates the result).
  public func applying(_ assignment: String) throws -> ModelSpec {
    guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
      throw ModelSpecError.badAssignment(assignment)
    }
    let key = String(assignment[..<eq])
    let value = String(assignment[assignment.index(after: eq)...])
    return ModelSpec(try ConfigEditor.set(key, to: value, in: configuration, model: name), name: name)
  }
}

extension ModelSpec: Equatable {
  public static func == (a: ModelSpec, b: ModelSpec) -> Bool {
    a.name == b.name && a.configuration.isEqual(to: b.configuration)
  }
}

extension ModelConfiguration {
  func isEqual(to other: any ModelConfiguration) -> Bool { (other as? Self) == self }
}

extension ModelConfiguration {
  static var presetNames: [String] { presets.keys.sorted() }
  static func preset(_ name: String?) throws -> Self {
    guard let name else { return Self() }
    guard let c = presets[name] else {
      throw ModelSpecError.unknownPreset(model: modelName, preset: name, known: presetNames)
    }
    return c
  }
}

extension ModelSpec: Codable {
  enum CodingKeys: String, CodingKey { case name, config }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let name = try c.decode(String.self, forKey: .name)
    let e = try ModelSpec.entry(named: name)
    let configuration = try e.configurationType.decode(from: c.superDecoder(forKey: .config))
    try configuration.validate()
    self.init(configuration, name: name)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(name, forKey: .name)
    try configuration.encode(to: c.superEncoder(forKey: .config))
  }
}

extension ModelConfiguration {
  static func decode(from decoder: Decoder) throws -> Self { try Self(from: decoder) }
}

public enum ModelSpecError: Error, CustomStringConvertible, Equatable {
  case unknownModel(String, known: [String])
  case unknownPreset(model: String, preset: String, known: [String])
  case badAssignment(String)
  case unknownKey(model: String, key: String, known: [String])
  case badValue(model: String, key: String, value: String, reason: String)

  public var description: String {
    switch self {
    case .unknownModel(let m, let known): return "unknown model '\(m)' (known: \(known.joined(separator: ", ")))"
    case .unknownPreset(let m, let p, let known):
      return "unknown preset '\(p)' for \(m) (known: \(known.joined(separator: ", ")))"
    case .badAssignment(let a): return "model option '\(a)' is not of the form key=value"
    case .unknownKey(let m, let k, let known):
      return "\(m) has no option '\(k)' (options: \(known.joined(separator: ", ")))"
    case .badValue(let m, let k, let v, let reason): return "\(m) option \(k)=\(v): \(reason)"
    }
  }
}

/// Edits one field of a Codable configuration through its JSON form, so every model gets `key=value` overrides
/// without per-field code.
enum ConfigEditor {
  static func set<C: ModelConfiguration>(_ key: String, to value: String, in config: C, model: String) throws -> C {
    let data = try JSONEncoder().encode(config)
    guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return config }
    guard let current = object[key] else {
      throw ModelSpecError.unknownKey(model: model, key: key, known: object.keys.sorted())
    }
    let parsed: Any
    if current is String {
      parsed = value
    } else if let b = Bool(value) {
      parsed = b
    } else if let i = Int(value) {
      parsed = i
    } else if let d = Double(value), d.isFinite {
      parsed = d
    } else {
      throw ModelSpecError.badValue(model: model, key: key, value: value, reason: "expected a number or true/false")
    }
    object[key] = parsed
    let edited = try JSONSerialization.data(withJSONObject: object)
    do {
      return try JSONDecoder().decode(C.self, from: edited)
    } catch {
      throw ModelSpecError.badValue(model: model, key: key, value: value, reason: "not valid for this option")
    }
  }
}
