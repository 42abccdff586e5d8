extension Parallel {
  /// Runs `body(range, partial)` over `0..<n` split into contiguous ranges (one per worker thread). Each worker gets
  /// its own zeroed accumulator `partial` of `width` floats; afterwards the partials are added (`+=`) into `sum` in
  /// worker order, so the result is deterministic for a given thread count. Used by backward kernels that reduce
  /// parameter gradients over sequences or rows.
  public static func forEachChunkSumming(
    _ n: Int, width: Int, minPerThread: Int = 1, into sum: UnsafeMutablePointer<Float>,
    _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void
  ) {
    guard n > 0 else { return }
    let workers = max(1, min(appThreads, n / max(1, minPerThread)))
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: workers * width)
    defer { partials.deallocate() }
    partials.initialize(repeating: 0, count: workers * width)
    let shared = UnsafeSendable(partials)
    withoutActuallyEscaping(body) { body in
      let work = UnsafeSendable(body)
      forEach(workers) { w in
        let range = (n * w / workers)..<(n * (w + 1) / workers)
        if !range.isEmpty { work.value(range, shared.value + w * width) }
      }
    }
    for w in 0..<workers {
      let p = partials + w * width
      for j in 0..<width { sum[j] += p[j] }
    }
  }
}
