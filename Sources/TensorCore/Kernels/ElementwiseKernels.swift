/// Element-wise vector kernels on raw pointers: outputs first, then inputs, then the element count.
///
/// Every loop is a plain contiguous loop the compiler vectorises. An output may alias an input of the same length
/// (in-place use), never a shifted view of it. Large arrays are split across threads with `Parallel.forEachChunk`.
public enum ElementwiseKernels {
  /// Element count from which kernels split work across threads (each thread gets at least half of it).
  public static let parallelThreshold = 65_536

  /// Runs `body` over `0..<count`, split across threads when `count` is at least `parallelThreshold`.
  public static func forEachChunk(_ count: Int, _ body: (Range<Int>) -> Void) {
    Parallel.forEachChunk(count, minPerThread: parallelThreshold / 2, body)
  }

  /// out = a + b
  public static func add(
    _ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int
  ) {
    forEachChunk(count) { r in
      for i in r { out[i] = a[i] + b[i] }
    }
  }

  /// out = a − b
  public static func subtract(
    _ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int
  ) {
    forEachChunk(count) { r in
      for i in r { out[i] = a[i] - b[i] }
    }
  }

  /// out = a ⊙ b
  public static func multiply(
    _ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int
  ) {
    forEachChunk(count) { r in
      for i in r { out[i] = a[i] * b[i] }
    }
  }

  /// y += alpha · x
  public static func axpy(
    _ y: UnsafeMutablePointer<Float>, alpha: Float, _ x: UnsafePointer<Float>, count: Int
  ) {
    forEachChunk(count) { r in
      for i in r { y[i] += alpha * x[i] }
    }
  }

  /// out = alpha · x
  public static func scale(
    _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, by alpha: Float, count: Int
  ) {
    forEachChunk(count) { r in
      for i in r { out[i] = alpha * x[i] }
    }
  }

  /// out[r, c] += row[c] for every row r of a rows×cols matrix (bias broadcast).
  public static func addRowVector(
    _ out: UnsafeMutablePointer<Float>, _ row: UnsafePointer<Float>, rows: Int, cols: Int
  ) {
    Parallel.forEachChunk(rows, minPerThread: max(1, parallelThreshold / 2 / max(cols, 1))) { rs in
      for r in rs {
        let o = out + r * cols
        for c in 0..<cols { o[c] += row[c] }
      }
    }
  }

  /// y += a ⊙ b over `count` elements, serially, with explicit 8-lane vectors: for loops that write one of several
  /// pointers the compiler cannot prove disjoint (e.g. two rows of one buffer), the vectoriser often left scalar
  /// code. Same arithmetic as the scalar loop (a multiply, then an add). y must not overlap a or b except exactly.
  @inlinable @inline(__always)
  public static func addProduct(
    _ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int
  ) {
    var j = 0
    while j + 8 <= count {
      let va = UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self)
      let vb = UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
      let vy = UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(y + j).storeBytes(of: vy + va * vb, as: SIMD8<Float>.self)
      j += 8
    }
    while j < count {
      y[j] += a[j] * b[j]
      j += 1
    }
  }

  /// out[r, c] = row[c] for every row r of a rows×cols matrix.
  public static func broadcastRow(
    _ out: UnsafeMutablePointer<Float>, _ row: UnsafePointer<Float>, rows: Int, cols: Int
  ) {
    for r in 0..<rows { (out + r * cols).update(from: row, count: cols) }
  }
}
