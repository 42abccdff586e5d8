import RecData
import TensorCore

/// What a causal model runs on for one batch: ids [batch, steps] with `steps` = the longest row (positions after
/// it cannot influence earlier ones), and the flat positions `r·steps + t` whose outputs are scored, with their
/// targets. Prefix batches select each row's last real position; window batches every position with a target.
public struct TrainingRows: Sendable {
  public let ids: [Int32]
  public let batch: Int
  public let steps: Int
  public let positions: [Int]
  public let targets: [Int32]

  /// One output per row at position len − 1 (position 0 for an empty history, which only ad-hoc queries have).
  public init(prefixBatch b: SequenceBatch) {
    let steps = max(1, Int(b.lengths.max() ?? 1))
    batch = b.count
    self.steps = steps
    ids = TrainingRows.truncate(b.items, rows: b.count, from: b.maxLength, to: steps)
    positions = b.lengths.enumerated().map { r, len in r * steps + max(0, Int(len) - 1) }
    targets = b.targets
  }

  /// One output per position that carries a target.
  public init(windowBatch b: WindowBatch) {
    let steps = max(1, Int(b.lengths.max() ?? 1))
    batch = b.count
    self.steps = steps
    ids = TrainingRows.truncate(b.items, rows: b.count, from: b.maxLength, to: steps)
    var positions: [Int] = []
    var targets: [Int32] = []
    for r in 0..<b.count {
      for t in 0..<steps where b.targets[r * b.maxLength + t] != 0 {
        positions.append(r * steps + t)
        targets.append(b.targets[r * b.maxLength + t])
      }
    }
    self.positions = positions
    self.targets = targets
  }

  static func truncate(_ items: [Int32], rows: Int, from width: Int, to steps: Int) -> [Int32] {
    if steps == width { return items }
    var out = [Int32](repeating: 0, count: rows * steps)
    for r in 0..<rows {
      for t in 0..<steps { out[r * steps + t] = items[r * width + t] }
    }
    return out
  }

  /// The selected rows of `hidden` [batch, steps, d] → [positions.count, d].
  public func gather(_ hidden: Tensor) -> Tensor {
    let d = hidden.shape.last!
    let out = Tensor(uninitialized: [positions.count, d])
    for (i, p) in positions.enumerated() { (out.ptr + i * d).update(from: hidden.ptr + p * d, count: d) }
    return out
  }

  /// The adjoint of `gather`: a zero tensor shaped like `hidden` with the rows of `selected` added at `positions`.
  public func scatter(_ selected: Tensor, like hidden: Tensor) -> Tensor {
    let d = hidden.shape.last!
    let out = Tensor(zeros: hidden.shape)
    for (i, p) in positions.enumerated() {
      let dst = out.ptr + p * d
      let src = selected.ptr + i * d
      for j in 0..<d { dst[j] += src[j] }
    }
    return out
  }
}
