import Foundation
import Testing

@testable import RecData

/// Builds raw sequences from per-user raw item lists (users in the given order).
private func makeRaw(_ users: [(String, [String])]) -> RawSequences {
  var itemIndex: [String: Int32] = [:]
  var itemIds: [String] = []
  let sequences = users.map { _, items in
    items.map { item -> Int32 in
      if let index = itemIndex[item] { return index }
      itemIndex[item] = Int32(itemIds.count)
      itemIds.append(item)
      return Int32(itemIds.count - 1)
    }
  }
  return RawSequences(rawUserIds: users.map(\.0), rawItemIds: itemIds, sequences: sequences)
}

/// Reference k-core: removes one violating user or item at a time until none is left.
private func naiveKCore(_ users: [(String, [String])], minUser: Int, minItem: Int) -> [String: [String]] {
  var current = Dictionary(uniqueKeysWithValues: users)
  while true {
    var itemCounts: [String: Int] = [:]
    for items in current.values { for item in items { itemCounts[item, default: 0] += 1 } }
    if let user = current.first(where: { $0.value.count < minUser })?.key {
      current[user] = nil
    } else if let item = itemCounts.first(where: { $0.value < minItem })?.key {
      current = current.mapValues { $0.filter { $0 != item } }.filter { !$0.value.isEmpty }
    } else {
      return current
    }
  }
}

@Suite struct PipelineTests {
  @Test func kCoreRepeatsUntilStable() {
    // Round 1 drops u4 (1 item); only then does i3 fall to 1 interaction (round 2), and only then does u3 fall
    // to 1 item (round 3). A single pass would keep u3 and i3.
    let users = [("u1", ["i1", "i2"]), ("u2", ["i2", "i1"]), ("u3", ["i2", "i3"]), ("u4", ["i3"])]
    let filtered = makeRaw(users).kCoreFiltered(KCoreThresholds(minUserInteractions: 2, minItemInteractions: 2))
    #expect(rawLists(filtered) == ["u1": ["i1", "i2"], "u2": ["i2", "i1"]])
    #expect(filtered.rawUserIds == ["u1", "u2"])
    let unfiltered = makeRaw(users).kCoreFiltered(.none)
    #expect(unfiltered == makeRaw(users))
  }

  @Test func kCoreMatchesNaiveReferenceOnRandomData() {
    var rng = SplitMix64(seed: 7)
    for trial in 0..<30 {
      let users = (0..<40).map { u in
        ("u\(u)", (0..<Int.random(in: 1...8, using: &rng)).map { _ in "i\(Int.random(in: 0..<25, using: &rng))" })
      }
      let minUser = Int.random(in: 0...5, using: &rng)
      let minItem = Int.random(in: 0...5, using: &rng)
      let fast = makeRaw(users).kCoreFiltered(
        KCoreThresholds(minUserInteractions: minUser, minItemInteractions: minItem))
      let expected = naiveKCore(users, minUser: minUser, minItem: minItem)
      #expect(rawLists(fast) == expected, "trial \(trial): users >= \(minUser), items >= \(minItem)")
    }
  }

  @Test func remappingNumbersItemsByFirstAppearanceAndRoundTrips() {
    let raw = makeRaw([("7", ["c", "a", "c"]), ("3", ["b", "a"]), ("9", ["d"])])
    // Drop "d" (and with it user 9) so that an unused raw item is left behind.
    let filtered = raw.kCoreFiltered(KCoreThresholds(minUserInteractions: 0, minItemInteractions: 2))
    let dataset = SequenceDataset(remapping: filtered, name: "tiny")
    #expect(dataset.rawItemIds == ["[PAD]", "c", "a"])
    #expect(dataset.rawUserIds == ["7", "3"])
    #expect(dataset.sequences == [[1, 2, 1], [2]])
    #expect(dataset.itemCount == 3)
    for user in 0..<dataset.userCount {
      #expect(dataset.rawItems(ofUser: user) == filtered.rawItems(ofUser: user))
    }
    #expect(dataset.itemId(ofRaw: "a") == 2)
    #expect(dataset.itemId(ofRaw: "d") == nil)
    #expect(dataset.itemId(ofRaw: "[PAD]") == nil)
  }

  @Test func leaveOneOutFollowsRecBoleForShortUsers() {
    let lengths = [1, 2, 3, 4, 6]
    let sequences = lengths.enumerated().map { u, n in (0..<n).map { Int32(u * 10 + $0 + 1) } }
    let items = (0...lengths.count * 10).map { $0 == 0 ? "[PAD]" : "i\($0)" }
    let dataset = SequenceDataset(
      name: "short", sequences: sequences, rawUserIds: lengths.map { "len\($0)" }, rawItemIds: items)
    let split = LeaveOneOutSplit(dataset)
    let ex = { (u: Int32, p: Int32) in Example(user: u, position: p) }
    // n = 1: nothing; n = 2: train only; n = 3: train 1 + test, no valid; n = 4: 1/1/1; n = 6: 3/1/1.
    #expect(split.train == [ex(1, 1), ex(2, 1), ex(3, 1), ex(4, 1), ex(4, 2), ex(4, 3)])
    #expect(split.valid == [ex(3, 2), ex(4, 4)])
    #expect(split.test == [ex(2, 2), ex(3, 3), ex(4, 5)])
    // Per user the parts cover positions 1…n−1 exactly once (RecBole's n−1 prefix examples).
    for (u, n) in lengths.enumerated() {
      let all = (split.train + split.valid + split.test).filter { $0.user == Int32(u) }.map { Int($0.position) }
      #expect(all.sorted() == Array(1..<max(1, n)))
    }
    // Histories are the last ≤ L items before the target.
    let testOfLongest = split.test.last!
    #expect(Array(dataset.history(of: testOfLongest, maxLength: 3)) == [43, 44, 45])
    let batch = dataset.batch([testOfLongest, ex(2, 1)], maxLength: 3)
    #expect(batch.items == [43, 44, 45, 21, 0, 0])
    #expect(batch.targets == [46, 22])
  }

  @Test func statisticsOfAHandMadeDataset() {
    let sequences: [[Int32]] = [[1], [1, 2], [2, 3, 1], [1, 2, 3, 4, 5, 1]]
    let dataset = SequenceDataset(
      name: "s", sequences: sequences, rawUserIds: ["a", "b", "c", "d"], rawItemIds: ["[PAD]", "1", "2", "3", "4", "5"])
    let stats = DatasetStatistics(dataset)
    #expect(stats.users == 4)
    #expect(stats.items == 5)
    #expect(stats.interactions == 12)
    #expect(stats.averageLength == 3)
    #expect(stats.medianLength == 2.5)
    #expect(stats.minLength == 1)
    #expect(stats.maxLength == 6)
    let table = stats.table(title: "s")
    let interactionsRow = table.split(separator: "\n").first { $0.contains("interactions") }
    #expect(interactionsRow?.hasSuffix(" 12") == true)
    #expect(table.split(separator: "\n").first == "s")
    #expect(DatasetStatistics.grouped(1_000_209) == "1,000,209")
    #expect(DatasetStatistics.grouped(999) == "999")
  }
}
