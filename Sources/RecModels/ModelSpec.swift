import Foundation
import TensorCore

/// Which model, with its full configuration: what a checkpoint records and what `make` builds.
public enum ModelSpec: Codable, Sendable, Equatable {
  case recblr(RecBLRConfig)

  public static let modelNames = ["recblr"]

  public var name: String {
    switch self {
    case .recblr: return "recblr"
    }
  }

  public var maxLength: Int {
    switch self {
    case .recblr(let c): return c.maxLength
    }
  }

  /// A freshly initialised model.
  public func make(itemCount: Int, seed: UInt64) -> any SequentialRecommender {
    switch self {
    case .recblr(let c): return RecBLR(config: c, itemCount: itemCount, seed: seed)
    }
  }

  /// Preset names of a model (dataset-specific hyper-parameters from the papers).
  public static func presetNames(model: String) -> [String] {
    switch model {
    case "recblr": return RecBLRConfig.presets.keys.sorted()
    default: return []
    }
  }

  /// The model's spec for a preset (nil = the model's defaults), then `overrides` applied as `key=value`
  /// assignments to the configuration's JSON fields (e.g. `dropout=0.3`, `maxLength=50`).
  public static func resolve(model: String, preset: String?, overrides: [String] = []) throws -> ModelSpec {
    var spec: ModelSpec
    switch model {
    case "recblr":
      guard let c = preset.map({ RecBLRConfig.presets[$0] }) ?? RecBLRConfig() else {
        throw ModelSpecError.unknownPreset(model: model, preset: preset!, known: presetNames(model: model))
      }
      spec = .recblr(c)
    default:
      throw ModelSpecError.unknownModel(model, known: modelNames)
    }
    for assignment in overrides { spec = try spec.applying(assignment) }
    return spec
  }

  /// A copy with one `key=value` assignment applied to the configuration.
  public func applying(_ assignment: String) throws -> ModelSpec {
    guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
      throw ModelSpecError.badAssignment(assignment)
    }
    let key = String(assignment[..<eq])
    let value = String(assignment[assignment.index(after: eq)...])
    switch self {
    case .recblr(let c): return .recblr(try ConfigEditor.set(key, to: value, in: c, model: name))
    }
  }
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
  static func set<C: Codable>(_ key: String, to value: String, in config: C, model: String) throws -> C {
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
