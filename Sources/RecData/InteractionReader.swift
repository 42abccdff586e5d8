import Foundation

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

/// Reads interaction files into per-user chronological item lists (raw ids), in any `InteractionFormat`.
public enum InteractionReader {
  /// Reads the file at `path`. Returns the sequences and the layout that was used (detected or chosen, with an
  /// atomic file's timestamp column resolved).
  public static func read(path: String, options: ReadOptions = ReadOptions()) throws -> (
    sequences: RawSequences, layout: InteractionLayout
  ) {
    let data = try fileContents(path: path)
    return try data.withUnsafeBytes { try read(path: path, bytes: $0, options: options) }
  }

  /// Reads file content already in memory; `path` names it in errors and decides `.inter` → atomic.
  public static func read(path: String, bytes: UnsafeRawBufferPointer, options: ReadOptions = ReadOptions()) throws
    -> (sequences: RawSequences, layout: InteractionLayout)
  {
    try read(
      path: path, bytes: bytes, layout: try options.layout(path: path, bytes: bytes), timeOrder: options.timeOrder)
  }

  /// Reads file content with a given layout; returns it with an atomic file's timestamp column resolved.
  /// `timeOrder` decides how the timestamps of a file that has them are compared.
  public static func read(
    path: String, bytes: UnsafeRawBufferPointer, layout: InteractionLayout, timeOrder: TimeOrderKey = .exact
  ) throws -> (sequences: RawSequences, layout: InteractionLayout) {
    switch layout {
    case .pairs: return (try IntegerIdReaders.readPairs(path: path, bytes: bytes), layout)
    case .userLines: return (try IntegerIdReaders.readUserLines(path: path, bytes: bytes), layout)
    case .atomic(let columns):
      let (sequences, used) = try TabularReaders.readAtomic(
        path: path, bytes: bytes, columns: columns, timeOrder: timeOrder)
      return (sequences, .atomic(used))
    case .delimited(let delimited):
      return (
        try TabularReaders.readDelimited(path: path, bytes: bytes, layout: delimited, timeOrder: timeOrder), layout
      )
    }
  }

  /// The whole file, memory-mapped when possible; a missing or unreadable file is a `DataError`.
  public static func fileContents(path: String) throws -> Data {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw DataError(path: path, "no such file")
    }
    if isDirectory.boolValue { throw DataError(path: path, "is a directory, not an interaction file") }
    do {
      return try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
    } catch {
      throw DataError(path: path, "cannot read the file (\(error.localizedDescription))")
    }
  }
}
