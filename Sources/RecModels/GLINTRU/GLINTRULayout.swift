import NN
import RecData
import TensorCore

/// Which rows the faithful GLINT-RU shortcut (spec §1.11) computes for a batch of right-padded histories.
///
/// A row with n items is the sequence items₀…items_{n−1} followed by L − n padding tokens (id 0), and only the
/// output at n − 1 is used. With a centred kernel of width K (r = (K−1)/2 steps of look-ahead):
/// - Conv_b's output at n − 1 reads G ⊙ P at the K window positions n−1−r … n−1+r;
/// - P there needs the GRU up to n−1+r, i.e. G_b = min(n+r, L) steps, and the GRU's input C up to that point;
/// - C at p reads U = Lin_1(X) up to p + r, so the branch runs on T_b = min(n+2r, L) positions of X;
/// - the attention expert needs its query at n − 1 only, but keys/values of all L positions: the branch positions
///   plus L − T_b padding tokens, which in eval mode are all E_0 (one key of weight L − T_b).
/// Everything after the experts is position-wise, so it runs on the B rows at n − 1 only.
struct GLINTRULayout {
  let batch: Int
  let maxLength: Int
  let kernelSize: Int
  /// n_b (an empty history counts as n = 1: the output at position 0 of an all-padding row).
  let lengths: [Int]
  /// T_b positions per row, packed row-major; ids are 0 at t ≥ n_b whatever the batch holds there.
  let branch: SequenceSegments
  let branchIds: [Int32]
  let branchTokens: [TokenPosition]
  /// Branch row of (b, n_b − 1) and its token.
  let lastRows: [Int]
  let lastTokens: [TokenPosition]
  /// G_b GRU steps per row.
  let gru: PackedSequenceLayout
  /// For window slot (b, k) at position n_b − 1 − r + k: its branch row and packed GRU row, or −1 outside 0..<L.
  let windowBranchRows: [Int]
  let windowPackedRows: [Int]
  let windowTokens: [TokenPosition]
  /// L − T_b padding positions per row that only the attention keys see.
  let paddingCounts: [Int]

  init(batch b: SequenceBatch, kernelSize: Int) {
    let length = b.maxLength
    let right = (kernelSize - 1) / 2
    batch = b.count
    maxLength = length
    self.kernelSize = kernelSize
    lengths = b.lengths.enumerated().map { row, n in
      precondition(n >= 0 && Int(n) <= length, "GLINT-RU: history length \(n) of row \(row) is outside 0...\(length)")
      return max(1, Int(n))
    }
    let branchLengths = lengths.map { min($0 + 2 * right, length) }
    branch = SequenceSegments(lengths: branchLengths)
    gru = PackedSequenceLayout(lengths: lengths.map { min($0 + right, length) })
    paddingCounts = branchLengths.map { length - $0 }
    var (ids, tokens, lastRows, lastTokens) = ([Int32](), [TokenPosition](), [Int](), [TokenPosition]())
    var (windowBranchRows, windowPackedRows, windowTokens) = ([Int](), [Int](), [TokenPosition]())
    for row in 0..<b.count {
      let n = lengths[row]
      for t in 0..<branchLengths[row] {
        ids.append(t < Int(b.lengths[row]) ? b.items[row * length + t] : 0)
        tokens.append(TokenPosition(row: row, position: t))
      }
      lastRows.append(branch.offsets[row] + n - 1)
      lastTokens.append(TokenPosition(row: row, position: n - 1))
      for k in 0..<kernelSize {
        let p = n - 1 - right + k
        let inside = p >= 0 && p < length
        windowBranchRows.append(inside ? branch.offsets[row] + p : -1)
        windowPackedRows.append(inside ? gru.index(sequence: row, step: p) : -1)
        windowTokens.append(TokenPosition(row: row, position: p))
      }
    }
    (branchIds, branchTokens, self.lastRows, self.lastTokens) = (ids, tokens, lastRows, lastTokens)
    (self.windowBranchRows, self.windowPackedRows, self.windowTokens) = (
      windowBranchRows, windowPackedRows, windowTokens
    )
  }
}

// MARK: - Row gathers

/// x's rows at `rows` ([rows.count, F]); a row index of −1 gives a zero row.
func gatherRows(_ x: Tensor, _ rows: [Int]) -> Tensor {
  let features = x.shape.last ?? 1
  let out = Tensor(zeros: [rows.count, features])
  for (i, r) in rows.enumerated() where r >= 0 {
    (out.ptr + i * features).update(from: x.ptr + r * features, count: features)
  }
  return out
}

/// The adjoint of `gatherRows`: target[rows[i]] += source[i] (rows of −1 are skipped).
func scatterAddRows(_ source: Tensor, _ rows: [Int], into target: Tensor) {
  let features = target.shape.last ?? 1
  for (i, r) in rows.enumerated() where r >= 0 {
    let (dst, src) = (target.ptr + r * features, source.ptr + i * features)
    for f in 0..<features { dst[f] += src[f] }
  }
}

/// Zeroes the rows of x whose index in `rows` is −1.
func zeroMissingRows(_ x: Tensor, _ rows: [Int]) {
  let features = x.shape.last ?? 1
  for (i, r) in rows.enumerated() where r < 0 { (x.ptr + i * features).update(repeating: 0, count: features) }
}
