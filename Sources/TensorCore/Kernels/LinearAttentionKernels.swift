import RealModule

/// Kernels of ELU-norm linear attention (GLINT-RU's attention expert), forward next to backward.
///
/// Rows are tokens of `heads · headSize` features; head h owns columns h·headSize ..< (h+1)·headSize. A state is
/// `heads` row-major headSize × headSize matrices S_h[a, c] (a: key feature, c: value feature). Outputs come first,
/// then inputs, then sizes; backward kernels that take a `dState` accumulate into it. Dot products over a head use
/// `Relaxed` sums (reassociated, so they vectorise); transcendental functions are never relaxed.
public enum LinearAttentionKernels {
  // MARK: Normalised ELU: y = ELU(x) / ‖ELU(x)‖₂ per (row, head)

  /// Writes y and invNorm[row·heads + h] = 1/‖ELU(x_h)‖. A head whose ELU output is exactly 0 gets y = 0 and
  /// invNorm = 0 (PyTorch would give NaN there). ELU's eˣ − 1 is `FastMath.expMinusOne`; head sizes that are a
  /// multiple of 8 run eight features at a time (the same operations, the squares summed in eight lanes).
  public static func normalizedELUForward(
    _ y: UnsafeMutablePointer<Float>, invNorm: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
    rows: Int, heads: Int, headSize: Int
  ) {
    typealias V = FastMath.Vector
    let width = heads * headSize
    let vectors = headSize % 8 == 0
    Parallel.forEachChunk(rows, minPerThread: max(1, 8192 / max(width, 1))) { range in
      for r in range {
        for h in 0..<heads {
          let (xi, yi) = (x + r * width + h * headSize, y + r * width + h * headSize)
          var squares: Float = 0
          if vectors {
            var lanes = V.zero
            for a in stride(from: 0, to: headSize, by: 8) {
              let v = V(loading: xi + a)
              let e = FastMath.expMinusOne(v).replacing(with: v, where: v .> 0)
              e.store(to: yi + a)
              lanes += e * e
            }
            squares = lanes.sum()
          } else {
            for a in 0..<headSize {
              let e = xi[a] > 0 ? xi[a] : FastMath.expMinusOne(xi[a])
              yi[a] = e
              squares = Relaxed.multiplyAdd(e, e, squares)
            }
          }
          let inverse: Float = squares > 0 ? 1 / squares.squareRoot() : 0
          invNorm[r * heads + h] = inverse
          for a in 0..<headSize { yi[a] *= inverse }
        }
      }
    }
  }

  /// dx = Jᵀ dy with e = ELU(x), y = e/‖e‖: de = (dy − y (y·dy)) / ‖e‖, dx = de ⊙ ELU′(x) (1 for x > 0, eˣ
  /// otherwise, `FastMath.exp`). dx may alias dy. Head sizes that are a multiple of 8 run eight features at a time.
  public static func normalizedELUBackward(
    _ dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
    invNorm: UnsafePointer<Float>, rows: Int, heads: Int, headSize: Int
  ) {
    typealias V = FastMath.Vector
    let width = heads * headSize
    let vectors = headSize % 8 == 0
    Parallel.forEachChunk(rows, minPerThread: max(1, 8192 / max(width, 1))) { range in
      for r in range {
        for h in 0..<heads {
          let o = r * width + h * headSize
          let inverse = invNorm[r * heads + h]
          if vectors {
            var lanes = V.zero
            for a in stride(from: 0, to: headSize, by: 8) { lanes += V(loading: y + o + a) * V(loading: dy + o + a) }
            let projection = lanes.sum()
            for a in stride(from: 0, to: headSize, by: 8) {
              let (xv, yv, dyv) = (V(loading: x + o + a), V(loading: y + o + a), V(loading: dy + o + a))
              let de = inverse * (dyv - yv * projection)
              (de * FastMath.exp(xv)).replacing(with: de, where: xv .> 0).store(to: dx + o + a)
            }
          } else {
            var projection: Float = 0
            for a in 0..<headSize { projection = Relaxed.multiplyAdd(y[o + a], dy[o + a], projection) }
            for a in 0..<headSize {
              let de = inverse * (dy[o + a] - y[o + a] * projection)
              dx[o + a] = x[o + a] > 0 ? de : de * FastMath.exp(x[o + a])
            }
          }
        }
      }
    }
  }

  // MARK: Global state: S_h = Σ_j w_j k_j,h v_j,hᵀ; readout o = scale · q S_h

