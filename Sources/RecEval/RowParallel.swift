import Dispatch
import Foundation

/// Splits independent score rows across cores. RecEval does not depend on TensorCore, so it has its own tiny
/// splitter; it only runs between model calls (after the scores are computed), never alongside BLAS threads.
enum RowParallel {
  /// Worker threads: `SEQREC_THREADS` if set (the same variable TensorCore's `Parallel` reads), else the cores.
  static let threadCount: Int = {
    if let text = ProcessInfo.processInfo.environment["SEQREC_THREADS"], let n = Int(text), n > 0 { return n }
    return max(1, ProcessInfo.processInfo.activeProcessorCount)
  }()

  /// Runs `body` over `0..<n` in contiguous chunks, one per worker; inline when the work is small.
  /// `body` must touch only memory owned by its own range.
  static func forEachChunk(_ n: Int, minPerWorker: Int, _ body: (Range<Int>) -> Void) {
    let workers = min(threadCount, n / max(1, minPerWorker))
    if workers <= 1 {
      if n > 0 { body(0..<n) }
      return
    }
    withoutActuallyEscaping(body) { body in
      let shared = UncheckedSendable(body)
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        let lo = n * w / workers
        let hi = n * (w + 1) / workers
        if hi > lo { shared.value(lo..<hi) }
      }
    }
  }
}

/// Carries a pointer or closure into `concurrentPerform`; every worker uses a disjoint range of the memory.
struct UncheckedSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
