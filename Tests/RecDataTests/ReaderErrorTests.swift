import Foundation
import Testing

@testable import RecData

/// Every malformed input is a `DataError` naming the file and, when it is about a line, that line.
@Suite struct ReaderErrorTests {
  @Test func emptyFilesAreErrors() throws {
    for (name, text) in [("e.txt", ""), ("blank.txt", "\n  \n\r\n"), ("bom.txt", "\u{FEFF}")] {
      let error = try readError(text, name: name)
      #expect(error?.line == nil)
      #expect(error?.message.contains("no interactions") == true, "\(name)")
    }
    for format in [InteractionFormat.pairs, .userLines, .delimited] {
      let error = try readError("", options: ReadOptions(format: format))
      #expect(error?.message.contains("no interactions") == true, "\(format)")
    }
    let headerOnly = try readError("user_id:token\titem_id:token\n", name: "h.inter")
    #expect(headerOnly?.message.contains("only a header") == true)
  }

  @Test func nonIntegerIdsWhereIntegersAreRequired() throws {
    let item = try readError("1 10\n1 20\n\n1 abc\n", name: "ml.txt", options: ReadOptions(format: .pairs))
    #expect(item?.line == 4)
    #expect(item?.message == "expected an integer item id, found 'abc'")
    #expect(item?.description.hasSuffix("ml.txt:4: expected an integer item id, found 'abc'") == true)
    let user = try readError("1 10\nx2 20\n", options: ReadOptions(format: .pairs))
    #expect(user?.line == 2)
    #expect(user?.message == "expected an integer user id, found 'x2'")
    let listItem = try readError("1 10 20\n2 30 4.5\n", options: ReadOptions(format: .userLines))
    #expect(listItem?.line == 2)
    #expect(listItem?.message == "expected an integer item id, found '4.5'")
    // Auto-detection sees a pairs file despite one odd line among the first hundred, and reports that line.
    let typo = try readError((1...30).map { "1 \($0)\n" }.joined() + "1 x31\n")
    #expect(typo?.line == 31)
    #expect(typo?.message == "expected an integer item id, found 'x31'")
    let overflow = try readError("1 99999999999999999999\n", options: ReadOptions(format: .pairs))
    #expect(overflow?.line == 1)
  }

  @Test func wrongFieldCountInPairs() throws {
    let one = try readError("1 10\n2\n", options: ReadOptions(format: .pairs))
    #expect(one?.line == 2)
    #expect(one?.message == "expected 'user item', found 1 field")
    let three = try readError("1 10\r\n2 20 30\r\n", options: ReadOptions(format: .pairs))
    #expect(three?.line == 2)
    #expect(three?.message == "expected 'user item', found 3 fields")
  }

  @Test func userWithoutItemsAndRepeatedUser() throws {
    let empty = try readError("1 10 20\n2\n3 30\n", options: ReadOptions(format: .userLines))
    #expect(empty?.line == 2)
    #expect(empty?.message.contains("user '2' has no items") == true)
    let repeated = try readError("1 10\n2 20\n1 30\n", options: ReadOptions(format: .userLines))
    #expect(repeated?.line == 3)
    #expect(repeated?.message.contains("line 1") == true)
  }

  @Test func wrongOrMissingAtomicHeader() throws {
    let untyped = try readError("user_id\titem_id\n1\t2\n", name: "bad.inter")
    #expect(untyped?.line == 1)
    #expect(untyped?.message.contains("found 'user_id'") == true)
    let badType = try readError("\nuser_id:token\titem_id:integer\n1\t2\n", name: "bad.inter")
    #expect(badType?.line == 2)
    let noUser = try readError("uid:token\titem_id:token\n1\t2\n", name: "bad.inter")
    #expect(noUser?.line == 1)
    #expect(noUser?.message == "no user column named 'user_id' in the header (columns: uid, item_id)")
    let noStamp = try readError(
      "user_id:token\titem_id:token\n1\t2\n", name: "t.inter",
      options: ReadOptions(format: .atomic, timestampColumn: .name("time")))
    #expect(noStamp?.line == 1)
  }

  @Test func missingColumns() throws {
    let short = try readError("user_id:token\titem_id:token\ttimestamp:float\n1\t2\t3\n4\t5\n", name: "s.inter")
    #expect(short?.line == 3)
    #expect(short?.message == "expected at least 3 tab-separated fields, found 2")
    let csv = try readError(
      "a,b,c\n1,2,3\n1,2\n", options: ReadOptions(format: .delimited, itemColumn: .index(2), hasHeader: true))
    #expect(csv?.line == 3)
    let outOfHeader = try readError(
      "a,b\n1,2\n", options: ReadOptions(format: .delimited, itemColumn: .index(5), hasHeader: true))
    #expect(outOfHeader?.line == 1)
    let unknownName = try readError(
      "\n\nuser,item\n1,2\n", options: ReadOptions(format: .delimited, itemColumn: .name("product")))
    #expect(unknownName?.line == 3)
    let nameWithoutHeader = try readError(
      "1,2\n", options: ReadOptions(format: .delimited, userColumn: .name("user"), hasHeader: false))
    #expect(nameWithoutHeader?.line == nil)
    let emptyId = try readError("u1,,5\n", options: ReadOptions(format: .delimited))
    #expect(emptyId?.line == 1)
    #expect(emptyId?.message == "empty item id in column 1")
  }

  @Test func badTimestamps() throws {
    let atomic = try readError(
      "user_id:token\titem_id:token\ttimestamp:float\n1\t2\t3\n1\t3\tyesterday\n", name: "t.inter")
    #expect(atomic?.line == 3)
    #expect(atomic?.message == "expected a numeric timestamp in column 2, found 'yesterday'")
    let delimited = try readError(
      "1 2 100\n1 3 nan\n", options: ReadOptions(format: .delimited, timestampColumn: .index(2)))
    #expect(delimited?.line == 2)
    let emptyStamp = try readError(
      "1,2,100\n1,3,\n", options: ReadOptions(format: .delimited, timestampColumn: .index(2)))
    #expect(emptyStamp?.line == 2)
  }

  @Test func inconsistentOptionsAndMissingFiles() throws {
    let pairsWithColumns = try readError("1 2\n", options: ReadOptions(format: .pairs, userColumn: .index(1)))
    #expect(pairsWithColumns?.line == nil)
    let atomicWithSeparator = try readError(
      "user_id:token\titem_id:token\n1\t2\n", name: "a.inter", options: ReadOptions(separator: .literal(",")))
    #expect(atomicWithSeparator?.line == nil)
    let undetectable = try readError("1 2 3 4 5\n1 2\n1 2 3\n1\n")
    #expect(undetectable?.message.contains("cannot tell the format") == true)
    let missing = #expect(throws: DataError.self) { try InteractionReader.read(path: "/nonexistent/x.txt") }
    #expect(missing?.description == "/nonexistent/x.txt: no such file")
    let directory = try TemporaryDirectory()
    let isDirectory = #expect(throws: DataError.self) { try InteractionReader.read(path: directory.url.path) }
    #expect(isDirectory?.message.contains("directory") == true)
  }
}
