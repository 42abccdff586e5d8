import RealModule

/// Row-wise layer normalisation over the last dimension (PyTorch `nn.LayerNorm`): for each row of `cols` values,
/// x̂ = (x − mean) · rstd with rstd = 1/√(var + eps), **biased** variance (divide by cols), y = x̂ · weight + bias.
///
/// The forward caches `mean` and `rstd` per row (llm.c `ln_mean`/`ln_rstd`); the backward recomputes x̂ from them.
/// Rows are split across threads when rows × cols is large.
public enum LayerNormKernels {
  /// out [rows, cols], mean [rows], rstd [rows] ← x [rows, cols], weight [cols], bias [cols]. out may alias x.
  public static func forward(
    _ out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
    _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    rows: Int, cols: Int, eps: Float
  ) {
    precondition(cols > 0, "LayerNorm over an empty last dimension")
    let invCols = 1 / Float(cols)
    forEachRowChunk(rows: rows, cols: cols) { rowRange in
      for r in rowRange {
        let xr = x + r * cols
        let or = out + r * cols
        var sum: Float = 0
        for c in 0..<cols { sum = Relaxed.sum(sum, xr[c]) }
        let m = sum * invCols
        var squares: Float = 0
        for c in 0..<cols {
          let d = xr[c] - m
          squares = Relaxed.multiplyAdd(d, d, squares)
        }
        let s = 1 / (squares * invCols + eps).squareRoot()
        for c in 0..<cols { or[c] = (xr[c] - m) * s * weight[c] + bias[c] }
        mean[r] = m
        rstd[r] = s
      }
    }
  }

  /// dx [rows, cols] = ∂L/∂x (written, not accumulated); dweight, dbias [cols] are **accumulated** (+=).
  ///
  /// With x̂ = (x − mean)·rstd and g = dy ⊙ weight: dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),
  /// dweight += Σ_rows dy ⊙ x̂, dbias += Σ_rows dy. dx may alias dy.
  public static func backward(
    _ dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
    dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, cols: Int
  ) {
    let minRows = minRowsPerChunk(cols: cols)
    if Parallel.reductionChunkCount(rows, minPerChunk: minRows) <= 1 {
      backwardRows(
        0..<rows, dx, dweight: dweight, dbias: dbias, dy: dy, x: x, weight: weight, mean: mean, rstd: rstd, cols: cols)
      return
    }
    // [Σ dweight | Σ dbias] over all rows by the shared deterministic reduction (chunks by shape, summed in order).
    let sums = UnsafeMutablePointer<Float>.allocate(capacity: 2 * cols)
    sums.initialize(repeating: 0, count: 2 * cols)
    defer { sums.deallocate() }
    Parallel.forEachChunkSumming(rows, width: 2 * cols, minPerChunk: minRows, into: sums) { rowRange, partial in
      backwardRows(
        rowRange, dx, dweight: partial, dbias: partial + cols, dy: dy, x: x, weight: weight, mean: mean, rstd: rstd,
        cols: cols)
    }
    for c in 0..<cols {
      dweight[c] += sums[c]
      dbias[c] += sums[cols + c]
    }
  }

  static func backwardRows(
    _ rowRange: Range<Int>, _ dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
    dbias: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, cols: Int
  ) {
    let invCols = 1 / Float(cols)
    for r in rowRange {
      let xr = x + r * cols
      let dyr = dy + r * cols
      let dxr = dx + r * cols
      let m = mean[r]
      let s = rstd[r]
      var gMean: Float = 0
      var gxhatMean: Float = 0
      for c in 0..<cols {
        let xhat = (xr[c] - m) * s
        let g = dyr[c] * weight[c]
        gMean = Relaxed.sum(gMean, g)
        gxhatMean = Relaxed.multiplyAdd(g, xhat, gxhatMean)
        dweight[c] += dyr[c] * xhat
        dbias[c] += dyr[c]
      }
      gMean *= invCols
      gxhatMean *= invCols
      for c in 0..<cols {
        let xhat = (xr[c] - m) * s
        dxr[c] = s * (dyr[c] * weight[c] - gMean - xhat * gxhatMean)
      }
    }
  }

  /// Fewest rows per parallel chunk: enough elements to be worth a thread.
  static func minRowsPerChunk(cols: Int) -> Int {
    Swift.max(1, ElementwiseKernels.parallelThreshold / 2 / Swift.max(cols, 1))
  }

  static func forEachRowChunk(rows: Int, cols: Int, _ body: (Range<Int>) -> Void) {
    Parallel.forEachChunk(rows, minPerThread: minRowsPerChunk(cols: cols), body)
  }
}
