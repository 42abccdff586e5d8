extension Parallel {
  /// Most chunks a reduction is split into. The split depends only on the problem size, never on the thread count,
  /// so a reduction gives the same bits on 1, 2 or 16 threads (a resumed run equals an uninterrupted one whatever
  /// `--threads` each used); worker threads each take a share of the chunks.
  public static let reductionChunkLimit = 8

  /// Chunks `n` items are split into for a reduction with at least `minPerChunk` items per chunk (1 = serial).
  public static func reductionChunkCount(_ n: Int, minPerChunk: Int) -> Int {
    max(1, min(reductionChunkLimit, n / max(1, minPerChunk)))
  }

  /// Runs `body(range, partial)` over `0..<n` split into `reductionChunkCount(n, minPerChunk:)` contiguous ranges,
  /// spread over the worker threads. Each range gets its own zeroed accumulator `partial` of `width` floats;
  /// afterwards the partials are added (`+=`) into `sum` in range order, so the result does not depend on the thread
  /// count or timing. Used by backward kernels that reduce parameter gradients over sequences or rows.
  public static func forEachChunkSumming(
    _ n: Int, width: Int, minPerChunk: Int = 1, into sum: UnsafeMutablePointer<Float>,
    _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void
  ) {
    guard n > 0 else { return }
    let chunks = reductionChunkCount(n, minPerChunk: minPerChunk)
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: chunks * width)
    defer { partials.deallocate() }
    partials.initialize(repeating: 0, count: chunks * width)
    let shared = UnsafeSendable(partials)
    withoutActuallyEscaping(body) { body in
      let work = UnsafeSendable(body)
      forEach(chunks) { chunk in
        let range = (n * chunk / chunks)..<(n * (chunk + 1) / chunks)
        if !range.isEmpty { work.value(range, shared.value + chunk * width) }
      }
    }
    for chunk in 0..<chunks {
      let p = partials + chunk * width
      for j in 0..<width { sum[j] += p[j] }
    }
  }
}
