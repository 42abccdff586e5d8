extension SequenceDataset {
  /// A stable 64-bit hex fingerprint of the dataset's content: every user's item sequence and every raw user and
  /// item id. Two loads that give the same training data (whatever the file path) have the same fingerprint; any
  /// change of filtering, order or ids changes it. Checkpoints record it so a model is never silently applied to
  /// other data.
  public var fingerprint: String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ bytes: UnsafeRawBufferPointer) {
      hash ^= StableHash.content(bytes)
      hash = hash &* 0x0000_0100_0000_01B3
    }
    for seq in sequences { seq.withUnsafeBytes { mix($0) } }
    for id in rawUserIds + rawItemIds {
      var s = id
      s.withUTF8 { mix(UnsafeRawBufferPointer($0)) }
    }
    let counts = [Int64(userCount), Int64(itemCount)]
    counts.withUnsafeBytes { mix($0) }
    return StableHash.hex(hash)
  }
}
