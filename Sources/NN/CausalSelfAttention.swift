import Foundation
import TensorCore

/// What `CausalSelfAttention.backward` needs from one forward pass.
public struct CausalSelfAttentionCache {
  /// The inputs, [B, L, d] each (the caller's tensors, not copies: do not modify them before backward).
  public let q: Tensor
  public let k: Tensor
  public let v: Tensor
  /// Valid (non-padding) prefix length of each row, in 0...L.
  public let lengths: [Int]
  /// Softmax probabilities before dropout, [B, h, L, L] (query row, key column). With exact masking the masked
  /// entries, and every entry of a fully masked row, are exactly 0.
  public let probs: Tensor
  /// Inverted-dropout multipliers (0 or 1/(1−p)) shaped like `probs`; nil when no dropout was applied.
  public let dropMask: Tensor?
}

/// The multi-head scaled-dot-product core of RecBole's SASRec `MultiHeadAttention`, without the q/k/v/output
/// projections, residual and LayerNorm (the model composes those).
///
/// Inputs q, k, v are [B, L, d]; head `j` owns features `j·d_h ..< (j+1)·d_h` (d_h = d/h). Rows are left-aligned and
/// right-padded (RecBole): positions `0..<length` are real items, positions ≥ length are padding. Query `t` may
/// attend key `s` iff `s ≤ t` and `s < length`; so with right padding a query at a padding position still sees
/// every real item, and only a row with `length == 0` has queries without any key.
///
///     scores = q_h · k_hᵀ / sqrt(d_h) + mask,  probs = softmax over keys,  out_h = dropout(probs) · v_h
///
/// `maskValue` selects the mask:
/// - `-.infinity` (default): exact masking. Masked probabilities are exactly 0, and a query with no allowed key
///   outputs zeros and passes no gradient (never NaN).
/// - a finite value, e.g. RecBole's `-10000`: added to masked scores before a softmax over all L keys. In Float,
///   exp(−10000 + …) underflows to exactly 0, so the results equal exact masking for every query that has at least
///   one allowed key; a fully masked query (length 0) then gets RecBole's behaviour, a softmax over the raw scores of
///   all L keys (the common offset cancels, so it is not added: this avoids Float rounding of −10000 + score).
///
/// Attention-probability dropout is inverted dropout with rate `dropout`, seeded from the caller's `SeededRNG` (one
/// stream per (row, head), so the mask is independent of threading) and cached for backward.
public struct CausalSelfAttention: Sendable {
  public let heads: Int
  public let dropout: Float
  public let maskValue: Float

  public init(heads: Int, dropout: Float = 0, maskValue: Float = -.infinity) {
    precondition(heads >= 1, "CausalSelfAttention: heads must be ≥ 1, got \(heads)")
    precondition(dropout >= 0 && dropout < 1, "CausalSelfAttention: dropout must be in [0, 1), got \(dropout)")
    precondition(
      maskValue == -.infinity || maskValue.isFinite, "CausalSelfAttention: maskValue must be −inf or finite")
    self.heads = heads
    self.dropout = dropout
    self.maskValue = maskValue
  }

  /// True when masked keys are skipped (−inf semantics) rather than offset by a finite `maskValue`.
  public var masksExactly: Bool { maskValue == -.infinity }

  // MARK: - Forward

  /// Evaluation forward (no dropout).
  public func forward(q: Tensor, k: Tensor, v: Tensor, lengths: [Int32]) -> (Tensor, CausalSelfAttentionCache) {
    run(q: q, k: k, v: v, lengths: lengths, dropoutSeeds: nil)
  }

  /// Forward with attention dropout when `training` and `dropout > 0`. `rng` gives one seed per (row, head), drawn
  /// serially, so the mask does not depend on how the work is split across threads.
  public func forward(
    q: Tensor, k: Tensor, v: Tensor, lengths: [Int32], training: Bool, rng: inout SeededRNG
  ) -> (Tensor, CausalSelfAttentionCache) {
    guard training && dropout > 0 else { return run(q: q, k: k, v: v, lengths: lengths, dropoutSeeds: nil) }
    let seeds = (0..<(q.shape.first ?? 0) * heads).map { _ in rng.next() }
    return run(q: q, k: k, v: v, lengths: lengths, dropoutSeeds: seeds)
  }

