import CBLAS
import Dispatch
import Foundation

/// Who runs work on more than one core. Exactly one owner at a time (never OpenBLAS threads *and* our own
/// `parallelFor` at once): with `.blas`, `parallelFor` runs serially; with `.app`, OpenBLAS is pinned to 1 thread.
public enum ParallelismOwner: String, Sendable, CaseIterable {
  case app
  case blas
}

public enum Parallel {
  nonisolated(unsafe) private static var _owner: ParallelismOwner = .app
  nonisolated(unsafe) private static var _threads: Int = defaultThreads

  /// Threads available: `SEQREC_THREADS` or `OPENBLAS_NUM_THREADS` if set, else the number of active cores.
  public static var defaultThreads: Int {
    let env = ProcessInfo.processInfo.environment
    if let s = env["SEQREC_THREADS"], let n = Int(s), n > 0 { return n }
    if let s = env["OPENBLAS_NUM_THREADS"], let n = Int(s), n > 0 { return n }
    return ProcessInfo.processInfo.activeProcessorCount
  }

  nonisolated(unsafe) private static var _configured = false

  /// Evaluated once, before the first BLAS product (`BLAS.gemm`/`gemv`): if `configure` has not been called, applies
  /// the default (the app owns parallelism, so OpenBLAS gets one thread). Without it a library user who never calls
  /// `configure` would run OpenBLAS's threads (one per core, started by the library itself) under seqrec's own: two
  /// owners, and OpenBLAS's spinning threads made a small training ~100× slower on a busy machine.
  /// It also fixes OpenBLAS's kernel choice where it fell back to its slowest kernels (`BLAS.kernelsChecked`) and,
  /// without `configure`, makes the calling thread flush denormals (`DenormalMode`).
  @usableFromInline static let defaultsApplied: Void = {
    BLAS.kernelsChecked
    if !_configured {
      openblas_set_num_threads(1)
      DenormalMode.setFlushingOnCurrentThread(true)
    }
  }()

  public static var owner: ParallelismOwner { _owner }
  /// Threads used by `parallelFor` (1 when BLAS owns parallelism).
  public static var appThreads: Int { _owner == .app ? _threads : 1 }

  /// Sets the owner of parallelism, the thread count and the calling thread's denormal mode (`DenormalMode`; flushed
  /// unless `flushDenormals` is false). Call once at start-up, on the thread that starts the work (not
  /// thread-safe). With `.blas`, OpenBLAS's threads are restarted so that they compute in that mode too.
  public static func configure(owner: ParallelismOwner, threads: Int = defaultThreads, flushDenormals: Bool = true) {
    BLAS.kernelsChecked
    _configured = true
    _owner = owner
    _threads = max(1, threads)
    DenormalMode.setFlushingOnCurrentThread(flushDenormals)
    openblas_set_num_threads(Int32(owner == .blas ? _threads : 1))
    if owner == .blas { BLAS.restartThreads() }
  }

  /// Runs `body` over `0..<n` split into contiguous chunks, one per worker thread, each in the calling thread's
  /// denormal mode. Runs inline when there is one thread or `n < minPerThread * 2`.
  public static func forEachChunk(_ n: Int, minPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
    let workers = isInsideWorker ? 1 : min(appThreads, n / max(1, minPerThread))
    if workers <= 1 {
      if n > 0 { body(0..<n) }
      return
    }
    let flushDenormals = DenormalMode.isFlushingOnCurrentThread
    withoutActuallyEscaping(body) { body in
      let box = UnsafeSendable(body)
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        let lo = n * w / workers
        let hi = n * (w + 1) / workers
        guard hi > lo else { return }
        let wasInside = isInsideWorker
        setInsideWorker(true)
        DenormalMode.withFlushing(flushDenormals) { box.value(lo..<hi) }
        setInsideWorker(wasInside)
      }
    }
  }

  /// True on a thread that is already running a chunk of a parallel loop: nested loops then run serially, so
  /// work split at an outer level (e.g. data-parallel micro-batches) is not split again inside layers.
  public static var isInsideWorker: Bool { pthread_getspecific(insideWorkerKey) != nil }

  private static func setInsideWorker(_ inside: Bool) {
    pthread_setspecific(insideWorkerKey, inside ? UnsafeRawPointer(bitPattern: 1) : nil)
  }

  private static let insideWorkerKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  /// Runs `body(i)` for every i in `0..<n`, chunked across worker threads.
  public static func forEach(_ n: Int, minPerThread: Int = 1, _ body: (Int) -> Void) {
    forEachChunk(n, minPerThread: minPerThread) { r in for i in r { body(i) } }
  }
}

/// Wraps a non-Sendable value (a pointer or closure) for use inside `concurrentPerform`.
/// Only `Parallel` and kernels that hand disjoint memory ranges to each worker use it.
public struct UnsafeSendable<T>: @unchecked Sendable {
  public let value: T
  public init(_ value: T) { self.value = value }
}
