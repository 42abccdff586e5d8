/// The interaction file formats seqrec reads.
public enum InteractionFormat: String, CaseIterable, Hashable, Sendable {
  /// Decide from the extension (`.inter` → atomic) and the first lines.
  case auto
  /// `user item` per line, whitespace-separated integer ids, file order = chronological (SASRec files).
  case pairs
  /// `user item1 item2 …` one user per line, integer ids, chronological (S3-Rec files).
  case userLines = "user-lines"
  /// RecBole atomic `.inter`: tab-separated with a typed header such as `user_id:token	item_id:token`.
  case atomic
  /// CSV/TSV/space-separated with chosen user, item and optional timestamp columns.
  case delimited
}

/// A column chosen by 0-based index or by header name.
public enum ColumnReference: Hashable, Sendable, CustomStringConvertible {
  case index(Int)
  case name(String)

  /// "2" → `.index(2)`, anything else → `.name`.
  public init(spelling: String) {
    if !spelling.isEmpty, spelling.allSatisfy(\.isASCII), let index = Int(spelling), index >= 0 {
      self = .index(index)
    } else {
      self = .name(spelling)
    }
  }

  public var description: String {
    switch self {
    case .index(let i): return "column \(i)"
    case .name(let n): return "column '\(n)'"
    }
  }
}

/// How timestamps are compared when each user's interactions are put in chronological order (a stable sort, so
/// interactions whose keys are equal keep their file order).
///
/// RecBole stores a float field as float32 (`torch.FloatTensor`) before it sorts by time, so interactions whose
/// timestamps round to the same float32 tie and keep the atomic file's order. With Unix times near 10⁹ (ML-1M) a
/// float32 step is 64 s: half of ML-1M's positions and a fifth of its test items differ from the exact order.
/// A config with `normalize_all: True` (GLINT-RU's) min-max normalises the times first, then stores float32.
public enum TimeOrderKey: String, CaseIterable, Hashable, Sendable {
  /// The timestamps as read (Double); ties only between equal timestamps.
  case exact
  /// Each timestamp rounded to float32, as RecBole sorts without normalisation (RecBLR's, SASRec's configs).
  case float32
  /// (t − min) / (max − min) rounded to float32, as RecBole sorts with `normalize_all: True`. As in RecBole, min
  /// and max are those of the interactions kept: a read takes them over every row, and the k-core filter sorts
  /// again with the kept rows' min and max.
  case normalizedFloat32 = "normalized-float32"

  /// Whether the keys depend on which interactions are kept (so filtering must sort again).
  public var dependsOnKeptInteractions: Bool { self == .normalizedFloat32 }

  /// The sort keys of `times` (one per interaction, in file order).
  public func keys(_ times: [Double]) -> [Double] {
    switch self {
    case .exact:
      return times
    case .float32:
      return times.map { Double(Float($0)) }
    case .normalizedFloat32:
      guard let low = times.min(), let high = times.max() else { return [] }
      if low == high { return [Double](repeating: 1, count: times.count) }
      return times.map { Double(Float(($0 - low) / (high - low))) }
    }
  }
}

/// How to read an interaction file. Every field left nil is the format's default or is detected.
public struct ReadOptions: Hashable, Sendable, CustomStringConvertible {
  public var format: InteractionFormat
  /// Field separator (delimited only; atomic files are always tab-separated).
  public var separator: FieldSeparator?
  public var userColumn: ColumnReference?
  public var itemColumn: ColumnReference?
  /// When set, each user's interactions are sorted by this column (stable: ties keep file order).
  public var timestampColumn: ColumnReference?
  /// Whether the first line is a header (delimited only). nil: yes when a column is chosen by name.
  public var hasHeader: Bool?
  /// How timestamps are compared when sorting (files without timestamps keep file order whatever this is).
  public var timeOrder: TimeOrderKey

  public init(
    format: InteractionFormat = .auto, separator: FieldSeparator? = nil, userColumn: ColumnReference? = nil,
    itemColumn: ColumnReference? = nil, timestampColumn: ColumnReference? = nil, hasHeader: Bool? = nil,
    timeOrder: TimeOrderKey = .exact
  ) {
    self.format = format
    self.separator = separator
    self.userColumn = userColumn
    self.itemColumn = itemColumn
    self.timestampColumn = timestampColumn
    self.hasHeader = hasHeader
    self.timeOrder = timeOrder
  }

  /// True when any column, separator or header choice was made.
  var hasColumnChoices: Bool {
    separator != nil || userColumn != nil || itemColumn != nil || timestampColumn != nil || hasHeader != nil
  }

  public var description: String {
    var parts = ["format=\(format.rawValue)"]
    if let separator { parts.append("separator=\(separator)") }
    if let userColumn { parts.append("user=\(userColumn)") }
    if let itemColumn { parts.append("item=\(itemColumn)") }
    if let timestampColumn { parts.append("timestamp=\(timestampColumn)") }
    if let hasHeader { parts.append("header=\(hasHeader)") }
    if timeOrder != .exact { parts.append("time-order=\(timeOrder.rawValue)") }
    return parts.joined(separator: " ")
  }
}

/// Columns of a RecBole atomic file.
public struct AtomicColumns: Hashable, Sendable {
  public var user: ColumnReference
  public var item: ColumnReference
  /// nil: the column named `timestamp` when the header has one, else no sorting. In the layout a read returns,
  /// this is resolved: nil there means the file has no timestamp column.
  public var timestamp: ColumnReference?

  public init(
    user: ColumnReference = .name("user_id"), item: ColumnReference = .name("item_id"),
    timestamp: ColumnReference? = nil
  ) {
    self.user = user
    self.item = item
    self.timestamp = timestamp
  }
}

/// A delimited file's layout with every choice made.
public struct DelimitedLayout: Hashable, Sendable {
  public var separator: FieldSeparator
  public var hasHeader: Bool
  public var user: ColumnReference
  public var item: ColumnReference
  public var timestamp: ColumnReference?

  public init(
    separator: FieldSeparator, hasHeader: Bool, user: ColumnReference, item: ColumnReference,
    timestamp: ColumnReference?
  ) {
    self.separator = separator
    self.hasHeader = hasHeader
    self.user = user
    self.item = item
    self.timestamp = timestamp
  }
}

/// What the reader does with a file: a format with its columns resolved (from options or detection).
public enum InteractionLayout: Hashable, Sendable, CustomStringConvertible {
  case pairs
  case userLines
  case atomic(AtomicColumns)
  case delimited(DelimitedLayout)

  public var description: String {
    switch self {
    case .pairs: return "pairs (user item per line)"
    case .userLines: return "user-lines (user item1 item2 … per line)"
    case .atomic(let c):
      let time = c.timestamp.map { "sorted by \($0)" } ?? "file order"
      return "atomic (user \(c.user), item \(c.item), \(time))"
    case .delimited(let d):
      let time = d.timestamp.map { "sorted by \($0)" } ?? "file order"
      return "delimited (\(d.separator)-separated, \(d.hasHeader ? "header" : "no header"), "
        + "user \(d.user), item \(d.item), \(time))"
    }
  }
}
