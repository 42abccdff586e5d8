// Readers for column formats: RecBole atomic `.inter` files and general delimited (CSV/TSV/space) files.
// Ids are kept as strings; a timestamp column, when used, orders each user's rows (stable sort).

enum TabularReaders {
  private static let atomicTypes: Set<String> = ["token", "token_seq", "float", "float_seq"]

  /// A RecBole atomic file: tab-separated, first line a typed header (`user_id:token	item_id:token	…`).
  /// Also returns the columns used, with the timestamp column resolved (nil = the file has none).
  static func readAtomic(
    path: String, bytes: UnsafeRawBufferPointer, columns: AtomicColumns, timeOrder: TimeOrderKey
  ) throws -> (RawSequences, AtomicColumns) {
    guard let (headerLine, header) = firstLineFields(bytes, separator: .literal("\t")) else {
      throw DataError(path: path, "no interactions (the file is empty)")
    }
    var names: [String] = []
    for field in header {
      let parts = field.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
      guard parts.count == 2, !parts[0].isEmpty, atomicTypes.contains(String(parts[1])) else {
        throw DataError(
          path: path, line: headerLine,
          "expected a RecBole atomic header of typed fields such as 'user_id:token', found '\(field)'")
      }
      names.append(String(parts[0]))
    }
    let user = try columnIndex(columns.user, role: "user", names: names, path: path, headerLine: headerLine)
    let item = try columnIndex(columns.item, role: "item", names: names, path: path, headerLine: headerLine)
    var time: Int? = nil
    if let reference = columns.timestamp {
      time = try columnIndex(reference, role: "timestamp", names: names, path: path, headerLine: headerLine)
    } else {
      time = names.firstIndex(of: "timestamp")
    }
    let sequences = try readRows(
      path: path, bytes: bytes, separator: .literal("\t"), skipHeader: true, user: user, item: item, time: time,
      timeOrder: timeOrder)
    let used = AtomicColumns(user: columns.user, item: columns.item, timestamp: time.map { .name(names[$0]) })
    return (sequences, used)
  }

  /// A delimited file with the columns of `layout`.
  static func readDelimited(
    path: String, bytes: UnsafeRawBufferPointer, layout: DelimitedLayout, timeOrder: TimeOrderKey
  ) throws -> RawSequences {
    var names: [String]? = nil
    var headerLine = 1
    if layout.hasHeader {
      guard let (line, header) = firstLineFields(bytes, separator: layout.separator) else {
        throw DataError(path: path, "no interactions (the file is empty)")
      }
      names = header
      headerLine = line
    }
    let user = try columnIndex(layout.user, role: "user", names: names, path: path, headerLine: headerLine)
    let item = try columnIndex(layout.item, role: "item", names: names, path: path, headerLine: headerLine)
    let time = try layout.timestamp.map {
      try columnIndex($0, role: "timestamp", names: names, path: path, headerLine: headerLine)
    }
    return try readRows(
      path: path, bytes: bytes, separator: layout.separator, skipHeader: layout.hasHeader, user: user, item: item,
      time: time, timeOrder: timeOrder)
  }

  /// The fields of the first non-blank line as Strings, with its line number.
  static func firstLineFields(_ bytes: UnsafeRawBufferPointer, separator: FieldSeparator) -> (Int, [String])? {
    guard let first = TextLines.leadingLines(in: bytes, limit: 1).first else { return nil }
    return (first.number, fieldStrings(first.bytes, separator: separator))
  }

  /// The fields of `line` as Strings.
  static func fieldStrings(_ line: [UInt8], separator: FieldSeparator) -> [String] {
    line.withUnsafeBytes { raw in
      var cursor = FieldCursor(raw, separator: separator)
      var fields: [String] = []
      while let field = cursor.next() { fields.append(String(decoding: field, as: UTF8.self)) }
      return fields
    }
  }

  private static func columnIndex(
    _ reference: ColumnReference, role: String, names: [String]?, path: String, headerLine: Int
  ) throws -> Int {
    switch reference {
    case .index(let index):
      if let names, index >= names.count {
        throw DataError(
          path: path, line: headerLine,
          "the \(role) column \(index) does not exist: the header has \(names.count) columns "
            + "(\(names.joined(separator: ", ")))")
      }
      return index
    case .name(let name):
      guard let names else {
        throw DataError(
          path: path,
          "the \(role) column is named ('\(name)') but the file has no header; give a 0-based column index "
            + "or say that the first line is a header")
      }
      guard let index = names.firstIndex(of: name) else {
        throw DataError(
          path: path, line: headerLine,
          "no \(role) column named '\(name)' in the header (columns: \(names.joined(separator: ", ")))")
      }
      return index
    }
  }

  private static func readRows(
    path: String, bytes: UnsafeRawBufferPointer, separator: FieldSeparator, skipHeader: Bool, user: Int, item: Int,
    time: Int?, timeOrder: TimeOrderKey
  ) throws -> RawSequences {
    let needed = max(user, item, time ?? 0) + 1
    var rows = InteractionRows()
    rows.reserve(bytes.count / 16)
    var headerPending = skipHeader
    try TextLines.forEach(in: bytes) { lineNumber, line in
      if headerPending {
        headerPending = false
        return
      }
      var cursor = FieldCursor(line, separator: separator)
      var userField = UnsafeRawBufferPointer(start: nil, count: 0)
      var itemField = userField
      var timeField = userField
      for column in 0..<needed {
        guard let field = cursor.next() else {
          throw DataError(
            path: path, line: lineNumber, "expected at least \(needed) \(separator)-separated fields, found \(column)")
        }
        if column == user { userField = field }
        if column == item { itemField = field }
        if column == time { timeField = field }
      }
      if userField.isEmpty { throw DataError(path: path, line: lineNumber, "empty user id in column \(user)") }
      if itemField.isEmpty { throw DataError(path: path, line: lineNumber, "empty item id in column \(item)") }
      let userIndex = rows.userIndex(userField)
      let itemIndex = rows.itemIndex(itemField)
      if let time {
        guard let value = TokenParsing.double(timeField) else {
          throw DataError(
            path: path, line: lineNumber,
            "expected a numeric timestamp in column \(time), found \(TokenParsing.quoted(timeField))")
        }
        rows.append(user: userIndex, item: itemIndex, time: value)
      } else {
        rows.append(user: userIndex, item: itemIndex)
      }
    }
    if rows.isEmpty {
      throw DataError(
        path: path, skipHeader ? "no interactions (only a header line)" : "no interactions (the file is empty)")
    }
    return rows.grouped(timeOrder: timeOrder)
  }
}
