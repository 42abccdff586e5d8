import Foundation
import Testing

@testable import RecData

/// A fresh temporary directory per test, removed when the value is released.
final class TemporaryDirectory {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("seqrec-data-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  /// Writes `text` (UTF-8, as is) to `name` and returns the path.
  @discardableResult
  func write(_ name: String, _ text: String) throws -> String {
    try write(name, bytes: Array(text.utf8))
  }

  @discardableResult
  func write(_ name: String, bytes: [UInt8]) throws -> String {
    let file = url.appendingPathComponent(name)
    try Data(bytes).write(to: file)
    return file.path
  }
}

/// Reads `text` as file `name` in a temporary directory.
func readText(
  _ text: String, name: String = "data.txt", options: ReadOptions = ReadOptions()
) throws -> (sequences: RawSequences, layout: InteractionLayout) {
  let directory = try TemporaryDirectory()
  let path = try directory.write(name, text)
  return try InteractionReader.read(path: path, options: options)
}

/// The `DataError` that reading `text` as `name` throws (records an issue when it does not throw one).
func readError(_ text: String, name: String = "data.txt", options: ReadOptions = ReadOptions()) throws -> DataError? {
  let directory = try TemporaryDirectory()
  let path = try directory.write(name, text)
  let error = #expect(throws: DataError.self) { try InteractionReader.read(path: path, options: options) }
  if let error { #expect(error.path == path, "the error names the file") }
  return error
}

/// Per-user raw item lists, by raw user id.
func rawLists(_ raw: RawSequences) -> [String: [String]] {
  var lists: [String: [String]] = [:]
  for user in 0..<raw.userCount { lists[raw.rawUserIds[user]] = raw.rawItems(ofUser: user) }
  return lists
}

/// The shared datasets folder (`$SEQREC_SHARED_DATASETS`, else ../shared/datasets next to the package), if present.
enum SharedDatasets {
  static let directory: URL? = {
    if let env = ProcessInfo.processInfo.environment["SEQREC_SHARED_DATASETS"], !env.isEmpty {
      return URL(fileURLWithPath: env, isDirectory: true)
    }
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return package.deletingLastPathComponent().appendingPathComponent("shared/datasets", isDirectory: true)
  }()

  static var available: Bool {
    guard let directory else { return false }
    return FileManager.default.fileExists(atPath: directory.appendingPathComponent("README.md").path)
  }

  static let skipMessage =
    "shared datasets not found (set SEQREC_SHARED_DATASETS or place them at ../shared/datasets); skipping"

  static func path(_ relative: String) -> String { directory!.appendingPathComponent(relative).path }

  /// The file read once per test run (several tests share the large files), format auto-detected.
  static func read(_ relative: String) throws -> RawSequences {
    try memo.value(for: relative) { try InteractionReader.read(path: path($0)).sequences }
  }

  private static let memo = Memo<String, RawSequences>()
}

/// A lock-protected memo table shared by concurrently running tests.
final class Memo<Key: Hashable, Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var values: [Key: Value] = [:]

  func value(for key: Key, compute: (Key) throws -> Value) rethrows -> Value {
    lock.lock()
    defer { lock.unlock() }
    if let value = values[key] { return value }
    let value = try compute(key)
    values[key] = value
    return value
  }
}

/// A small seeded generator (SplitMix64) so generated test data is the same on every run.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
