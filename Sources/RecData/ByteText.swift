import Foundation

// Byte-level text scanning for the readers: lines, fields and numbers straight from the file's bytes, with no
// String made per line (ML-1M's million lines parse in tens of milliseconds this way).

/// How the fields of a line are separated.
public enum FieldSeparator: Hashable, Sendable, CustomStringConvertible {
  /// One or more spaces or tabs; leading and trailing blanks are ignored.
  case whitespace
  /// An exact byte string such as "," or "\t" or "::"; fields may be empty and are trimmed of spaces.
  case literal(String)

  /// Parses a command-line spelling: "whitespace", "space", "tab", "comma", "semicolon", "pipe", `\t`, or the
  /// separator itself.
  public init?(spelling: String) {
    switch spelling.lowercased() {
    case "whitespace", "space", "spaces", "ws": self = .whitespace
    case "tab", "\\t", "\t": self = .literal("\t")
    case "comma", ",": self = .literal(",")
    case "semicolon", ";": self = .literal(";")
    case "pipe", "|": self = .literal("|")
    case "": return nil
    default: self = .literal(spelling)
    }
  }

  public var description: String {
    switch self {
    case .whitespace: return "whitespace"
    case .literal("\t"): return "tab"
    case .literal(","): return "comma"
    case .literal(let s): return "'\(s)'"
    }
  }
}

enum TextLines {
  /// Calls `body` for every non-blank line of `bytes` with its 1-based line number, skipping a leading UTF-8 BOM
  /// and accepting "\n" and "\r\n" line ends. Blank lines (only spaces/tabs) still count for numbering.
  static func forEach(
    in bytes: UnsafeRawBufferPointer, _ body: (_ lineNumber: Int, _ line: UnsafeRawBufferPointer) throws -> Void
  ) rethrows {
    try scan(bytes) { lineNumber, line in
      try body(lineNumber, line)
      return true
    }
  }

  /// Up to `limit` first non-blank lines, copied, with their line numbers.
  static func leadingLines(in bytes: UnsafeRawBufferPointer, limit: Int) -> [(number: Int, bytes: [UInt8])] {
    var lines: [(number: Int, bytes: [UInt8])] = []
    scan(bytes) { lineNumber, line in
      lines.append((lineNumber, Array(line)))
      return lines.count < limit
    }
    return lines
  }

  /// The bytes of the first non-blank line, or nil when there is none.
  static func firstLine(in bytes: UnsafeRawBufferPointer) -> [UInt8]? {
    leadingLines(in: bytes, limit: 1).first?.bytes
  }

  /// Walks the non-blank lines until `body` returns false.
  private static func scan(
    _ bytes: UnsafeRawBufferPointer, _ body: (_ lineNumber: Int, _ line: UnsafeRawBufferPointer) throws -> Bool
  ) rethrows {
    let count = bytes.count
    var start = 0
    if count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { start = 3 }
    var lineNumber = 0
    while start < count {
      lineNumber += 1
      var end = start
      while end < count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
      var contentEnd = end
      if contentEnd > start && bytes[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
      var firstVisible = start
      while firstVisible < contentEnd && isBlank(bytes[firstVisible]) { firstVisible += 1 }
      if firstVisible < contentEnd {
        guard try body(lineNumber, UnsafeRawBufferPointer(rebasing: bytes[start..<contentEnd])) else { return }
      }
      start = end + 1
    }
  }

  @inline(__always) static func isBlank(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
  }
}

/// Walks the fields of one line. With `.whitespace`, runs of blanks separate fields and there are no empty fields;
/// with `.literal`, every separator ends a field, fields are trimmed of blanks and of one pair of enclosing quotes.
struct FieldCursor {
  private let line: UnsafeRawBufferPointer
  private let separator: [UInt8]  // empty = whitespace
  private var position = 0
  private var finished = false

  init(_ line: UnsafeRawBufferPointer, separator: FieldSeparator) {
    self.line = line
    switch separator {
    case .whitespace: self.separator = []
    case .literal(let s): self.separator = Array(s.utf8)
    }
  }

