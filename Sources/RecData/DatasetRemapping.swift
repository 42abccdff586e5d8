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
