/// An invalid model hyperparameter, naming the model and the field (e.g. from a configuration file).
public struct ModelConfigurationError: Error, CustomStringConvertible, Equatable {
  public let model: String
  public let field: String
  public let message: String

  public init(model: String, field: String, message: String) {
    self.model = model
    self.field = field
    self.message = message
  }

  public var description: String { "\(model) configuration: \(field) \(message)" }

  /// Throws unless `condition` holds.
  static func require(_ condition: Bool, model: String, field: String, _ message: @autoclosure () -> String) throws {
    if !condition { throw ModelConfigurationError(model: model, field: field, message: message()) }
  }
}
