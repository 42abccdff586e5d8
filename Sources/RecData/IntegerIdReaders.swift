// Readers for the two integer-id text formats of the SASRec / S3-Rec code bases. File order is chronological.

enum IntegerIdReaders {
  /// `user item` per line (SASRec). A user's lines need not be contiguous; their order is kept.
  static func readPairs(path: String, bytes: UnsafeRawBufferPointer) throws -> RawSequences {
    var rows = InteractionRows()
    rows.reserve(bytes.count / 8)
    // Files are usually grouped by user: reuse the previous line's user when the token is the same.
    var previousUserToken = UnsafeRawBufferPointer(start: nil, count: 0)
    var previousUser: Int32 = -1
    try TextLines.forEach(in: bytes) { lineNumber, line in
      var fields = FieldCursor(line, separator: .whitespace)
      let userToken = fields.next()!
      guard let itemToken = fields.next() else {
        throw DataError(path: path, line: lineNumber, "expected 'user item', found 1 field")
      }
      if fields.next() != nil {
        let count = 3 + fields.countRemaining()
        throw DataError(path: path, line: lineNumber, "expected 'user item', found \(count) fields")
      }
      if !TokenParsing.equal(userToken, previousUserToken) {
        previousUser = try rows.integerUser(userToken, path: path, line: lineNumber)
        previousUserToken = userToken
      }
      let item = try rows.integerItem(itemToken, path: path, line: lineNumber)
      rows.append(user: previousUser, item: item)
    }
    if rows.isEmpty { throw DataError(path: path, "no interactions (the file is empty)") }
    return rows.grouped()
  }

  /// `user item1 item2 …` one line per user (S3-Rec). A user without items, or on two lines, is an error.
  static func readUserLines(path: String, bytes: UnsafeRawBufferPointer) throws -> RawSequences {
    var rows = InteractionRows()
    rows.reserve(bytes.count / 6)
    var lineOfUser: [Int] = []
    try TextLines.forEach(in: bytes) { lineNumber, line in
      var fields = FieldCursor(line, separator: .whitespace)
      let userToken = fields.next()!
      let user = try rows.integerUser(userToken, path: path, line: lineNumber)
      if Int(user) < lineOfUser.count {
        throw DataError(
          path: path, line: lineNumber,
          "user \(TokenParsing.quoted(userToken)) already has a line (line \(lineOfUser[Int(user)])); "
            + "this format has one line per user")
      }
      lineOfUser.append(lineNumber)
      var itemCount = 0
      while let itemToken = fields.next() {
        rows.append(user: user, item: try rows.integerItem(itemToken, path: path, line: lineNumber))
        itemCount += 1
      }
      if itemCount == 0 {
        throw DataError(
          path: path, line: lineNumber,
          "user \(TokenParsing.quoted(userToken)) has no items (expected 'user item1 item2 …')")
      }
    }
    if rows.isEmpty { throw DataError(path: path, "no interactions (the file is empty)") }
    return rows.grouped()
  }
}

extension InteractionRows {
  /// Interns an integer user id token, by its canonical decimal spelling ("007" and "7" are the same user).
  mutating func integerUser(_ token: UnsafeRawBufferPointer, path: String, line: Int) throws -> Int32 {
    guard let value = TokenParsing.integer(token) else {
      throw DataError(path: path, line: line, "expected an integer user id, found \(TokenParsing.quoted(token))")
    }
    return TokenParsing.isCanonicalInteger(token) ? userIndex(token) : userIndex(String(value))
  }

  /// Interns an integer item id token, by its canonical decimal spelling.
  mutating func integerItem(_ token: UnsafeRawBufferPointer, path: String, line: Int) throws -> Int32 {
    guard let value = TokenParsing.integer(token) else {
      throw DataError(path: path, line: line, "expected an integer item id, found \(TokenParsing.quoted(token))")
    }
    return TokenParsing.isCanonicalInteger(token) ? itemIndex(token) : itemIndex(String(value))
  }
}
