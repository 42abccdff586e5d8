import CBLAS
import Foundation

/// Matrix products, and the check of the kernels OpenBLAS runs. One of the three files that import the BLAS binding
/// (with `Parallel` and `DenormalMode`).
///
/// All matrices are row-major. `c = alpha · op(a) · op(b) + beta · c`, op = transpose when the flag is set.
/// op(a) is m×k, op(b) is k×n, c is m×n.
public enum BLAS {
  @inlinable
  public static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    Parallel.defaultsApplied
    if m == 0 || n == 0 { return }
    if k == 0 {
      if beta == 0 {
        for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
      } else if beta != 1 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
      }
      return
    }
    if m == 1 {
      // One output row (streaming inference): a matrix-vector product, since sgemm packs all of op(b) on every
      // call, which made packing the largest cost of a one-item step. op(a) is a 1×k row: contiguous, or a
      // column of a k×1 view with stride lda when transposed.
      if beta == 0 { c.update(repeating: 0, count: n) }  // c may be uninitialised; never scale garbage by 0
      cblas_sgemv(
        CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n), alpha, b,
        Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
      return
    }
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }

  /// y = alpha · op(a) · x + beta · y, a is m×n row-major.
  @inlinable
  public static func gemv(
    trans: Bool, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
  ) {
    Parallel.defaultsApplied
    if m == 0 || n == 0 { return }
    cblas_sgemv(
      CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
  }

  /// Naive triple loop with the same contract as `gemm`, accumulating in Double. The reference for tests.
  public static func naiveGemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    for i in 0..<m {
      for j in 0..<n {
        var s = 0.0
        for p in 0..<k {
          let av = transA ? a[p * lda + i] : a[i * lda + p]
          let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
          s += Double(av) * Double(bv)
        }
        let prior = beta == 0 ? 0 : beta * c[i * ldc + j]
        c[i * ldc + j] = alpha * Float(s) + prior
      }
    }
  }

  /// The kernel set OpenBLAS runs (`openblas_get_corename`), e.g. "Haswell", "SkylakeX", "Zen".
  public static var coreName: String { String(cString: openblas_get_corename()) }

  /// The kernel set OpenBLAS chose and the one seqrec made it run instead (`kernelsChecked`), or nil.
  public static var replacedCore: (chosen: String, running: String)? {
    kernelsChecked
    return _replacedCore
  }
  nonisolated(unsafe) private static var _replacedCore: (chosen: String, running: String)?

  /// OpenBLAS before 0.3.25 (Debian 12 ships 0.3.21) falls back to its SSE3 "Prescott" kernels on an Intel CPU its
  /// model table does not know (OpenBLAS issue #4267, fixed by its PR #4268), such as the AVX-512 Xeon (family 6,
  /// model 207) this was found on: a 1024³ product ran at 21 GFLOP/s on one core instead of 134. Evaluated once,
  /// before the first product (`Parallel`): where OpenBLAS chose Prescott on a CPU with AVX2 and FMA and
  /// `OPENBLAS_CORETYPE` is not set, it sets that variable to the kernels OpenBLAS picks on such CPUs when it knows
  /// them (`coreTypeReplacing`) and re-runs OpenBLAS's own selection (`gotoblas_dynamic_quit`, then
  /// `gotoblas_dynamic_init`, which read the variable exactly as at load time). Any other choice, and a variable the
  /// user set, is left alone; so is a BLAS without those two functions.
  @usableFromInline static let kernelsChecked: Void = {
    let chosen = coreName
    guard
      let replacement = coreTypeReplacing(
        chosen: chosen, coreTypeSet: getenv("OPENBLAS_CORETYPE") != nil, avx2FMA: cpuSupportsAVX2FMA,
        avx512: cpuSupportsAVX512),
      let quit = openBLASFunction("gotoblas_dynamic_quit"), let initialise = openBLASFunction("gotoblas_dynamic_init")
    else { return }
    setenv("OPENBLAS_CORETYPE", replacement, 1)
    quit()
    initialise()
    _replacedCore = (chosen, coreName)
  }()

  /// Whether the CPU (and OS) supports AVX2 with FMA, and AVX-512 F/BW/DQ/VL.
  public static var cpuSupportsAVX2FMA: Bool { seqrec_cpu_has_avx2_fma() != 0 }
  public static var cpuSupportsAVX512: Bool { seqrec_cpu_has_avx512() != 0 }

  /// The kernels to run instead of OpenBLAS's choice, or nil to keep it: only its Prescott fallback on a CPU
  /// with AVX2 + FMA (SkylakeX with AVX-512 F/BW/DQ/VL, else Haswell), and only when `OPENBLAS_CORETYPE` is unset.
  public static func coreTypeReplacing(chosen: String, coreTypeSet: Bool, avx2FMA: Bool, avx512: Bool) -> String? {
    guard !coreTypeSet, chosen == "Prescott", avx2FMA else { return nil }
    return avx512 ? "SkylakeX" : "Haswell"
  }

  /// Stops OpenBLAS's worker threads; its next threaded product starts new ones from the calling thread, which
  /// inherit that thread's floating-point mode (`DenormalMode`). Its first threads started when the library
  /// loaded, before seqrec could set the mode. No-op for a BLAS without `blas_thread_shutdown_`.
  static func restartThreads() { openBLASFunction("blas_thread_shutdown_")?() }

  /// A `void f(void)` function exported by the loaded OpenBLAS, looked up by name.
  private static func openBLASFunction(_ name: String) -> (@convention(c) () -> Void)? {
    guard let symbol = dlsym(dlopen(nil, RTLD_NOW), name) else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) () -> Void).self)
  }

  /// Sets the number of threads OpenBLAS may use.
  public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
  public static var threads: Int { Int(openblas_get_num_threads()) }
  public static var configuration: String { String(cString: openblas_get_config()) }
}

extension Tensor {
  /// c (m×n) = alpha · op(a) · op(b) + beta · c for 2-D tensors (leading dims of rank>2 tensors are flattened).
  public static func matmul(
    _ a: Tensor, transA: Bool = false, _ b: Tensor, transB: Bool = false,
    into c: Tensor, alpha: Float = 1, beta: Float = 0
  ) {
    let (ar, ac) = a.matrixShape
    let (br, bc) = b.matrixShape
    let m = transA ? ac : ar
    let k = transA ? ar : ac
    let kb = transB ? bc : br
    let n = transB ? br : bc
    precondition(
      k == kb, "matmul inner dimensions differ: \(a.shape)\(transA ? "ᵀ" : "") · \(b.shape)\(transB ? "ᵀ" : "")")
    precondition(c.count == m * n, "matmul output \(c.shape) is not \(m)×\(n)")
    BLAS.gemm(
      transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
      a: a.ptr, lda: ac, b: b.ptr, ldb: bc, beta: beta, c: c.ptr, ldc: n)
  }

  /// (rows, columns) viewing all leading dimensions as rows.
  public var matrixShape: (Int, Int) {
    guard let last = shape.last else { return (1, 1) }
    return (count / max(last, 1), last)
  }
}
