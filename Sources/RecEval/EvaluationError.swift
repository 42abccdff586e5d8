/// Why an evaluation could not run: names the offending argument or example.
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
  /// A parameter outside its domain (K, batch size, history length, popularity table, …).
  case invalidArgument(String)
  /// An example that does not exist in the dataset.
  case invalidExample(index: Int, user: Int32, position: Int32, reason: String)

  public var description: String {
    switch self {
    case .invalidArgument(let message):
      return "evaluation: \(message)"
    case .invalidExample(let index, let user, let position, let reason):
      return "evaluation: example #\(index) (user \(user), position \(position)): \(reason)"
    }
  }
}
