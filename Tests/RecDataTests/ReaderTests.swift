import Foundation
import Testing

@testable import RecData

@Suite struct ReaderTests {
  @Test func pairsKeepFileOrderPerUser() throws {
    let (raw, layout) = try readText("1 10\n1 20\n2 10\n1 30\n3 7\n", options: ReadOptions(format: .pairs))
    #expect(layout == .pairs)
    #expect(raw.rawUserIds == ["1", "2", "3"])
    #expect(rawLists(raw) == ["1": ["10", "20", "30"], "2": ["10"], "3": ["7"]])
    #expect(raw.interactionCount == 5)
  }

  @Test func integerIdsAreCanonicalised() throws {
    let (raw, _) = try readText("007 1\n7 +2\n-0 03\n", options: ReadOptions(format: .pairs))
    #expect(rawLists(raw) == ["7": ["1", "2"], "0": ["3"]])
  }

  @Test func userLinesReadOneUserPerLine() throws {
    let (raw, layout) = try readText("1 5 6 7\n2 6\n3 7 7 5\n", options: ReadOptions(format: .userLines))
    #expect(layout == .userLines)
    #expect(raw.rawUserIds == ["1", "2", "3"])
    #expect(rawLists(raw) == ["1": ["5", "6", "7"], "2": ["6"], "3": ["7", "7", "5"]])
  }

  @Test func atomicSortsEachUserStablyByTimestamp() throws {
    let text = """
      user_id:token\titem_id:token\trating:float\ttimestamp:float
      a\ti1\t5\t5
      b\ti9\t1\t100
      a\ti2\t4\t3
      a\ti3\t3\t5
      a\ti4\t2\t3
      b\ti8\t1\t1.5e1

      """
    let (raw, layout) = try readText(text, name: "tiny.inter")
    #expect(layout == .atomic(AtomicColumns(timestamp: .name("timestamp"))))
    #expect(raw.rawUserIds == ["a", "b"])
    // Ties (t = 3: i2 before i4; t = 5: i1 before i3) keep file order.
    #expect(rawLists(raw) == ["a": ["i2", "i4", "i1", "i3"], "b": ["i8", "i9"]])
  }

  @Test func atomicWithoutTimestampKeepsFileOrder() throws {
    let (raw, layout) = try readText("item_id:token\tuser_id:token\nx\tu1\ny\tu2\nz\tu1\n", name: "t.inter")
    #expect(layout == .atomic(AtomicColumns(timestamp: nil)))
    #expect(rawLists(raw) == ["u1": ["x", "z"], "u2": ["y"]])
  }

  @Test func delimitedByHeaderNames() throws {
    let text = "time,user,item,rating\n30,A,p1,5\n10,A,p2,4\n20,B,p1,3\n"
    let options = ReadOptions(
      format: .delimited, separator: .literal(","), userColumn: .name("user"), itemColumn: .name("item"),
      timestampColumn: .name("time"))
    let (raw, layout) = try readText(text, name: "ratings.csv", options: options)
    guard case .delimited(let d) = layout else { Issue.record("expected a delimited layout"); return }
    #expect(d.hasHeader)
    #expect(rawLists(raw) == ["A": ["p2", "p1"], "B": ["p1"]])
  }

  @Test func delimitedByIndexWithCustomSeparator() throws {
    let text = "1::31::2.5::1260759144\n1::1029::3.0::1260759179\n2::10::4.0::835355493\n"
    let options = ReadOptions(
      format: .delimited, separator: .literal("::"), userColumn: .index(0), itemColumn: .index(1),
      timestampColumn: .index(3))
    let (raw, _) = try readText(text, options: options)
    #expect(rawLists(raw) == ["1": ["31", "1029"], "2": ["10"]])
  }

  @Test func delimitedQuotedFieldsAndEmptyFields() throws {
    let text = "\"u1\", \"i1\",,7\n\"u1\",\"i2\",x,3\n"
    let options = ReadOptions(format: .delimited, timestampColumn: .index(3))
    let (raw, _) = try readText(text, options: options)
    #expect(rawLists(raw) == ["u1": ["i2", "i1"]])
  }

  @Test func byteOrderMarkCRLFAndBlankLinesAreAccepted() throws {
    let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    let cases: [(String, String, [String: [String]])] = [
      ("p.txt", "1 10\r\n\r\n1 20\r\n  \r\n2 30\r\n", ["1": ["10", "20"], "2": ["30"]]),
      ("u.txt", "1 10 20\r\n\r\n2 30\r\n", ["1": ["10", "20"], "2": ["30"]]),
      ("a.inter", "user_id:token\titem_id:token\ttimestamp:float\r\n1\t10\t2\r\n1\t20\t1\r\n", ["1": ["20", "10"]]),
      ("d.csv", "user,item\r\nu,i\r\n\r\nu,j\r\n", ["u": ["i", "j"]]),
    ]
    for (name, text, expected) in cases {
      let directory = try TemporaryDirectory()
      let path = try directory.write(name, bytes: bom + Array(text.utf8))
      let (raw, _) = try InteractionReader.read(path: path)
      #expect(rawLists(raw) == expected, "\(name)")
      #expect(!raw.rawUserIds.contains { $0.unicodeScalars.first == "\u{FEFF}" || $0.hasSuffix("\r") })
    }
  }