  private func run(
    q: Tensor, k: Tensor, v: Tensor, lengths rawLengths: [Int32], dropoutSeeds: [UInt64]?
  ) -> (Tensor, CausalSelfAttentionCache) {
    precondition(q.rank == 3, "CausalSelfAttention: q must be [B, L, d], got \(q.shape)")
    precondition(
      k.shape == q.shape && v.shape == q.shape, "CausalSelfAttention: q \(q.shape), k \(k.shape), v \(v.shape) differ")
    let (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2])
    precondition(width % heads == 0, "CausalSelfAttention: d = \(width) is not divisible by \(heads) heads")
    precondition(rawLengths.count == batch, "CausalSelfAttention: \(rawLengths.count) lengths for batch \(batch)")
    let lengths = rawLengths.map { Int($0) }
    for (row, n) in lengths.enumerated() {
      precondition(n >= 0 && n <= length, "CausalSelfAttention: lengths[\(row)] = \(n) is outside 0...\(length)")
    }
    let headSize = width / heads
    let scale = 1 / Float(headSize).squareRoot()
    let probs = Tensor(zeros: [batch, heads, length, length])
    let out = Tensor(zeros: [batch, length, width])
    let (qp, kp, vp, pp, op) = (q.ptr, k.ptr, v.ptr, probs.ptr, out.ptr)
    let (exact, maskValue, heads, dropout) = (masksExactly, self.maskValue, self.heads, self.dropout)
    let dropMask = dropoutSeeds == nil ? nil : Tensor(zeros: [batch, heads, length, length])
    let maskPtr = dropMask?.ptr

    Parallel.forEachChunk(batch * heads) { pairs in
      let weights = UnsafeMutablePointer<Float>.allocate(capacity: maskPtr == nil ? 1 : length * length)
      defer { weights.deallocate() }
      for pair in pairs {
        let (b, head) = (pair / heads, pair % heads)
        let valid = lengths[b]
        let keyCount = exact ? valid : length
        let headOffset = b * length * width + head * headSize
        let p = pp + pair * length * length
        // scores [L, keyCount] = scale · q_h · k_hᵀ
        BLAS.gemm(
          transA: false, transB: true, m: length, n: keyCount, k: headSize, alpha: scale,
          a: qp + headOffset, lda: width, b: kp + headOffset, ldb: width, c: p, ldc: length)
        for t in 0..<length {
          maskedSoftmaxRow(p + t * length, keyCount: keyCount, allowed: min(t + 1, valid), maskValue: maskValue)
        }
        var w = UnsafePointer(p)
        if let dm = maskPtr.map({ $0 + pair * length * length }), let dropoutSeeds {
          // Inverted dropout on the keys that can carry probability (entries s ≥ keyCount stay 0, unused).
          var pairRNG = SeededRNG(seed: dropoutSeeds[pair])
          let keep = 1 / (1 - dropout)
          for t in 0..<length {
            for s in 0..<keyCount {
              let i = t * length + s
              dm[i] = pairRNG.nextFloat() < dropout ? 0 : keep
              weights[i] = p[i] * dm[i]
            }
          }
          w = UnsafePointer(weights)
        }
        // out_h [L, d_h] = weights [L, keyCount] · v_h [keyCount, d_h]
        BLAS.gemm(
          transA: false, transB: false, m: length, n: headSize, k: keyCount,
          a: w, lda: length, b: vp + headOffset, ldb: width, c: op + headOffset, ldc: width)
      }
    }
    let cache = CausalSelfAttentionCache(q: q, k: k, v: v, lengths: lengths, probs: probs, dropMask: dropMask)
    return (out, cache)
  }

  // MARK: - Backward

  /// Gradients of the inputs for upstream gradient `dy` [B, L, d] (fresh tensors; this layer has no parameters).
  public func backward(_ dy: Tensor, _ cache: CausalSelfAttentionCache) -> (dq: Tensor, dk: Tensor, dv: Tensor) {
    let (q, k, v) = (cache.q, cache.k, cache.v)
    precondition(dy.shape == q.shape, "CausalSelfAttention.backward: dy \(dy.shape) does not match \(q.shape)")
    let (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2])
    let headSize = width / heads
    let scale = 1 / Float(headSize).squareRoot()
    let (dq, dk, dv) = (Tensor(zeros: q.shape), Tensor(zeros: q.shape), Tensor(zeros: q.shape))
    let (qp, kp, vp, pp, gp) = (q.ptr, k.ptr, v.ptr, cache.probs.ptr, dy.ptr)
    let (dqp, dkp, dvp) = (dq.ptr, dk.ptr, dv.ptr)
    let maskPtr = cache.dropMask?.ptr
    let (exact, heads, lengths) = (masksExactly, self.heads, cache.lengths)

    Parallel.forEachChunk(batch * heads) { pairs in
      let weights = UnsafeMutablePointer<Float>.allocate(capacity: maskPtr == nil ? 1 : length * length)
      let dScores = UnsafeMutablePointer<Float>.allocate(capacity: length * length)
      defer {
        weights.deallocate()
        dScores.deallocate()
      }
      for pair in pairs {
        let (b, head) = (pair / heads, pair % heads)
        let valid = lengths[b]
        let keyCount = exact ? valid : length
        if keyCount == 0 { continue }
        let headOffset = b * length * width + head * headSize
        let p = UnsafePointer(pp + pair * length * length)
        let dm = maskPtr.map { UnsafePointer($0 + pair * length * length) }
        var w = p
        if let dm {
          for t in 0..<length {
            for s in 0..<keyCount { weights[t * length + s] = p[t * length + s] * dm[t * length + s] }
          }
          w = UnsafePointer(weights)
        }
        // dv_h [keyCount, d_h] = weightsᵀ · dy_h
        BLAS.gemm(
          transA: true, transB: false, m: keyCount, n: headSize, k: length,
          a: w, lda: length, b: gp + headOffset, ldb: width, c: dvp + headOffset, ldc: width)
        // dweights [L, keyCount] = dy_h · v_hᵀ, then through dropout and the softmax (into dScores in place)
        BLAS.gemm(
          transA: false, transB: true, m: length, n: keyCount, k: headSize,
          a: gp + headOffset, lda: width, b: vp + headOffset, ldb: width, c: dScores, ldc: length)
        for t in 0..<length {
          let row = dScores + t * length
          if let dm { for s in 0..<keyCount { row[s] *= dm[t * length + s] } }
          let allowed = exact ? min(t + 1, valid) : keyCount
          softmaxBackwardRow(probs: p + t * length, grad: row, keyCount: keyCount, allowed: allowed)
        }
        // dq_h = scale · dScores · k_h ;  dk_h [keyCount, d_h] = scale · dScoresᵀ · q_h
        BLAS.gemm(
          transA: false, transB: false, m: length, n: headSize, k: keyCount, alpha: scale,
          a: dScores, lda: length, b: kp + headOffset, ldb: width, c: dqp + headOffset, ldc: width)
        BLAS.gemm(
          transA: true, transB: false, m: keyCount, n: headSize, k: length, alpha: scale,
          a: dScores, lda: length, b: qp + headOffset, ldb: width, c: dkp + headOffset, ldc: width)
      }
    }
    return (dq, dk, dv)
  }
}

