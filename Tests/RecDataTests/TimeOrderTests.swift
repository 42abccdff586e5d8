import Foundation
import Testing

@testable import RecData

/// How timestamps are compared when sorting (`--time-order`): exact, RecBole's float32 keys, or RecBole's
/// min-max normalised float32 keys.
@Suite struct TimeOrderTests {
  /// MovieLens-style times near 10⁹: float32 steps are 64 s there, aligned to multiples of 64.
  @Test func float32KeysTieWithinOneFloat32Step() {
    let times: [Double] = [978_300_760, 978_300_761, 978_300_790, 978_300_824, 978_300_736]
    let keys = TimeOrderKey.float32.keys(times)
    #expect(keys == [978_300_736, 978_300_736, 978_300_800, 978_300_800, 978_300_736])
    for (time, key) in zip(times, keys) { #expect(key == Double(Float(time))) }
    #expect(TimeOrderKey.exact.keys(times) == times)
  }

  @Test func normalizedKeysAreMinMaxScaledThenFloat32() {
    let times: [Double] = [956_703_932, 1_046_454_590, 1_000_000_000, 1_000_000_004, 956_703_933]
    let keys = TimeOrderKey.normalizedFloat32.keys(times)
    #expect(keys.first == 0)
    #expect(keys[1] == 1)
    let span = 1_046_454_590.0 - 956_703_932.0
    for (time, key) in zip(times, keys) { #expect(key == Double(Float((time - 956_703_932) / span))) }
    // 4 s apart near 0.48: one float32 step there is 2^-25 of the span, about 2.7 s, so these two stay apart,
    // while 1 s apart near 0 (where float32 is much finer) stays apart too.
    #expect(keys[2] < keys[3])
    #expect(keys[0] < keys[4])
    // All-equal times normalise to 1, as RecBole's norm() does.
    #expect(TimeOrderKey.normalizedFloat32.keys([5, 5, 5]) == [1, 1, 1])
    #expect(TimeOrderKey.normalizedFloat32.keys([]).isEmpty)
  }

  /// ratings.dat-style rows out of time order within one 64 s float32 step: exact order sorts them by time,
  /// float32 order keeps their file order (RecBole's stable sort on float32 times).
  @Test func readingAppliesTheTimeOrderAndKeepsFileOrderForEqualKeys() throws {
    // float32 keys: 978300780 and 978300770 → 978300800 (a tie); 978300700 → 978300672; 978300000 → 978299968.
    let text = """
      1::20::5::978300780
      1::21::3::978300770
      1::22::4::978300700
      2::20::1::978300000

      """
    var options = ReadOptions(format: .delimited, separator: .literal("::"), timestampColumn: .index(3))
    let exact = try readText(text, options: options).sequences
    options.timeOrder = .float32
    let float32 = try readText(text, options: options).sequences
    #expect(rawLists(exact) == ["1": ["22", "21", "20"], "2": ["20"]])
    #expect(rawLists(float32) == ["1": ["22", "20", "21"], "2": ["20"]])
    options.timeOrder = .normalizedFloat32
    // Normalised over 978300000…978300780, float32 is fine enough to keep every time apart.
    #expect(rawLists(try readText(text, options: options).sequences) == rawLists(exact))
  }

  /// RecBole normalises after its filters: a user the k-core drops no longer stretches the min-max range.
  @Test func normalizedOrderIsTakenOverTheInteractionsTheKCoreKeeps() throws {
    // Over every row (min 0, from user 2), the first three times normalise to within 1e-8 of 1, closer than
    // float32's step below 1 (2^-24), so all three round to 1 and keep file order. Over the rows the k-core keeps
    // (1e9 … 1e9 + 10) they are 0.1, 0 and 1: time order.
    let text = """
      1::20::5::1000000001
      1::21::3::1000000000
      1::22::4::1000000010
      2::20::1::0

      """
    let options = ReadOptions(
      format: .delimited, separator: .literal("::"), timestampColumn: .index(3), timeOrder: .normalizedFloat32)
    let read = try readText(text, options: options).sequences
    #expect(rawLists(read) == ["1": ["20", "21", "22"], "2": ["20"]])
    let usersWithTwo = KCoreThresholds(minUserInteractions: 2)
    let filtered = read.kCoreFiltered(usersWithTwo)
    #expect(rawLists(filtered) == ["1": ["21", "20", "22"]])
    #expect(filtered.timeKeys?.times == [[1_000_000_000, 1_000_000_001, 1_000_000_010]])
    #expect(filtered.timeKeys?.fileRows == [[1, 0, 2]])

    // The loader does the same.
    let directory = try TemporaryDirectory()
    let path = try directory.write("ratings.dat", text)
    let loaded = try DatasetLoader.load(
      path: path, options: DatasetLoadOptions(read: options, kCore: usersWithTwo, useCache: false))
    #expect(loaded.rawItems(ofUser: 0) == ["21", "20", "22"])
    // Other orders do not depend on the kept rows, so a read keeps no time keys; replacing the sequences drops
    // them too (they would no longer line up).
    var float32 = options
    float32.timeOrder = .float32
    #expect(try readText(text, options: float32).sequences.timeKeys == nil)
    var replaced = read
    replaced.sequences = [[0], [0]]
    #expect(replaced.timeKeys == nil)
  }

  /// The processed-dataset cache is keyed by the time order: loading the same file with another order is not
  /// served the first order's sequences.
  @Test func cacheKeyIncludesTheTimeOrder() throws {
    let directory = try TemporaryDirectory()
    let path = try directory.write(
      "r.inter", "user_id:token\titem_id:token\ttimestamp:float\nu\ta\t978300780\nu\tb\t978300770\n")
    let cache = directory.url.appendingPathComponent("cache")
    var options = DatasetLoadOptions()
    let exact = try DatasetLoader.loadWithDetails(path: path, options: options, cacheDirectory: cache)
    options.read.timeOrder = .float32
    let float32 = try DatasetLoader.loadWithDetails(path: path, options: options, cacheDirectory: cache)
    guard case .stored = float32.cache else {
      Issue.record("expected a fresh build for another time order, got \(float32.cache)")
      return
    }
    #expect(exact.dataset.rawItems(ofUser: 0) == ["b", "a"])
    #expect(float32.dataset.rawItems(ofUser: 0) == ["a", "b"], "both times round to 978300800: file order")
  }
}
