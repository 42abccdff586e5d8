import TensorCore

/// Variable-length sequences in time-major packed order (PyTorch `PackedSequence`): sequences are ranked by
/// non-increasing length, and step t holds the `batchSizes[t]` sequences still running, in rank order. Every step's
/// block is then a prefix of the previous step's block, so a recurrence runs one gemm per step over exactly the
/// sequences that need it, whatever the mix of lengths.
public struct PackedSequenceLayout: Sendable, Equatable {
  /// Steps of each sequence, in the caller's order.
  public let lengths: [Int]
  /// rank[b]: position of sequence b among the sequences sorted by non-increasing length (ties keep their order).
  public let rank: [Int]
  /// batchSizes[t]: sequences with more than t steps.
  public let batchSizes: [Int]
  /// stepOffsets[t]: first packed row of step t (steps + 1 entries).
  public let stepOffsets: [Int]

  public init(lengths: [Int]) {
    precondition(lengths.allSatisfy { $0 >= 0 }, "PackedSequenceLayout: negative length in \(lengths)")
    self.lengths = lengths
    let order = lengths.indices.sorted { lengths[$0] > lengths[$1] || (lengths[$0] == lengths[$1] && $0 < $1) }
    var rank = [Int](repeating: 0, count: lengths.count)
    for (r, b) in order.enumerated() { rank[b] = r }
    self.rank = rank
    let steps = lengths.max() ?? 0
    batchSizes = (0..<steps).map { t in lengths.reduce(0) { $0 + ($1 > t ? 1 : 0) } }
    var offsets = [0]
    for m in batchSizes { offsets.append(offsets[offsets.count - 1] + m) }
    stepOffsets = offsets
  }

  public var steps: Int { batchSizes.count }
  public var totalCount: Int { stepOffsets[stepOffsets.count - 1] }

  /// Packed row of step t of sequence b (t < lengths[b]).
  @inlinable public func index(sequence b: Int, step t: Int) -> Int { stepOffsets[t] + rank[b] }

  /// The first lengths[b] rows of each segment of x ([segments.totalLength, F], segment b at least lengths[b]
  /// long) → [totalCount, F].
  public func pack(_ x: Tensor, segments: SequenceSegments) -> Tensor {
    let features = x.shape.last ?? 1
    let packed = Tensor(zeros: [totalCount, features])
    for b in 0..<lengths.count {
      precondition(segments.length(b) >= lengths[b], "pack: segment \(b) is shorter than \(lengths[b]) steps")
      for t in 0..<lengths[b] {
        (packed.ptr + index(sequence: b, step: t) * features).update(
          from: x.ptr + (segments.offsets[b] + t) * features, count: features)
      }
    }
    return packed
  }

  /// The adjoint of `pack`: packed rows back in place in a zero tensor [segments.totalLength, F].
  public func unpack(_ packed: Tensor, segments: SequenceSegments) -> Tensor {
    let features = packed.shape.last ?? 1
    let x = Tensor(zeros: [segments.totalLength, features])
    for b in 0..<lengths.count {
      for t in 0..<lengths[b] {
        (x.ptr + (segments.offsets[b] + t) * features).update(
          from: packed.ptr + index(sequence: b, step: t) * features, count: features)
      }
    }
    return x
  }
}

/// What `GRU.backward(packed:_:)` needs from `forward(packed:layout:)`.
public struct PackedGRUCache {
  public let input: Tensor
  public let layout: PackedSequenceLayout
  /// r, z, n of every packed row, [total, 3H].
  public let gates: Tensor
  /// W_hn h_{t−1} + b_hn, [total, H].
  public let candidateRecurrent: Tensor
  /// h_t of every packed row, [total, H]: the tensor the forward returned.
  public let hidden: Tensor
}

extension GRU {
  /// Runs each sequence for its own number of steps: x [layout.totalCount, I] packed time-major → h of every step,
  /// packed the same way. Each sequence gives exactly what `forward(_:steps:)` gives for it alone.
  public func forward(packed x: Tensor, layout: PackedSequenceLayout) -> (Tensor, PackedGRUCache) {
    let (total, hidden) = (layout.totalCount, hiddenSize)
    precondition(
      x.count == total * inputSize, "GRU: packed input \(x.shape) is not [\(total), \(inputSize)]")
    let gates = Tensor(zeros: [total, 3 * hidden])
    let candidateRecurrent = Tensor(zeros: [total, hidden])
    let out = Tensor(zeros: [total, hidden])
    projectInput(x.ptr, rows: total, into: gates.ptr)
    let recurrent = Tensor(zeros: [layout.batchSizes.first ?? 0, 3 * hidden])
    let (gp, cp, hp, rp) = (gates.ptr, candidateRecurrent.ptr, out.ptr, recurrent.ptr)
    let bhh = biasHH.map { UnsafePointer($0.value.ptr) }
    let rowsPerThread = self.rowsPerThread
    for t in 0..<layout.steps {
      let (m, current) = (layout.batchSizes[t], layout.stepOffsets[t])
      let previous = t > 0 ? layout.stepOffsets[t - 1] : 0
      if t > 0 {
        // recurrent [m, 3H] = h_{t−1} · W_hhᵀ for the m sequences still running (a prefix of step t−1's block)
        BLAS.gemm(
          transA: false, transB: true, m: m, n: 3 * hidden, k: hidden, a: hp + previous * hidden, lda: hidden,
          b: weightHH.value.ptr, ldb: hidden, c: rp, ldc: 3 * hidden)
      }
      Parallel.forEachChunk(m, minPerThread: rowsPerThread) { rows in
        for i in rows {
          let gate = gp + (current + i) * 3 * hidden
          gruCell(
            inputProjection: gate, recurrent: rp + i * 3 * hidden, biasHH: bhh,
            previous: t > 0 ? UnsafePointer(hp + (previous + i) * hidden) : nil, hiddenSize: hidden, gates: gate,
            candidateRecurrent: cp + (current + i) * hidden, next: hp + (current + i) * hidden)
        }
      }
    }
    let cache = PackedGRUCache(
      input: x, layout: layout, gates: gates, candidateRecurrent: candidateRecurrent, hidden: out)
    return (out, cache)
  }

