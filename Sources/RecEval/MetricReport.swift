import Foundation

/// Averaged ranking metrics of one evaluation run, labelled with the protocol that produced them.
///
/// The label is part of every printed form and of the JSON, so sampled numbers can never be mistaken for
/// full-ranking ones: "full" = every real item ranked; "sampled(pop100)" = target + 100 popularity-drawn negatives.
public struct MetricReport: Codable, Equatable, Sendable {
  /// One named value, e.g. ("NDCG@10", 0.1901).
  public struct Entry: Codable, Equatable, Sendable {
    public var name: String
    public var value: Double

    public init(name: String, value: Double) {
      self.name = name
      self.value = value
    }
  }

  /// "full" or "sampled(pop100)" (see `EvaluationProtocol`).
  public var protocolLabel: String
  /// Number of evaluated examples (one positive each).
  public var exampleCount: Int
  /// Metrics in display order (by K, then HR, NDCG, MRR). An array, so the order survives JSON.
  public var entries: [Entry]

  public init(protocolLabel: String, exampleCount: Int, entries: [Entry]) {
    self.protocolLabel = protocolLabel
    self.exampleCount = exampleCount
    self.entries = entries
  }

  enum CodingKeys: String, CodingKey {
    case protocolLabel = "protocol"
    case exampleCount = "examples"
    case entries = "metrics"
  }

  /// Metric names in order, e.g. ["HR@10", "NDCG@10", "MRR@10", "HR@20", …].
  public var keys: [String] { entries.map(\.name) }

  /// The value of metric `name` ("HR@10"), or nil if the report has no such metric.
  public subscript(name: String) -> Double? {
    entries.first(where: { $0.name == name })?.value
  }

  /// Whether the protocol ranked a sample of items rather than all of them.
  public var isSampled: Bool { protocolLabel.hasPrefix("sampled") }

  /// One line for logs: `[full] n=6040 HR@10=0.3285 NDCG@10=0.1901 …` (4 decimals, as RecBole prints).
  public var line: String {
    let values = entries.map { "\($0.name)=\(Self.format($0.value))" }
    return (["[\(protocolLabel)]", "n=\(exampleCount)"] + values).joined(separator: " ")
  }

  /// A two-column table headed by the protocol and the number of examples.
  public var table: String {
    let header =
      "protocol: \(protocolLabel)\(isSampled ? " (sampled metrics, not full ranking)" : ""), "
      + "examples: \(exampleCount)"
    let width = max(6, entries.map(\.name.count).max() ?? 0)
    var lines = [header, Self.pad("metric", to: width) + "  value"]
    for entry in entries {
      lines.append(Self.pad(entry.name, to: width) + "  " + Self.format(entry.value))
    }
    return lines.joined(separator: "\n")
  }

  /// Pretty-printed JSON: `{"protocol": "full", "examples": 6040, "metrics": [{"name": "HR@10", "value": …}, …]}`.
  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self)
  }

  static func format(_ value: Double) -> String { String(format: "%.4f", value) }

  static func pad(_ text: String, to width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
  }
}

/// Which items a target is ranked against; its `label` is written into every report.
public enum EvaluationProtocol: Equatable, Sendable {
  /// Every real item id (RecBole `mode: full`).
  case full
  /// The target plus `negatives` items drawn from item popularity (RecBole `mode: pop<N>`).
  case sampledByPopularity(negatives: Int)

  /// "full" or "sampled(pop100)".
  public var label: String {
    switch self {
    case .full: return "full"
    case .sampledByPopularity(let negatives): return "sampled(pop\(negatives))"
    }
  }
}
