import TensorCore

/// What `ELULinearAttention.backward` needs from its forward.
public struct ELULinearAttentionCache {
  public let context: ELULinearAttention.Context
  /// Projected queries and keys (the inputs) and their normalised ELU, with 1/‖ELU‖ per (row, head).
  public let queries: Tensor
  public let normalizedQueries: Tensor
  public let queryInverseNorms: Tensor
  public let keys: Tensor
  public let normalizedKeys: Tensor
  public let keyInverseNorms: Tensor
  public let values: Tensor
  /// Global context: each sequence's state [segments, heads, d_h, d_h] (empty for the causal context).
  public let states: Tensor
}

/// The parameter-free core of ELU-norm linear attention (GLINT-RU's attention expert, spec §1.3), per head h of
/// size d_h:
///
///     q̂ = ELU(q_h)/‖ELU(q_h)‖,  k̂ = ELU(k_h)/‖ELU(k_h)‖      (ELU without +1; L2 per token and head)
///     global: S_h = Σ_j w_j k̂_j v_jᵀ over every key of the sequence,  o = q̂ S_h / √d_h
///     causal: S_h,t = Σ_{s≤t} k̂_s v_sᵀ,                               o_t = q̂_t S_h,t / √d_h
///
/// The d_h × d_h state is formed first, so the cost is linear in the sequence length. Tensors are packed sequences
/// ([rows, heads·d_h], see `SequenceSegments`); in the global context queries and keys may have different segments
/// (e.g. one query per sequence), and key weights w_j let one row stand for several identical keys.
public final class ELULinearAttention {
  public enum Context {
    /// Every query of sequence b sees every key of sequence b (weights: one per key row, nil = all 1).
    case global(querySegments: SequenceSegments, keySegments: SequenceSegments, keyWeights: [Float]?)
    /// Queries, keys and values share the segments; a query sees the keys up to its own position.
    case causal(SequenceSegments)
  }

  public let headCount: Int
  public let headSize: Int
  public var dimension: Int { headCount * headSize }
  /// 1/√d_h
  public var scale: Float { 1 / Float(headSize).squareRoot() }

  public init(headCount: Int, dimension: Int) {
    precondition(
      headCount > 0 && dimension > 0 && dimension % headCount == 0,
      "attention: \(dimension) features do not split into \(headCount) heads")
    self.headCount = headCount
    self.headSize = dimension / headCount
  }

  /// q [queryRows, d], k and v [keyRows, d] → o [queryRows, d].
  public func forward(queries q: Tensor, keys k: Tensor, values v: Tensor, context: Context) -> (
    Tensor, ELULinearAttentionCache
  ) {
    let d = dimension
    let (querySegments, keySegments) = segments(context)
    precondition(
      q.count == querySegments.totalLength * d && k.count == keySegments.totalLength * d && v.count == k.count,
      "attention: q \(q.shape), k \(k.shape), v \(v.shape) do not match the segments and \(d) features")
    precondition(querySegments.count == keySegments.count, "attention: query and key segments differ in count")
    let (qHat, qInverse) = normalize(q)
    let (kHat, kInverse) = normalize(k)
    let out = Tensor(zeros: q.shape)
    let (heads, size, scale) = (headCount, headSize, self.scale)
    let stateSize = heads * size * size
    var states = Tensor(zeros: [0])
    switch context {
    case .global(_, _, let keyWeights):
      if let keyWeights {
        precondition(
          keyWeights.count == keySegments.totalLength,
          "attention: \(keyWeights.count) weights for \(keySegments.totalLength) keys")
      }
      states = Tensor(zeros: [keySegments.count, heads, size, size])
      let (sp, qp, kp, vp, op) = (states.ptr, qHat.ptr, kHat.ptr, v.ptr, out.ptr)
      withOptionalPointer(keyWeights) { weights in
        Parallel.forEachChunk(keySegments.count, minPerThread: 4) { rows in
          for b in rows {
            let (kr, qr) = (keySegments.range(b), querySegments.range(b))
            LinearAttentionKernels.accumulateState(
              sp + b * stateSize, keys: kp + kr.lowerBound * d, values: vp + kr.lowerBound * d,
              weights: weights.map { $0 + kr.lowerBound }, count: kr.count, heads: heads, headSize: size)
            LinearAttentionKernels.readout(
              op + qr.lowerBound * d, queries: qp + qr.lowerBound * d, state: sp + b * stateSize, count: qr.count,
              heads: heads, headSize: size, scale: scale)
          }
        }
      }
    case .causal(let segments):
      let (qp, kp, vp, op) = (qHat.ptr, kHat.ptr, v.ptr, out.ptr)
      Parallel.forEachChunk(segments.count, minPerThread: 4) { rows in
        let state = UnsafeMutablePointer<Float>.allocate(capacity: stateSize)
        defer { state.deallocate() }
        for b in rows {
          let r = segments.range(b)
          state.update(repeating: 0, count: stateSize)
          LinearAttentionKernels.causalForward(
            op + r.lowerBound * d, queries: qp + r.lowerBound * d, keys: kp + r.lowerBound * d,
            values: vp + r.lowerBound * d, state: state, count: r.count, heads: heads, headSize: size, scale: scale)
        }
      }
    }
    let cache = ELULinearAttentionCache(
      context: context, queries: q, normalizedQueries: qHat, queryInverseNorms: qInverse, keys: k,
      normalizedKeys: kHat, keyInverseNorms: kInverse, values: v, states: states)
    return (out, cache)
  }

