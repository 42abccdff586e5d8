/// A problem with an input (or cache) file: names the file, the 1-based line when it is about one line, and what
/// is wrong, e.g. `ml.txt:17: expected an integer item id, found 'abc'`.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file as the caller named it.
  public var path: String
  /// 1-based line number, or nil when the problem concerns the whole file.
  public var line: Int?
  public var message: String

  public init(path: String, line: Int? = nil, _ message: String) {
    self.path = path
    self.line = line
    self.message = message
  }

  public var description: String {
    if let line { return "\(path):\(line): \(message)" }
    return "\(path): \(message)"
  }
}
