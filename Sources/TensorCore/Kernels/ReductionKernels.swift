import RealModule

/// Reductions over contiguous Float arrays. Sums use `Relaxed.sum` / `Relaxed.multiplyAdd`, which let the compiler
/// reassociate (several vector accumulators, FMA): the result differs from a strict left-to-right sum only by
/// rounding.
public enum ReductionKernels {
  /// Σ x[i]
  public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var s: Float = 0
    for i in 0..<count { s = Relaxed.sum(s, x[i]) }
    return s
  }

  /// Σ x[i]²
  public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var s: Float = 0
    for i in 0..<count { s = Relaxed.multiplyAdd(x[i], x[i], s) }
    return s
  }

  /// Σ a[i]·b[i]
  public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var s: Float = 0
    for i in 0..<count { s = Relaxed.multiplyAdd(a[i], b[i], s) }
    return s
  }

  /// Largest element (−∞ for an empty array; NaN elements are skipped). Eight running maxima (the scalar loop does
  /// not vectorise: it is the softmax's first pass over every item column).
  public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    while i + 8 <= count {
      let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
      lanes.replace(with: v, where: v .> lanes)
      i += 8
    }
    var m = -Float.infinity
    for lane in 0..<8 where lanes[lane] > m { m = lanes[lane] }
    while i < count {
      if x[i] > m { m = x[i] }
      i += 1
    }
    return m
  }

  /// out[c] += Σ_r x[r, c] like `accumulateColumnSums`, with the rows split into chunks spread over the threads
  /// (each chunk sums its rows into a private vector; the partial vectors are added in chunk order, and the chunks
  /// depend only on `rows`, so the result is the same on any number of threads).
  public static func accumulateColumnSumsInParallel(
    _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int, minRowsPerChunk: Int = 256
  ) {
    let xp = UnsafeSendable(x)
    Parallel.forEachChunkSumming(rows, width: cols, minPerChunk: minRowsPerChunk, into: out) { range, partial in
      accumulateColumnSums(partial, xp.value + range.lowerBound * cols, rows: range.count, cols: cols)
    }
  }

  /// out[c] += Σ_r x[r, c] over a rows×cols matrix (bias gradients). Rows are added as whole vectors.
  public static func accumulateColumnSums(
    _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int
  ) {
    for r in 0..<rows {
      let row = x + r * cols
      for c in 0..<cols { out[c] += row[c] }
    }
  }
}
