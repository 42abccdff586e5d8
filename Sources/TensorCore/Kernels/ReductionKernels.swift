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

  /// Largest element (−∞ for an empty array; NaN elements are skipped).
  public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var m = -Float.infinity
    for i in 0..<count where x[i] > m { m = x[i] }
    return m
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