  /// state += Σ_j w_j k_j ⊗ v_j over `count` key rows (w_j = 1 when `weights` is nil), per head. Head sizes that
  /// are a multiple of 8 update eight state entries at a time (the same operations: the state might alias the
  /// values, so the compiler does not vectorise the loop itself).
  public static func accumulateState(
    _ state: UnsafeMutablePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
    weights: UnsafePointer<Float>?, count: Int, heads: Int, headSize: Int
  ) {
    typealias V = FastMath.Vector
    let (width, square) = (heads * headSize, headSize * headSize)
    let vectors = headSize % 8 == 0
    for j in 0..<count {
      let w = weights?[j] ?? 1
      for h in 0..<heads {
        let (k, v, s) = (keys + j * width + h * headSize, values + j * width + h * headSize, state + h * square)
        for a in 0..<headSize {
          let ka = w * k[a]
          let sa = s + a * headSize
          if vectors {
            for c in stride(from: 0, to: headSize, by: 8) {
              (V(loading: sa + c) + ka * V(loading: v + c)).store(to: sa + c)
            }
          } else {
            for c in 0..<headSize { sa[c] += ka * v[c] }
          }
        }
      }
    }
  }

  /// dkeys_j = w_j dS v_j and dvalues_j = w_j dSᵀ k_j (written, not accumulated): the backward of `accumulateState`.
  public static func accumulateStateBackward(
    dKeys: UnsafeMutablePointer<Float>, dValues: UnsafeMutablePointer<Float>, dState: UnsafePointer<Float>,
    keys: UnsafePointer<Float>, values: UnsafePointer<Float>, weights: UnsafePointer<Float>?, count: Int,
    heads: Int, headSize: Int
  ) {
    let (width, square) = (heads * headSize, headSize * headSize)
    if headSize % 8 == 0 {
      accumulateStateBackwardVectors(
        dKeys: dKeys, dValues: dValues, dState: dState, keys: keys, values: values, weights: weights, count: count,
        heads: heads, headSize: headSize)
      return
    }
    for j in 0..<count {
      let w = weights?[j] ?? 1
      for h in 0..<heads {
        let o = j * width + h * headSize
        let ds = dState + h * square
        for c in 0..<headSize { dValues[o + c] = 0 }
        for a in 0..<headSize {
          let row = ds + a * headSize
          var dk: Float = 0
          let ka = w * keys[o + a]
          for c in 0..<headSize {
            dk = Relaxed.multiplyAdd(row[c], values[o + c], dk)
            dValues[o + c] += ka * row[c]
          }
          dKeys[o + a] = w * dk
        }
      }
    }
  }

  /// `accumulateStateBackward` eight value features at a time, for head sizes that are a multiple of 8 (the
  /// compiler does not vectorise the scalar loop: dValues might alias the state). The same sums, with each dk
  /// summed in eight lanes instead of one.
  static func accumulateStateBackwardVectors(
    dKeys: UnsafeMutablePointer<Float>, dValues: UnsafeMutablePointer<Float>, dState: UnsafePointer<Float>,
    keys: UnsafePointer<Float>, values: UnsafePointer<Float>, weights: UnsafePointer<Float>?, count: Int,
    heads: Int, headSize: Int
  ) {
    typealias V = FastMath.Vector
    let (width, square) = (heads * headSize, headSize * headSize)
    for j in 0..<count {
      let w = weights?[j] ?? 1
      for h in 0..<heads {
        let o = j * width + h * headSize
        let (ds, v, dv) = (dState + h * square, values + o, dValues + o)
        for c in stride(from: 0, to: headSize, by: 8) { V.zero.store(to: dv + c) }
        for a in 0..<headSize {
          let row = ds + a * headSize
          let ka = w * keys[o + a]
          var dk = V.zero
          for c in stride(from: 0, to: headSize, by: 8) {
            let s = V(loading: row + c)
            dk += s * V(loading: v + c)
            (V(loading: dv + c) + ka * s).store(to: dv + c)
          }
          dKeys[o + a] = w * dk.sum()
        }
      }
    }
  }

  /// out_j = scale · q_j S (per head) for `count` query rows.
  public static func readout(
    _ out: UnsafeMutablePointer<Float>, queries: UnsafePointer<Float>, state: UnsafePointer<Float>, count: Int,
    heads: Int, headSize: Int, scale: Float
  ) {
    let (width, square) = (heads * headSize, headSize * headSize)
    for j in 0..<count {
      for h in 0..<heads {
        let (q, o, s) = (queries + j * width + h * headSize, out + j * width + h * headSize, state + h * square)
        for c in 0..<headSize { o[c] = 0 }
        for a in 0..<headSize {
          let qa = scale * q[a]
          let sa = s + a * headSize
          for c in 0..<headSize { o[c] += qa * sa[c] }
        }
      }
    }
  }