  /// dy [total, H] packed → dx [total, I] packed (new). Accumulates into every parameter's `grad`.
  public func backward(packed dy: Tensor, _ cache: PackedGRUCache) -> Tensor {
    let layout = cache.layout
    let (total, hidden) = (layout.totalCount, hiddenSize)
    precondition(dy.count == total * hidden, "GRU.backward: packed dy \(dy.shape) is not [\(total), \(hidden)]")
    let dx = Tensor(zeros: [total, inputSize])
    if total == 0 { return dx }
    let width = layout.batchSizes[0]
    let dInputProjection = Tensor(zeros: [total, 3 * hidden])
    let dRecurrent = Tensor(zeros: [width, 3 * hidden])
    let sumRecurrent = biasHH != nil
    let dRecurrentSum = Tensor(zeros: sumRecurrent ? [width, 3 * hidden] : [0])
    let dCarry = Tensor(zeros: [width, hidden])
    let (gp, cp, hp, yp) = (cache.gates.ptr, cache.candidateRecurrent.ptr, cache.hidden.ptr, dy.ptr)
    let (dip, drp, dsp, dcp) = (dInputProjection.ptr, dRecurrent.ptr, dRecurrentSum.ptr, dCarry.ptr)
    let rowsPerThread = self.rowsPerThread
    for t in (0..<layout.steps).reversed() {
      let (m, current) = (layout.batchSizes[t], layout.stepOffsets[t])
      let previous = t > 0 ? layout.stepOffsets[t - 1] : 0
      // A sequence enters this loop at its last step with a zero carry (ranks ≥ m were never touched).
      Parallel.forEachChunk(m, minPerThread: rowsPerThread) { rows in
        for i in rows {
          gruCellBackward(
            gates: gp + (current + i) * 3 * hidden, candidateRecurrent: cp + (current + i) * hidden,
            previous: t > 0 ? UnsafePointer(hp + (previous + i) * hidden) : nil, dNext: yp + (current + i) * hidden,
            carry: dcp + i * hidden, hiddenSize: hidden, dInputProjection: dip + (current + i) * 3 * hidden,
            dRecurrent: drp + i * 3 * hidden)
          if sumRecurrent {
            let (sum, d) = (dsp + i * 3 * hidden, drp + i * 3 * hidden)
            for j in 0..<3 * hidden { sum[j] += d[j] }
          }
        }
      }
      if t > 0 {
        // dW_hh += dGhᵀ · h_{t−1};  carry += dGh · W_hh   (over the m running sequences)
        BLAS.gemm(
          transA: true, transB: false, m: 3 * hidden, n: hidden, k: m, a: drp, lda: 3 * hidden,
          b: hp + previous * hidden, ldb: hidden, beta: 1, c: weightHH.grad.ptr, ldc: hidden)
        BLAS.gemm(
          transA: false, transB: false, m: m, n: hidden, k: 3 * hidden, a: drp, lda: 3 * hidden,
          b: weightHH.value.ptr, ldb: hidden, beta: 1, c: dcp, ldc: hidden)
      }
    }
    // dW_ih += dGiᵀ · x;  dx = dGi · W_ih
    BLAS.gemm(
      transA: true, transB: false, m: 3 * hidden, n: inputSize, k: total, a: dip, lda: 3 * hidden,
      b: cache.input.ptr, ldb: inputSize, beta: 1, c: weightIH.grad.ptr, ldc: inputSize)
    BLAS.gemm(
      transA: false, transB: false, m: total, n: inputSize, k: 3 * hidden, a: dip, lda: 3 * hidden,
      b: weightIH.value.ptr, ldb: inputSize, c: dx.ptr, ldc: inputSize)
    if let biasIH { addColumnSums(dip, rows: total, width: 3 * hidden, into: biasIH.grad.ptr) }
    if let biasHH { addColumnSums(dsp, rows: width, width: 3 * hidden, into: biasHH.grad.ptr) }
    return dx
  }
}
