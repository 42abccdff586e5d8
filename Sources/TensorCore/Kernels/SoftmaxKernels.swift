import RealModule

/// Row-wise softmax and log-sum-exp over the last dimension of a rows × cols matrix.
///
/// Masked entries are −∞. The row maximum is seeded with −∞ (never a finite sentinel such as −10000), and a row in
/// which every entry is −∞ is handled explicitly: its softmax is all zeros (not 0/0 = NaN) and its log-sum-exp is
/// −∞, so one fully masked row never poisons the rest of a batch.
public enum SoftmaxKernels {
  /// out = softmax(x) per row. out may alias x.
  public static func forward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int) {
    forEachRowChunk(rows: rows, cols: cols) { rowRange in
      for r in rowRange { softmaxRow(out + r * cols, x + r * cols, count: cols) }
    }
  }

  /// out[r] = log Σ_c exp(x[r, c]), −∞ for a fully masked (or empty) row.
  public static func logSumExp(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int) {
    forEachRowChunk(rows: rows, cols: cols) { rowRange in
      for r in rowRange { out[r] = logSumExpRow(x + r * cols, count: cols) }
    }
  }

  /// dx = y ⊙ (dy − Σ_c dy ⊙ y) per row, y the softmax output. Written, not accumulated; dx may alias dy.
  /// Rows of a fully masked softmax (y = 0) get dx = 0.
  public static func backward(
    _ dx: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, cols: Int
  ) {
    forEachRowChunk(rows: rows, cols: cols) { rowRange in
      for r in rowRange {
        backwardRow(dx + r * cols, y: y + r * cols, dy: dy + r * cols, count: cols)
      }
    }
  }

  // MARK: Single rows

  /// Softmax of one row of `count` values into `out` (may alias `x`).
  @inlinable
  public static func softmaxRow(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    let m = ReductionKernels.max(x, count: count)
    if m == -.infinity {
      out.update(repeating: 0, count: count)
      return
    }
    var sum: Float = 0
    for c in 0..<count {
      let e = Float.exp(x[c] - m)
      out[c] = e
      sum = Relaxed.sum(sum, e)
    }
    let inv = 1 / sum
    for c in 0..<count { out[c] *= inv }
  }

  /// dx = y ⊙ (dy − Σ dy ⊙ y) over one row of `count` values, y the softmax output (dx may alias dy).
  @inlinable
  public static func backwardRow(
    _ dx: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, count: Int
  ) {
    var inner: Float = 0
    for c in 0..<count { inner = Relaxed.multiplyAdd(dy[c], y[c], inner) }
    for c in 0..<count { dx[c] = y[c] * (dy[c] - inner) }
  }

  /// log Σ exp(x) of one row, computed as max + log Σ exp(x − max); −∞ when every entry is −∞.
  @inlinable
  public static func logSumExpRow(_ x: UnsafePointer<Float>, count: Int) -> Float {
    let m = ReductionKernels.max(x, count: count)
    if m == -.infinity { return -.infinity }
    var sum: Float = 0
    for c in 0..<count { sum = Relaxed.sum(sum, Float.exp(x[c] - m)) }
    return m + Float.log(sum)
  }

  /// Fused cross-entropy of one row: returns logsumexp(x) − x[target] (in Double) and writes
  /// gradient = (softmax(x) − onehot(target)) · gradientScale. `gradient` may alias `x` (x[target] is read first).
  /// One exp per entry: the shifted exponentials are stored in `gradient` and rescaled once the sum is known.
  /// The exponential is `FastMath.exp` (a few ulp, and the loop vectorises; libm's scalar `expf` made this the
  /// costliest non-GEMM kernel of training over thousands of item columns); shifted values below −87 (e^−87 ≈ 1.6e−38,
  /// −∞ included) contribute exactly 0. A row whose entries are all −∞ returns +∞ and a zero gradient.
  @inlinable
  public static func crossEntropyRow(
    _ gradient: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, target: Int, gradientScale: Float
  ) -> Double {
    let m = ReductionKernels.max(x, count: count)
    if m == -.infinity {
      gradient.update(repeating: 0, count: count)
      return .infinity
    }
    let targetScore = x[target]
    // Work in place on `gradient` (a copy of x unless it is x): one pointer read and written, so the loop vectorises
    // (with two pointers that may alias, the vectoriser's overlap check sends the in-place call to scalar code).
    if UnsafePointer(gradient) != x { gradient.update(from: x, count: count) }
    var sum: Float = 0
    for c in 0..<count {
      let shifted = gradient[c] - m
      let exp = FastMath.exp(shifted)
      let e = shifted < -87 ? 0 : exp
      gradient[c] = e
      sum = Relaxed.sum(sum, e)
    }
    let k = gradientScale / sum
    for c in 0..<count { gradient[c] *= k }
    gradient[target] -= gradientScale
    return Double(m) + Double(Float.log(sum)) - Double(targetScore)
  }

  static func forEachRowChunk(rows: Int, cols: Int, _ body: (Range<Int>) -> Void) {
    let minRows = Swift.max(1, ElementwiseKernels.parallelThreshold / 2 / Swift.max(cols, 1))
    Parallel.forEachChunk(rows, minPerThread: minRows, body)
  }
}