  /// dqueries_j = scale · S dout_j (written) and dState += scale · Σ_j q_j ⊗ dout_j: the backward of `readout`.
  public static func readoutBackward(
    dQueries: UnsafeMutablePointer<Float>, dState: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
    queries: UnsafePointer<Float>, state: UnsafePointer<Float>, count: Int, heads: Int, headSize: Int, scale: Float
  ) {
    let (width, square) = (heads * headSize, headSize * headSize)
    for j in 0..<count {
      for h in 0..<heads {
        let o = j * width + h * headSize
        let (s, ds) = (state + h * square, dState + h * square)
        for a in 0..<headSize {
          let (sa, dsa) = (s + a * headSize, ds + a * headSize)
          let qa = scale * queries[o + a]
          var dq: Float = 0
          for c in 0..<headSize {
            dq = Relaxed.multiplyAdd(sa[c], dOut[o + c], dq)
            dsa[c] += qa * dOut[o + c]
          }
          dQueries[o + a] = scale * dq
        }
      }
    }
  }

  // MARK: Causal: S_t = S_{t−1} + k_t ⊗ v_t, out_t = scale · q_t S_t (one sequence)

  /// Runs `count` steps from `state` (updated in place, so consecutive calls continue a stream).
  public static func causalForward(
    _ out: UnsafeMutablePointer<Float>, queries: UnsafePointer<Float>, keys: UnsafePointer<Float>,
    values: UnsafePointer<Float>, state: UnsafeMutablePointer<Float>, count: Int, heads: Int, headSize: Int,
    scale: Float
  ) {
    let width = heads * headSize
    for t in 0..<count {
      accumulateState(
        state, keys: keys + t * width, values: values + t * width, weights: nil, count: 1, heads: heads,
        headSize: headSize)
      readout(
        out + t * width, queries: queries + t * width, state: state, count: 1, heads: heads, headSize: headSize,
        scale: scale)
    }
  }

  /// Backward of `causalForward` from a zero state. dq_t = scale · S_t dout_t, replaying the states forward; then,
  /// backward in time with G_t = scale · Σ_{s≥t} q_s ⊗ dout_s: dk_t = G_t v_t, dv_t = G_tᵀ k_t. `state` and
  /// `dState` are workspaces of heads·headSize² floats (overwritten). Gradients are written, not accumulated.
  public static func causalBackward(
    dQueries: UnsafeMutablePointer<Float>, dKeys: UnsafeMutablePointer<Float>, dValues: UnsafeMutablePointer<Float>,
    dOut: UnsafePointer<Float>, queries: UnsafePointer<Float>, keys: UnsafePointer<Float>,
    values: UnsafePointer<Float>, count: Int, heads: Int, headSize: Int, scale: Float,
    state: UnsafeMutablePointer<Float>, dState: UnsafeMutablePointer<Float>
  ) {
    let (width, size) = (heads * headSize, heads * headSize * headSize)
    state.update(repeating: 0, count: size)
    dState.update(repeating: 0, count: size)
    for t in 0..<count {
      accumulateState(
        state, keys: keys + t * width, values: values + t * width, weights: nil, count: 1, heads: heads,
        headSize: headSize)
      // dState here is a scratch sink: only dq_t is kept from this call.
      readoutBackward(
        dQueries: dQueries + t * width, dState: dState, dOut: dOut + t * width, queries: queries + t * width,
        state: state, count: 1, heads: heads, headSize: headSize, scale: scale)
    }
    dState.update(repeating: 0, count: size)
    for t in (0..<count).reversed() {
      // G += scale · q_t ⊗ dout_t (the readoutBackward state-gradient term), then the key/value gradients at t.
      addOuterProduct(
        dState, queries + t * width, dOut + t * width, scale: scale, heads: heads, headSize: headSize)
      accumulateStateBackward(
        dKeys: dKeys + t * width, dValues: dValues + t * width, dState: dState, keys: keys + t * width,
        values: values + t * width, weights: nil, count: 1, heads: heads, headSize: headSize)
    }
  }

  /// m_h += scale · a_h ⊗ b_h per head.
  @inline(__always)
  static func addOuterProduct(
    _ m: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, scale: Float,
    heads: Int, headSize: Int
  ) {
    for h in 0..<heads {
      let (ah, bh, mh) = (a + h * headSize, b + h * headSize, m + h * headSize * headSize)
      for i in 0..<headSize {
        let s = scale * ah[i]
        let row = mh + i * headSize
        for c in 0..<headSize { row[c] += s * bh[c] }
      }
    }
  }
}
