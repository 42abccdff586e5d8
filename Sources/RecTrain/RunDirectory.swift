import Foundation
import RecEval

/// A training run's directory: `config.json` (everything resolved), `metrics.jsonl` (one line per epoch),
/// `learning_curve.svg`, `result.json` (test metrics) and the best checkpoint (`model.safetensors`,
/// `checkpoint.json`).
public struct RunDirectory: Sendable {
  public let url: URL

  public init(_ url: URL) throws {
    self.url = url
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  /// A new directory `runs/<model>-<dataset>-<timestamp>` under `parent`.
  public static func fresh(parent: URL, model: String, dataset: String) throws -> RunDirectory {
    let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
    let safe = dataset.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" }
    return try RunDirectory(parent.appendingPathComponent("\(model)-\(String(safe))-\(stamp)"))
  }

  static let encoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys]
    return e
  }()

  public func writeJSON<T: Encodable>(_ value: T, name: String) throws {
    try RunDirectory.encoder.encode(value).write(to: url.appendingPathComponent(name), options: .atomic)
  }

  /// Appends one epoch to `metrics.jsonl` and redraws `learning_curve.svg` from all epochs so far.
  public func record(_ epochs: [EpochRecord], validMetric: String) throws {
    let lines = try epochs.map { record -> String in
      let e = JSONEncoder()
      e.outputFormatting = [.sortedKeys]
      return String(decoding: try e.encode(record), as: UTF8.self)
    }
    try (lines.joined(separator: "\n") + "\n").write(
      to: url.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
    let svg = LearningCurvePlot.svg(
      title: url.lastPathComponent,
      series: [
        .init(name: "train loss (mean CE per target)", values: epochs.map(\.trainLoss), color: "#c0392b"),
        .init(name: "valid \(validMetric)", values: epochs.map { $0.valid[validMetric] ?? .nan }, color: "#2471a3"),
      ])
    try svg.write(to: url.appendingPathComponent("learning_curve.svg"), atomically: true, encoding: .utf8)
  }
}