  /// dOut [queryRows, d] → (dq, dk, dv), new tensors shaped like q, k, v.
  public func backward(_ dOut: Tensor, _ cache: ELULinearAttentionCache) -> (Tensor, Tensor, Tensor) {
    let d = dimension
    precondition(
      dOut.count == cache.queries.count, "attention backward: dOut \(dOut.shape) for q \(cache.queries.shape)")
    let dq = Tensor(zeros: cache.queries.shape)
    let dk = Tensor(zeros: cache.keys.shape)
    let dv = Tensor(zeros: cache.values.shape)
    let (heads, size, scale) = (headCount, headSize, self.scale)
    let stateSize = heads * size * size
    let (qp, kp, vp, dop) = (cache.normalizedQueries.ptr, cache.normalizedKeys.ptr, cache.values.ptr, dOut.ptr)
    let (dqp, dkp, dvp) = (dq.ptr, dk.ptr, dv.ptr)
    switch cache.context {
    case .global(let querySegments, let keySegments, let keyWeights):
      let sp = cache.states.ptr
      withOptionalPointer(keyWeights) { weights in
        Parallel.forEachChunk(keySegments.count, minPerThread: 4) { rows in
          let dState = UnsafeMutablePointer<Float>.allocate(capacity: stateSize)
          defer { dState.deallocate() }
          for b in rows {
            let (kr, qr) = (keySegments.range(b), querySegments.range(b))
            dState.update(repeating: 0, count: stateSize)
            LinearAttentionKernels.readoutBackward(
              dQueries: dqp + qr.lowerBound * d, dState: dState, dOut: dop + qr.lowerBound * d,
              queries: qp + qr.lowerBound * d, state: sp + b * stateSize, count: qr.count, heads: heads,
              headSize: size, scale: scale)
            LinearAttentionKernels.accumulateStateBackward(
              dKeys: dkp + kr.lowerBound * d, dValues: dvp + kr.lowerBound * d, dState: dState,
              keys: kp + kr.lowerBound * d, values: vp + kr.lowerBound * d,
              weights: weights.map { $0 + kr.lowerBound }, count: kr.count, heads: heads, headSize: size)
          }
        }
      }
    case .causal(let segments):
      Parallel.forEachChunk(segments.count, minPerThread: 4) { rows in
        let workspace = UnsafeMutablePointer<Float>.allocate(capacity: 2 * stateSize)
        defer { workspace.deallocate() }
        for b in rows {
          let o = segments.range(b).lowerBound * d
          LinearAttentionKernels.causalBackward(
            dQueries: dqp + o, dKeys: dkp + o, dValues: dvp + o, dOut: dop + o, queries: qp + o, keys: kp + o,
            values: vp + o, count: segments.length(b), heads: heads, headSize: size, scale: scale, state: workspace,
            dState: workspace + stateSize)
        }
      }
    }
    // Through the normalised ELU (in place: dq, dk hold the gradients w.r.t. q̂, k̂).
    LinearAttentionKernels.normalizedELUBackward(
      dq.ptr, dy: dq.ptr, x: cache.queries.ptr, y: cache.normalizedQueries.ptr, invNorm: cache.queryInverseNorms.ptr,
      rows: cache.queries.count / d, heads: heads, headSize: size)
    LinearAttentionKernels.normalizedELUBackward(
      dk.ptr, dy: dk.ptr, x: cache.keys.ptr, y: cache.normalizedKeys.ptr, invNorm: cache.keyInverseNorms.ptr,
      rows: cache.keys.count / d, heads: heads, headSize: size)
    return (dq, dk, dv)
  }

  // MARK: - Streaming (causal)

  /// One causal step for one token: q, k, v [d] → o [d]; `state` (heads·d_h² floats, zeros at the start) is
  /// updated to include this token.
  public func step(query q: [Float], key k: [Float], value v: [Float], state: inout [Float]) -> [Float] {
    let d = dimension
    precondition(q.count == d && k.count == d && v.count == d, "attention step: q, k, v must have \(d) features")
    precondition(state.count == headCount * headSize * headSize, "attention step: state has \(state.count) floats")
    let (qHat, _) = normalize(Tensor(shape: [1, d], values: q))
    let (kHat, _) = normalize(Tensor(shape: [1, d], values: k))
    let out = Tensor(zeros: [1, d])
    v.withUnsafeBufferPointer { v in
      state.withUnsafeMutableBufferPointer { s in
        LinearAttentionKernels.causalForward(
          out.ptr, queries: qHat.ptr, keys: kHat.ptr, values: v.baseAddress!, state: s.baseAddress!, count: 1,
          heads: headCount, headSize: headSize, scale: scale)
      }
    }
    return out.array
  }

  // MARK: - Helpers

  private func segments(_ context: Context) -> (SequenceSegments, SequenceSegments) {
    switch context {
    case .global(let q, let k, _): return (q, k)
    case .causal(let s): return (s, s)
    }
  }

  /// (ELU(x)/‖ELU(x)‖ per head, 1/‖ELU(x)‖ [rows, heads]).
  private func normalize(_ x: Tensor) -> (Tensor, Tensor) {
    let rows = x.count / dimension
    let y = Tensor(zeros: x.shape)
    let inverse = Tensor(zeros: [rows, headCount])
    LinearAttentionKernels.normalizedELUForward(
      y.ptr, invNorm: inverse.ptr, x.ptr, rows: rows, heads: headCount, headSize: headSize)
    return (y, inverse)
  }
}

/// Calls `body` with a pointer to the array's elements, or nil for a nil array.
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
  guard let array else { return body(nil) }
  return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