// MARK: - Row kernels

/// Softmax of `row[0..<keyCount]` in place where keys `0..<allowed` are allowed. With `maskValue == −inf` the other
/// keys get probability exactly 0 (all zeros when `allowed == 0`); with a finite `maskValue` it is added to them and
/// the softmax runs over all `keyCount` keys. When no key is allowed, that offset is the same for every key and
/// cancels in the softmax, so it is skipped: in Float, −10000 + score would round the scores to ~1e-3.
@inline(__always)
private func maskedSoftmaxRow(_ row: UnsafeMutablePointer<Float>, keyCount: Int, allowed: Int, maskValue: Float) {
  var span = allowed
  if maskValue == -.infinity {
    for s in allowed..<max(allowed, keyCount) { row[s] = 0 }
  } else {
    if allowed > 0 { for s in allowed..<max(allowed, keyCount) { row[s] += maskValue } }
    span = keyCount
  }
  SoftmaxKernels.softmaxRow(row, row, count: span)
}

/// Softmax backward in place over keys `0..<allowed`: grad ← p ⊙ (grad − Σ p ⊙ grad); keys `allowed..<keyCount`
/// (probability exactly 0) get 0.
@inline(__always)
private func softmaxBackwardRow(
  probs p: UnsafePointer<Float>, grad g: UnsafeMutablePointer<Float>, keyCount: Int, allowed: Int
) {
  SoftmaxKernels.backwardRow(g, y: p, dy: g, count: allowed)
  for s in allowed..<max(allowed, keyCount) { g[s] = 0 }
}
