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
    let chunks = rowChunkCount(rows: rows, cols: cols)
    if chunks <= 1 {
      backwardRows(
        0..<rows, dx, dweight: dweight, dbias: dbias, dy: dy, x: x, weight: weight, mean: mean, rstd: rstd, cols: cols)
      return
    }
    // Each chunk accumulates its parameter gradients privately; the partial sums are added in chunk order, and the
    // chunks depend only on the shape, so the result does not depend on the thread count or timing.
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: 2 * chunks * cols)
    partial.initialize(repeating: 0, count: 2 * chunks * cols)
    defer { partial.deallocate() }
    Parallel.forEach(chunks) { chunk in
      let lo = rows * chunk / chunks
      let hi = rows * (chunk + 1) / chunks
      let pw = partial + 2 * chunk * cols
      backwardRows(
        lo..<hi, dx, dweight: pw, dbias: pw + cols, dy: dy, x: x, weight: weight, mean: mean, rstd: rstd, cols: cols)
    }
    for chunk in 0..<chunks {
      let pw = partial + 2 * chunk * cols
      for c in 0..<cols {
        dweight[c] += pw[c]
        dbias[c] += pw[cols + c]
      }
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

  /// Number of row chunks the backward's parameter-gradient reduction splits rows × cols elements into (1 = serial);
  /// a function of the shape only (see `Parallel.reductionChunkLimit`).
  static func rowChunkCount(rows: Int, cols: Int) -> Int {
    let minRows = Swift.max(1, ElementwiseKernels.parallelThreshold / 2 / Swift.max(cols, 1))
    return Parallel.reductionChunkCount(rows, minPerChunk: minRows)
  }

  static func forEachRowChunk(rows: Int, cols: Int, _ body: (Range<Int>) -> Void) {
    let minRows = Swift.max(1, ElementwiseKernels.parallelThreshold / 2 / Swift.max(cols, 1))
    Parallel.forEachChunk(rows, minPerThread: minRows, body)
  }
}
