/// Windows for the all-positions objective of causal models.
///
/// A window is a run of a user's items fed once through the model; the loss is taken at the positions whose next
/// item is a training target. Windows are laid out so that **every training target appears exactly once per
/// epoch**, and each target sees at least `maxLength − stride` items of context (where available):
/// for a user whose training targets are at positions 1…m, window k covers the targets of one chunk of at most
/// `stride` consecutive positions, and its input is the `maxLength` items ending just before the chunk's last
/// target. With `stride == maxLength` windows do not overlap (cheapest); with a smaller stride targets early in a
/// chunk keep a longer history (closer to the prefix objective) at `maxLength / stride` times the cost.
public struct TrainingWindow: Hashable, Sendable {
  public var user: Int32
  /// Position (in the user's sequence) of the first input item.
  public var start: Int32
  /// Number of input items.
  public var length: Int32
  /// Loss positions are the last `targetCount` input positions (each predicts the item after it).
  public var targetCount: Int32
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
            targetCount: Int32(last - first + 1)))
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
      for j in (len - Int(w.targetCount))..<len { targets[row * maxLength + j] = seq[start + j + 1] }
      lengths[row] = Int32(len)
    }
    return WindowBatch(maxLength: maxLength, items: items, lengths: lengths, targets: targets)
  }
}
