import Foundation

/// Size and sequence-length summary of a dataset (the numbers papers put in their dataset tables).
public struct DatasetStatistics: Equatable, Sendable {
  public var users: Int
  /// Distinct items, excluding the padding id.
  public var items: Int
  public var interactions: Int
  public var averageLength: Double
  /// Middle length (mean of the two middle ones for an even number of users).
  public var medianLength: Double
  public var minLength: Int
  public var maxLength: Int

  public init(_ dataset: SequenceDataset) {
    let lengths = dataset.sequences.map(\.count).sorted()
    users = lengths.count
    items = dataset.itemCount - 1
    interactions = lengths.reduce(0, +)
    averageLength = users == 0 ? 0 : Double(interactions) / Double(users)
    if lengths.isEmpty {
      medianLength = 0
    } else if lengths.count % 2 == 1 {
      medianLength = Double(lengths[lengths.count / 2])
    } else {
      medianLength = Double(lengths[lengths.count / 2 - 1] + lengths[lengths.count / 2]) / 2
    }
    minLength = lengths.first ?? 0
    maxLength = lengths.last ?? 0
  }

  /// Share of the user × item matrix that holds an interaction.
  public var density: Double { users == 0 || items == 0 ? 0 : Double(interactions) / (Double(users) * Double(items)) }

  /// The statistics as aligned "label  value" rows.
  public var rows: [(label: String, value: String)] {
    [
      ("users", Self.grouped(users)),
      ("items", Self.grouped(items)),
      ("interactions", Self.grouped(interactions)),
      ("avg length", String(format: "%.2f", averageLength)),
      ("median length", medianLength == medianLength.rounded() ? "\(Int(medianLength))" : "\(medianLength)"),
      ("min length", Self.grouped(minLength)),
      ("max length", Self.grouped(maxLength)),
      ("density", String(format: "%.4f%%", density * 100)),
    ]
  }

  /// A two-column table, optionally under a title line.
  public func table(title: String? = nil) -> String {
    Self.table(rows, title: title)
  }

  /// Formats label/value rows with the values right-aligned.
  public static func table(_ rows: [(label: String, value: String)], title: String? = nil) -> String {
    let labelWidth = rows.map(\.label.count).max() ?? 0
    let valueWidth = rows.map(\.value.count).max() ?? 0
    var lines: [String] = title.map { [$0] } ?? []
    for row in rows {
      let labelPad = String(repeating: " ", count: labelWidth - row.label.count)
      let valuePad = String(repeating: " ", count: valueWidth - row.value.count)
      lines.append("  \(row.label)\(labelPad)  \(valuePad)\(row.value)")
    }
    return lines.joined(separator: "\n")
  }

  /// 1234567 → "1,234,567".
  public static func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return value < 0 ? "-" + out : out
  }
}
