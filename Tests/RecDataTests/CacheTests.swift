import Foundation
import Testing

@testable import RecData

private func expectSameDataset(_ a: SequenceDataset, _ b: SequenceDataset) {
  #expect(a.name == b.name)
  #expect(a.sequences == b.sequences)
  #expect(a.rawUserIds == b.rawUserIds)
  #expect(a.rawItemIds == b.rawItemIds)
}

@Suite struct CacheTests {
  private let text = "1 10\n1 20\n1 30\n2 20\n2 30\n2 40\n3 10\n3 40\n3 20\n"

  @Test func roundTripThroughTheCache() throws {
    let directory = try TemporaryDirectory()
    let path = try directory.write("pairs.txt", text)
    let cache = directory.url.appendingPathComponent("cache")
    let first = try DatasetLoader.loadWithDetails(path: path, cacheDirectory: cache)
    guard case .stored(let file) = first.cache else {
      Issue.record("expected a stored cache, got \(first.cache)"); return
    }
    let second = try DatasetLoader.loadWithDetails(path: path, cacheDirectory: cache)
    #expect(second.cache == .hit(path: file))
    #expect(second.layoutDescription == first.layoutDescription)
    expectSameDataset(second.dataset, first.dataset)
    #expect(first.dataset.rawItemIds == ["[PAD]", "10", "20", "30", "40"])
    let uncached = try DatasetLoader.loadWithDetails(path: path, options: DatasetLoadOptions(useCache: false))
    #expect(uncached.cache == .disabled)
    expectSameDataset(uncached.dataset, first.dataset)
  }

  @Test func changedFileOrOptionsMissTheCache() throws {
    let directory = try TemporaryDirectory()
    let path = try directory.write("pairs.txt", text)
    let cache = directory.url.appendingPathComponent("cache")
    _ = try DatasetLoader.load(path: path, cacheDirectory: cache)
    // Same size, one digit changed: the content hash must notice.
    try directory.write("pairs.txt", text.replacingOccurrences(of: "3 40", with: "3 50"))
    let changed = try DatasetLoader.loadWithDetails(path: path, cacheDirectory: cache)
    guard case .stored = changed.cache else { Issue.record("a changed file must not hit: \(changed.cache)"); return }
    #expect(changed.dataset.rawItemIds.contains("50"))
    let filtered = try DatasetLoader.loadWithDetails(
      path: path, options: DatasetLoadOptions(kCore: KCoreThresholds(minUserInteractions: 2, minItemInteractions: 2)),
      cacheDirectory: cache)
    guard case .stored = filtered.cache else { Issue.record("other options must not hit: \(filtered.cache)"); return }
    #expect(!filtered.dataset.rawItemIds.contains("50"))
  }

  @Test func corruptCacheFilesAreIgnoredAndRebuilt() throws {
    let directory = try TemporaryDirectory()
    let path = try directory.write("pairs.txt", text)
    let cache = directory.url.appendingPathComponent("cache")
    let reference = try DatasetLoader.loadWithDetails(path: path, cacheDirectory: cache)
    guard case .stored(let file) = reference.cache else { Issue.record("expected a stored cache"); return }
    let good = try Data(contentsOf: URL(fileURLWithPath: file))
    let damaged: [Data] = [
      Data(), good.prefix(5), good.prefix(good.count / 2), good.dropLast(1), Data(repeating: 0xFF, count: good.count),
      {
        var d = good; d[d.count / 2] ^= 0x40; return d
      }(),
    ]
    for bytes in damaged {
      try bytes.write(to: URL(fileURLWithPath: file))
      let reloaded = try DatasetLoader.loadWithDetails(path: path, cacheDirectory: cache)
      #expect(reloaded.cache == .stored(path: file), "a damaged cache (\(bytes.count) bytes) is rebuilt")
      expectSameDataset(reloaded.dataset, reference.dataset)
    }
  }

  @Test func decodingNeverTrapsOnTruncatedOrAlteredBytes() throws {
    let dataset = SequenceDataset(
      name: "d", sequences: [[1, 2], [2, 3, 1]], rawUserIds: ["u", "v"], rawItemIds: ["[PAD]", "a", "b", "c"])
    let encoded = DatasetCacheFile.encode(.init(key: "k", layoutDescription: "pairs", dataset: dataset))
    let decoded = try encoded.withUnsafeBytes { try DatasetCacheFile.decode($0) }
    expectSameDataset(decoded.dataset, dataset)
    #expect(decoded.key == "k")
    for length in 0..<encoded.count {
      let prefix = Array(encoded.prefix(length))
      #expect(throws: (any Error).self) { try prefix.withUnsafeBytes { try DatasetCacheFile.decode($0) } }
    }
    var rng = SplitMix64(seed: 3)
    for _ in 0..<200 {
      var altered = encoded
      altered[Int.random(in: 0..<altered.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
      #expect(throws: (any Error).self) { try altered.withUnsafeBytes { try DatasetCacheFile.decode($0) } }
    }
  }

  @Test func unwritableCacheDirectoryStillLoads() throws {
    let directory = try TemporaryDirectory()
    let path = try directory.write("pairs.txt", text)
    let blocker = try directory.write("not-a-directory", "x")
    let loaded = try DatasetLoader.loadWithDetails(path: path, cacheDirectory: URL(fileURLWithPath: blocker))
    guard case .notStored = loaded.cache else { Issue.record("expected notStored, got \(loaded.cache)"); return }
    #expect(loaded.dataset.userCount == 3)
  }

  @Test func filteringEverythingAwayIsAnError() throws {
    let directory = try TemporaryDirectory()
    let path = try directory.write("pairs.txt", text)
    var options = DatasetLoadOptions(useCache: false)
    options.minUserInteractions = 10
    let error = #expect(throws: DataError.self) { try DatasetLoader.load(path: path, options: options) }
    #expect(error?.message.contains("no interactions left") == true)
  }
}
