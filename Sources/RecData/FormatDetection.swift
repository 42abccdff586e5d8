extension ReadOptions {
  /// The layout to read `path` with: the chosen format with its defaults filled in, or, for `.auto`, the format
  /// recognised from the extension (`.inter` → atomic) and the first lines.
  public func layout(path: String, bytes: UnsafeRawBufferPointer) throws -> InteractionLayout {
    switch format {
    case .pairs, .userLines:
      if hasColumnChoices {
        throw DataError(
          path: path,
          "the \(format.rawValue) format has fixed columns; separator, column and header choices apply to the "
            + "atomic and delimited formats")
      }
      return format == .pairs ? .pairs : .userLines
    case .atomic:
      return try atomicLayout(path: path)
    case .delimited:
      return .delimited(delimitedLayout(bytes: bytes))
    case .auto:
      if path.hasSuffix(".inter") || Self.startsWithTypedHeader(bytes) { return try atomicLayout(path: path) }
      if hasColumnChoices { return .delimited(delimitedLayout(bytes: bytes)) }
      return try Self.detectLayout(path: path, bytes: bytes)
    }
  }

  private func atomicLayout(path: String) throws -> InteractionLayout {
    if separator != nil || hasHeader != nil {
      throw DataError(
        path: path, "atomic files are always tab-separated with a typed header; drop the separator/header choice")
    }
    let defaults = AtomicColumns()
    return .atomic(
      AtomicColumns(
        user: userColumn ?? defaults.user, item: itemColumn ?? defaults.item, timestamp: timestampColumn))
  }

  private func delimitedLayout(bytes: UnsafeRawBufferPointer) -> DelimitedLayout {
    let columns = [userColumn, itemColumn, timestampColumn]
    let anyByName = columns.contains { if case .name = $0 { return true } else { return false } }
    return DelimitedLayout(
      separator: separator ?? Self.likelySeparator(bytes), hasHeader: hasHeader ?? anyByName,
      user: userColumn ?? .index(0), item: itemColumn ?? .index(1), timestamp: timestampColumn)
  }

  /// `::` (MovieLens-1M/10M `.dat` files), comma or tab when the first line has one, else whitespace.
  static func likelySeparator(_ bytes: UnsafeRawBufferPointer) -> FieldSeparator {
    guard let line = TextLines.firstLine(in: bytes) else { return .whitespace }
    let colon = UInt8(ascii: ":")
    if zip(line, line.dropFirst()).contains(where: { $0 == colon && $1 == colon }) { return .literal("::") }
    if line.contains(UInt8(ascii: ",")) { return .literal(",") }
    if line.contains(UInt8(ascii: "\t")) { return .literal("\t") }
    return .whitespace
  }

  static func startsWithTypedHeader(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard let (_, fields) = TabularReaders.firstLineFields(bytes, separator: .literal("\t")), fields.count >= 2
    else { return false }
    return fields.allSatisfy { $0.hasSuffix(":token") || $0.hasSuffix(":float") || $0.hasSuffix("_seq") }
  }

  /// Recognises pairs, user-lines and delimited files (with or without a header) from their first 100 lines.
  static func detectLayout(path: String, bytes: UnsafeRawBufferPointer) throws -> InteractionLayout {
    let likely = likelySeparator(bytes)
    let separator: FieldSeparator = likely == .literal(",") || likely == .literal("::") ? likely : .whitespace
    let lines = TextLines.leadingLines(in: bytes, limit: 100)
    let sample = lines.map { TabularReaders.fieldStrings($0.bytes, separator: separator) }
    guard let first = sample.first else { throw DataError(path: path, "no interactions (the file is empty)") }
    let isNumber = { (s: String) in Double(s) != nil }
    // A header: words over numbers, or fields naming a user and an item column.
    let wordsOverNumbers = sample.count > 1 && !first.contains(where: isNumber) && sample[1].contains(where: isNumber)
    if wordsOverNumbers || (headerColumn(first, userKeywords) != nil && headerColumn(first, itemKeywords) != nil) {
      return try headerLayout(path: path, line: lines[0].number, names: first, separator: separator)
    }
    let counts = sample.map(\.count)
    // Integer ids on (nearly) every line: a SASRec/S3-Rec file, whose reader then reports any odd line.
    let integerLines = sample.filter { $0.allSatisfy { Int64($0) != nil } }.count
    let integerIds = integerLines * 10 >= sample.count * 9
    var seenUsers = Set<String>()
    let usersRepeat = sample.contains { !seenUsers.insert($0[0]).inserted }
    let whitespace = separator == .whitespace
    if whitespace && integerIds && (counts.allSatisfy { $0 == 2 } || (usersRepeat && counts.max()! <= 2)) {
      return .pairs
    }
    if whitespace && integerIds && !usersRepeat { return .userLines }
    let width = counts[0]
    if counts.allSatisfy({ $0 == width }) && (2...4).contains(width) {
      // user item | user item timestamp | user item rating timestamp (MovieLens u.data and ratings.dat, Amazon
      // ratings CSV).
      let timeColumn = width == 2 ? nil : width - 1
      let timesAreNumbers = timeColumn.map { column in sample.allSatisfy { isNumber($0[column]) } } ?? false
      return .delimited(
        DelimitedLayout(
          separator: separator, hasHeader: false, user: .index(0), item: .index(1),
          timestamp: timesAreNumbers ? timeColumn.map(ColumnReference.index) : nil))
    }
    throw DataError(
      path: path,
      "cannot tell the format from the first lines (\(Set(counts).sorted().map(String.init).joined(separator: "/")) "
        + "fields per line); choose one explicitly (pairs, user-lines, atomic or delimited with columns)")
  }

  private static func headerLayout(path: String, line: Int, names: [String], separator: FieldSeparator) throws
    -> InteractionLayout
  {
    guard let user = headerColumn(names, userKeywords), let item = headerColumn(names, itemKeywords) else {
      throw DataError(
        path: path, line: line,
        "cannot tell which header columns hold the user and item ids (\(names.joined(separator: ", "))); "
          + "choose the delimited format with user and item columns")
    }
    return .delimited(
      DelimitedLayout(
        separator: separator, hasHeader: true, user: user, item: item, timestamp: headerColumn(names, ["time"])))
  }

  private static let userKeywords = ["user"]
  private static let itemKeywords = ["item", "movie", "product", "asin"]

  /// The first header name containing one of `keywords` (case-insensitive).
  private static func headerColumn(_ names: [String], _ keywords: [String]) -> ColumnReference? {
    names.first { name in keywords.contains { name.lowercased().contains($0) } }.map(ColumnReference.name)
  }
}
