// Preprocessing as RecBole does it after loading: the iterative k-core filter, then id remapping (0 = padding).

/// Minimum interaction counts per user and per item (RecBole's `user_inter_num_interval` /
/// `item_inter_num_interval` lower bounds). 0 or 1 means no filtering on that side.
public struct KCoreThresholds: Hashable, Sendable, CustomStringConvertible {
  public var minUserInteractions: Int
  public var minItemInteractions: Int

  public init(minUserInteractions: Int = 0, minItemInteractions: Int = 0) {
    self.minUserInteractions = minUserInteractions
    self.minItemInteractions = minItemInteractions
  }

  public static let none = KCoreThresholds()

  public var isActive: Bool { minUserInteractions > 1 || minItemInteractions > 1 }

  public var description: String {
    isActive ? "users >= \(minUserInteractions), items >= \(minItemInteractions)" : "none"
  }
}

extension RawSequences {
  /// The iterative k-core: drops users with fewer than `minUserInteractions` interactions and items with fewer
  /// than `minItemInteractions`, recounting and repeating until nothing changes. As in RecBole's
  /// `_filter_by_inter_num`, each round removes the users and the items that fail their bound on the same counts
  /// (the result, the largest sub-dataset meeting both bounds, does not depend on the order anyway). Duplicate
  /// (user, item) rows count once each. Kept users and interactions keep their order; users left without items
  /// are dropped. `rawItemIds` keeps every entry (unused ones vanish at remapping). With `timeKeys` (a
  /// `normalized-float32` read), each user's interactions are then sorted again with keys normalised over the
  /// kept interactions, as RecBole normalises after filtering.
  public func kCoreFiltered(_ thresholds: KCoreThresholds) -> RawSequences {
    guard thresholds.isActive else { return self }
    var userAlive = [Bool](repeating: true, count: userCount)
    var itemAlive = [Bool](repeating: true, count: rawItemIds.count)
    var userCounts = [Int](repeating: 0, count: userCount)
    var itemCounts = [Int](repeating: 0, count: rawItemIds.count)
    var changed = true
    while changed {
      changed = false
      for i in itemCounts.indices { itemCounts[i] = 0 }
      for (user, sequence) in sequences.enumerated() where userAlive[user] {
        var count = 0
        for item in sequence where itemAlive[Int(item)] {
          count += 1
          itemCounts[Int(item)] += 1
        }
        userCounts[user] = count
      }
      for user in userAlive.indices where userAlive[user] && userCounts[user] < thresholds.minUserInteractions {
        userAlive[user] = false
        changed = true
      }
      for item in itemAlive.indices where itemAlive[item] && itemCounts[item] < thresholds.minItemInteractions {
        itemAlive[item] = false
        changed = true
      }
    }
    var keptIds: [String] = []
    var keptSequences: [[Int32]] = []
    var keptTimes: [[Double]] = []
    var keptFileRows: [[Int]] = []
    for (user, sequence) in sequences.enumerated() where userAlive[user] {
      let positions = sequence.indices.filter { itemAlive[Int(sequence[$0])] }
      if positions.isEmpty { continue }
      keptIds.append(rawUserIds[user])
      keptSequences.append(positions.map { sequence[$0] })
      if let timeKeys {
        keptTimes.append(positions.map { timeKeys.times[user][$0] })
        keptFileRows.append(positions.map { timeKeys.fileRows[user][$0] })
      }
    }
    let kept = RawSequences(
      rawUserIds: keptIds, rawItemIds: rawItemIds, sequences: keptSequences,
      timeKeys: timeKeys.map { .init(order: $0.order, times: keptTimes, fileRows: keptFileRows) })
    return kept.rekeyedByTime()
  }
}

extension SequenceDataset {
  /// Renumbers `raw` for training: users 0-based in their order, items 1…N−1 in order of first appearance when
  /// reading each user's sequence oldest first, user after user (for a SASRec-style file that is file order);
  /// item 0 is the padding id `[PAD]`. Items no sequence uses are dropped.
  public init(remapping raw: RawSequences, name: String) {
    var newId = [Int32](repeating: 0, count: raw.rawItemIds.count)
    var rawItemIds = [SequenceDataset.paddingRawId]
    var sequences: [[Int32]] = []
    sequences.reserveCapacity(raw.userCount)
    for sequence in raw.sequences {
      var mapped = [Int32](repeating: 0, count: sequence.count)
      for (position, item) in sequence.enumerated() {
        var id = newId[Int(item)]
        if id == 0 {
          id = Int32(rawItemIds.count)
          newId[Int(item)] = id
          rawItemIds.append(raw.rawItemIds[Int(item)])
        }
        mapped[position] = id
      }
      sequences.append(mapped)
    }
    self.init(name: name, sequences: sequences, rawUserIds: raw.rawUserIds, rawItemIds: rawItemIds)
  }

  /// Internal id of the item with raw id `rawId`, or nil (linear search; build a dictionary for many lookups).
  public func itemId(ofRaw rawId: String) -> Int32? {
    guard rawId != SequenceDataset.paddingRawId, let index = rawItemIds.firstIndex(of: rawId) else { return nil }
    return Int32(index)
  }

  /// User `user`'s items as raw ids, oldest first.
  public func rawItems(ofUser user: Int) -> [String] { sequences[user].map { rawItemIds[Int($0)] } }
}