  mutating func next() -> UnsafeRawBufferPointer? {
    if separator.isEmpty { return nextWhitespaceField() }
    if finished { return nil }
    let count = line.count
    let first = separator[0]
    let sepCount = separator.count
    var end = position
    var fieldEnd = count
    var resume = count
    while end < count {
      if line[end] == first && end + sepCount <= count && matchesSeparator(at: end) {
        fieldEnd = end
        resume = end + sepCount
        break
      }
      end += 1
    }
    if end >= count { finished = true }
    let field = Self.trimmed(line, position, fieldEnd)
    position = resume
    return field
  }

  /// The remaining fields, counting the current one (for "expected N fields, found M" messages).
  mutating func countRemaining() -> Int {
    var n = 0
    while next() != nil { n += 1 }
    return n
  }

  private func matchesSeparator(at index: Int) -> Bool {
    for k in 1..<separator.count where line[index + k] != separator[k] { return false }
    return true
  }

  private mutating func nextWhitespaceField() -> UnsafeRawBufferPointer? {
    let count = line.count
    var start = position
    while start < count && TextLines.isBlank(line[start]) { start += 1 }
    if start >= count { return nil }
    var end = start
    while end < count && !TextLines.isBlank(line[end]) { end += 1 }
    position = end
    return UnsafeRawBufferPointer(rebasing: line[start..<end])
  }

  private static func trimmed(_ line: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> UnsafeRawBufferPointer {
    var lo = start
    var hi = end
    while lo < hi && TextLines.isBlank(line[lo]) { lo += 1 }
    while hi > lo && TextLines.isBlank(line[hi - 1]) { hi -= 1 }
    let quote = UInt8(ascii: "\"")
    if hi - lo >= 2 && line[lo] == quote && line[hi - 1] == quote {
      lo += 1
      hi -= 1
    }
    return UnsafeRawBufferPointer(rebasing: line[lo..<hi])
  }
}

enum TokenParsing {
  /// Byte-wise equality (ids are short: a plain loop beats a memcmp call).
  @inline(__always)
  static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    if a.count != b.count { return false }
    for i in 0..<a.count where a[i] != b[i] { return false }
    return true
  }

  /// A decimal integer with an optional sign, or nil (also on overflow).
  static func integer(_ token: UnsafeRawBufferPointer) -> Int64? {
    var index = 0
    var negative = false
    if let first = token.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
      negative = first == UInt8(ascii: "-")
      index = 1
    }
    if index >= token.count { return nil }
    var value: Int64 = 0
    while index < token.count {
      let digit = Int64(token[index]) - 48
      if digit < 0 || digit > 9 { return nil }
      let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
      let (sum, o2) = shifted.addingReportingOverflow(digit)
      if o1 || o2 { return nil }
      value = sum
      index += 1
    }
    return negative ? -value : value
  }

  /// True when `token` is exactly how `String(value)` spells its integer (no sign '+', no leading zeros).
  static func isCanonicalInteger(_ token: UnsafeRawBufferPointer) -> Bool {
    guard let first = token.first else { return false }
    if first == UInt8(ascii: "+") { return false }
    let digitsStart = first == UInt8(ascii: "-") ? 1 : 0
    if token.count - digitsStart > 1 && token[digitsStart] == UInt8(ascii: "0") { return false }
    if digitsStart == 1 && token.count == 2 && token[1] == UInt8(ascii: "0") { return false }
    return true
  }

  /// A finite decimal number ("881250949", "1.5e9", "-3.25"), or nil.
  static func double(_ token: UnsafeRawBufferPointer) -> Double? {
    if token.isEmpty { return nil }
    if token.count <= 15, let whole = integer(token) { return Double(whole) }
    if token.count > 64 { return nil }
    for byte in token where !isNumberByte(byte) { return nil }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: token.count + 1) { buffer -> Double? in
      for i in 0..<token.count { buffer[i] = CChar(bitPattern: token[i]) }
      buffer[token.count] = 0
      var end: UnsafeMutablePointer<CChar>? = nil
      let value = strtod(buffer.baseAddress!, &end)
      guard let end, end - buffer.baseAddress! == token.count, value.isFinite else { return nil }
      return value
    }
  }

  private static func isNumberByte(_ byte: UInt8) -> Bool {
    (byte >= 48 && byte <= 57) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
      || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
  }

  /// The token quoted for an error message (shortened when long).
  static func quoted(_ token: UnsafeRawBufferPointer) -> String {
    let text = String(decoding: token.prefix(40), as: UTF8.self)
    return "'\(text)\(token.count > 40 ? "…" : "")'"
  }
}
