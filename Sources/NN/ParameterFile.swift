import Foundation
import TensorCore

public enum ParameterFileError: Error, CustomStringConvertible, Equatable {
  case missing(file: String, parameter: String)
  case shapeMismatch(file: String, parameter: String, expected: [Int], found: [Int])
  case unexpected(file: String, tensors: [String])

  public var description: String {
    switch self {
    case .missing(let f, let p): return "\(f): no tensor for parameter '\(p)'"
    case .shapeMismatch(let f, let p, let e, let found):
      return "\(f): tensor '\(p)' has shape \(found), the parameter expects \(e)"
    case .unexpected(let f, let names):
      return "\(f): tensors that match no parameter: \(names.prefix(5).joined(separator: ", "))"
        + (names.count > 5 ? " (\(names.count) in all)" : "")
    }
  }
}

/// Loading and saving parameters by name in safetensors files. Names are the parameters' own names (the official
/// PyTorch names for ported models), so a checkpoint of the official code loads directly.
extension ParameterContainer {
  /// Copies every parameter's value from the tensor of the same name. Shapes must match exactly. With
  /// `allowingExtraTensors: false`, tensors that match no parameter are an error too. Nothing is modified unless
  /// every parameter can be loaded.
  public func loadParameters(from file: SafeTensorsFile, allowingExtraTensors: Bool = true) throws {
    var loaded: [(Parameter, Tensor)] = []
    for p in parameters {
      guard file.contains(p.name) else { throw ParameterFileError.missing(file: file.source, parameter: p.name) }
      let entry = try file.entry(named: p.name)
      guard entry.shape == p.shape else {
        throw ParameterFileError.shapeMismatch(
          file: file.source, parameter: p.name, expected: p.shape, found: entry.shape)
      }
      loaded.append((p, try file.tensor(named: p.name)))
    }
    if !allowingExtraTensors {
      let known = Set(parameters.map(\.name))
      let extra = file.names.filter { !known.contains($0) }
      if !extra.isEmpty { throw ParameterFileError.unexpected(file: file.source, tensors: extra) }
    }
    for (p, t) in loaded { p.value.ptr.update(from: t.ptr, count: t.count) }
  }

  /// Writes every parameter value (F32, in `parameters` order) atomically to `url`.
  public func saveParameters(to url: URL, metadata: [String: String] = [:]) throws {
    try SafeTensorsWriter.write(tensors: parameters.map { ($0.name, $0.value) }, metadata: metadata, to: url)
  }
}