  @Test func autoDetectionRecognisesEachFormat() throws {
    #expect(try readText("1 10\n1 20\n2 30\n").layout == .pairs)
    #expect(try readText("1 10 20 30\n2 30\n3 5 6\n").layout == .userLines)
    #expect(
      try readText("u\t10\n").layout
        == .delimited(
          DelimitedLayout(separator: .whitespace, hasHeader: false, user: .index(0), item: .index(1), timestamp: nil)))
    // `user item timestamp` (the S3-Rec DERIVED files): users repeat, so not one line per user.
    let derived = try readText("1 1 1318896000\n1 2 1318896000\n2 3 1328140800\n")
    #expect(
      derived.layout
        == .delimited(
          DelimitedLayout(
            separator: .whitespace, hasHeader: false, user: .index(0), item: .index(1), timestamp: .index(2))))
    // MovieLens u.data: user item rating timestamp, tab-separated.
    let udata = try readText("196\t242\t3\t881250949\n196\t302\t3\t881250950\n186\t302\t3\t891717742\n")
    #expect(
      udata.layout
        == .delimited(
          DelimitedLayout(
            separator: .whitespace, hasHeader: false, user: .index(0), item: .index(1), timestamp: .index(3))))
    // MovieLens-1M ratings.dat: UserID::MovieID::Rating::Timestamp; ties keep file order after the sort.
    let ratings = try readText("1::1193::5::978300760\n1::661::3::978302109\n1::914::3::978300760\n2::10::4::5\n")
    #expect(
      ratings.layout
        == .delimited(
          DelimitedLayout(
            separator: .literal("::"), hasHeader: false, user: .index(0), item: .index(1), timestamp: .index(3))))
    #expect(rawLists(ratings.sequences) == ["1": ["1193", "914", "661"], "2": ["10"]])
    let csv = try readText("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,10,3,1260759000\n")
    #expect(
      csv.layout
        == .delimited(
          DelimitedLayout(
            separator: .literal(","), hasHeader: true, user: .name("userId"), item: .name("movieId"),
            timestamp: .name("timestamp"))))
    #expect(rawLists(csv.sequences) == ["1": ["10", "31"]])
    // A typed header is atomic whatever the extension.
    let atomic = try readText("user_id:token\titem_id:token\n1\t2\n", name: "x.tsv")
    #expect(atomic.layout == .atomic(AtomicColumns()))
  }

  @Test func movieLensTitlesAreReadAsLatin1() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("movies-\(UUID().uuidString).dat")
    defer { try? FileManager.default.removeItem(at: url) }
    // "Misérables" with é as the Latin-1 byte 0xE9 (invalid UTF-8), as in MovieLens-1M's movies.dat.
    var bytes = Array("73::Mis".utf8) + [0xE9] + Array("rables, Les (1995)::Drama\n1::Toy Story (1995)::Comedy\n".utf8)
    bytes += Array("2::Jumanji (1995)::Adventure\n".utf8)
    try Data(bytes).write(to: url)
    let titles = try ItemTitles.load(path: url.path)
    #expect(titles == ["73": "Misérables, Les (1995)", "1": "Toy Story (1995)", "2": "Jumanji (1995)"])
  }

  @Test func explicitFormatOverridesDetection() throws {
    let text = "1 10 20\n2 30 40\n"
    #expect(rawLists(try readText(text).sequences) == ["1": ["10", "20"], "2": ["30", "40"]])
    let asDelimited = try readText(text, options: ReadOptions(format: .delimited))
    #expect(rawLists(asDelimited.sequences) == ["1": ["10"], "2": ["30"]])
  }

  @Test func readingIsExactOnALargerGeneratedFile() throws {
    var rng = SplitMix64(seed: 42)
    var expected: [String: [String]] = [:]
    var order: [String] = []
    var text = ""
    for _ in 0..<5000 {
      let user = String(Int.random(in: 1...300, using: &rng))
      let item = String(Int.random(in: 1...2000, using: &rng))
      if expected[user] == nil { order.append(user) }
      expected[user, default: []].append(item)
      text += "\(user) \(item)\n"
    }
    let (raw, _) = try readText(text, options: ReadOptions(format: .pairs))
    #expect(raw.rawUserIds == order)
    #expect(rawLists(raw) == expected)
  }
}
