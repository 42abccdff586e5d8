/// Windows for the all-positions objective of causal models.
///
/// A window is a run of a user's items fed once through the model; the loss is taken at the positions whose next
/// item is a training target. Windows are laid out so that **every training target appears exactly once per
/// epoch**, and each target sees at least `maxLength − stride` items of context (where available):
/// for a user whose training targets are at positions 1…m, window k covers the targets of one chunk of at most
/// `stride` consecutive positions, and its input is the `maxLength` items ending just before the chunk's last
/// target. With `stride == maxLength` windows do not overlap (cheapest); with a smaller stride targets early in a
/// chunk keep a longer history (closer to the prefix objective) at `maxLength / stride` times the cost.
///
/// A window can also be split into `parts` runs (`splittingTargets`): each run feeds the same input and carries the
/// loss of the chunk's targets that fall in its part (a seeded random assignment), so every target still appears
/// exactly once per epoch, but each target's history gets its own dropout draw among `parts`, and a batch of a given
/// number of targets holds `parts` times as many windows (users), as RecBole's prefix batches do.
public struct TrainingWindow: Hashable, Sendable {
  public var user: Int32
  /// Position (in the user's sequence) of the first input item.
  public var start: Int32
  /// Number of input items.
  public var length: Int32
  /// The chunk's targets are after the last `chunkLength` input positions (each predicts the item after it).
  public var chunkLength: Int32
  /// This run carries the chunk targets whose part is `part` (of `parts`, assigned by `partSeed`); parts 1 = all.
  public var part: Int32 = 0
  public var parts: Int32 = 1
  public var partSeed: UInt64 = 0
  /// Targets this run carries a loss for.
  public var targetCount: Int32

  /// Input positions (0-based, in the window) whose next item is one of the chunk's targets.
  var chunkOffsets: Range<Int> { Int(length - chunkLength)..<Int(length) }

  /// The part (of `parts`, assigned by `seed`) of the target after input position `offset`.
  @inline(__always)
  func partOfTarget(at offset: Int, parts: Int32, seed: UInt64) -> Int32 {
    Self.part(of: start + Int32(offset), user: user, parts: parts, seed: seed)
  }

  /// Whether the chunk target after input position `offset` (in `chunkOffsets`) carries this run's loss.
  @inline(__always)
  func carriesTarget(at offset: Int) -> Bool {
    parts == 1 || partOfTarget(at: offset, parts: parts, seed: partSeed) == part
  }

  /// The part (0..<parts) of the target after sequence position `position` of `user`: a SplitMix64 finaliser of
  /// the seed, user and position, so that the parts of one epoch are independent of another's (new seed).
  @inline(__always)
  static func part(of position: Int32, user: Int32, parts: Int32, seed: UInt64) -> Int32 {
    let key = UInt64(UInt32(bitPattern: user)) << 32 | UInt64(UInt32(bitPattern: position))
    var z = seed &+ (key &* 0x9E37_79B9_7F4A_7C15)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return Int32(truncatingIfNeeded: z % UInt64(parts))
  }
}

extension Array where Element == TrainingWindow {
  /// Each window run `parts` times, run p carrying the loss of the chunk targets assigned to part p by `seed`
  /// (runs left with no target are dropped). Every target of the unsplit windows is carried by exactly one run.
  public func splittingTargets(parts: Int, seed: UInt64) -> [TrainingWindow] {
    precondition(parts >= 1, "parts must be at least 1")
    if parts == 1 { return self }
    var runs: [TrainingWindow] = []
    runs.reserveCapacity(count * parts)
    for window in self {
      var counts = [Int32](repeating: 0, count: parts)
      for offset in window.chunkOffsets {
        counts[Int(window.partOfTarget(at: offset, parts: Int32(parts), seed: seed))] += 1
      }
      for (p, targets) in counts.enumerated() where targets > 0 {
        var run = window
        run.part = Int32(p)
        run.parts = Int32(parts)
        run.partSeed = seed
        run.targetCount = targets
        runs.append(run)
      }
    }
    return runs
  }
}

/// A batch of windows: `items` is B×L (left-aligned, right-padded); `targets[r·L + t]` is the item following
/// input position t of row r when that position carries a loss, else 0.
public struct WindowBatch: Sendable {
  public let maxLength: Int
  public var items: [Int32]
  public var lengths: [Int32]
  public var targets: [Int32]
  public var count: Int { lengths.count }

  public init(maxLength: Int, items: [Int32], lengths: [Int32], targets: [Int32]) {
    precondition(items.count == lengths.count * maxLength && targets.count == items.count)
    self.maxLength = maxLength
    self.items = items
    self.lengths = lengths
    self.targets = targets
  }

  /// Number of positions that carry a loss.
  public var targetCount: Int { targets.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
}

extension SequenceDataset {
  /// Windows covering every training target (positions 1…n−3 of each user with n items, as the leave-one-out
  /// split's training part) exactly once.
  public func trainingWindows(maxLength: Int, stride: Int, trainTargetEnd: (Int) -> Int = { $0 - 2 })
    -> [TrainingWindow]
  {
    precondition(stride >= 1 && stride <= maxLength, "stride must be in 1…maxLength")
    var windows: [TrainingWindow] = []
    for (u, seq) in sequences.enumerated() {
      let end = trainTargetEnd(seq.count)  // one past the last training target position
      var last = end - 1  // last target position of the current chunk
      while last >= 1 {
        let first = max(1, last - stride + 1)
        let inputEnd = last  // inputs are positions [start, last)
        let start = max(0, inputEnd - maxLength)
        windows.append(
          TrainingWindow(
            user: Int32(u), start: Int32(start), length: Int32(inputEnd - start),
            chunkLength: Int32(last - first + 1), targetCount: Int32(last - first + 1)))
        last = first - 1
      }
    }
    return windows
  }

  /// Builds the model input for `windows`.
  public func windowBatch<C: Collection>(_ windows: C, maxLength: Int) -> WindowBatch
  where C.Element == TrainingWindow {
    let b = windows.count
    var items = [Int32](repeating: 0, count: b * maxLength)
    var targets = [Int32](repeating: 0, count: b * maxLength)
    var lengths = [Int32](repeating: 0, count: b)
    for (row, w) in windows.enumerated() {
      let seq = sequences[Int(w.user)]
      let start = Int(w.start)
      let len = Int(w.length)
      for j in 0..<len { items[row * maxLength + j] = seq[start + j] }
      for j in w.chunkOffsets where w.carriesTarget(at: j) {
        targets[row * maxLength + j] = seq[start + j + 1]
      }
      lengths[row] = Int32(len)
    }
    return WindowBatch(maxLength: maxLength, items: items, lengths: lengths, targets: targets)
  }
}
