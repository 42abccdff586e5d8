import Foundation

/// Paths into `../shared` beside the package (golden outputs, datasets); tests that need them skip when absent.
enum SharedFiles {
  static let root: URL = {
    if let env = ProcessInfo.processInfo.environment["SEQREC_SHARED"] { return URL(fileURLWithPath: env) }
    // Tests/RecModelsTests/SharedFiles.swift → package root → ../shared
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared")
  }()

  static func golden(_ name: String) -> URL { root.appendingPathComponent("golden").appendingPathComponent(name) }
  static func dataset(_ path: String) -> URL { root.appendingPathComponent("datasets").appendingPathComponent(path) }
  static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }
}
