/// The diagonal linear recurrence of a BD-LRU (RecBLR spec §1.4 step 6, §2.5):
///
///     h[b,t,:] = decay[b,t,:] ⊙ h[b,t−1,:] + input[b,t,:],   h[b,−1,:] = initial[b,:] (or 0)
///
/// Layout [B, T, H], time outer and channels inner, so the loop over the H channels of one step is contiguous and
/// vectorises; sequences run in parallel. The scan is serial in time (T ≤ a few hundred on CPU), which is exact
/// and simpler than the GPU's tree scan (spec §2.3).
///
/// Backward, given g = ∂L/∂h: δ_t = g_t + decay_{t+1} δ_{t+1} (δ_T = 0), ∂input_t = δ_t,
/// ∂decay_t = δ_t ⊙ h_{t−1}, ∂initial = decay_0 ⊙ δ_0.
public enum LinearRecurrence {
  /// Writes h. `h` may be the same pointer as `input` (the scan then runs in place), but not overlap it otherwise.
  public static func forward(
    h: UnsafeMutablePointer<Float>, decay: UnsafePointer<Float>, input: UnsafePointer<Float>,
    initial: UnsafePointer<Float>?, batch: Int, steps: Int, channels: Int
  ) {
    guard steps > 0, channels > 0 else { return }
    let (hp, ap, xp) = (UnsafeSendable(h), UnsafeSendable(decay), UnsafeSendable(input))
    let h0 = UnsafeSendable(initial)
    Parallel.forEachChunk(batch) { sequences in
      for s in sequences {
        let base = s * steps * channels
        let (h, a, x) = (hp.value + base, ap.value + base, xp.value + base)
        // h starts as a copy of the input and is updated in place (h_t += a_t ⊙ h_{t−1}): one written pointer and
        // non-overlapping rows, so the channel loop vectorises also when h aliases the input.
        if h != UnsafeMutablePointer(mutating: x) { h.update(from: x, count: steps * channels) }
        if let h0 = h0.value {
          let initial = h0 + s * channels
          for j in 0..<channels { h[j] += a[j] * initial[j] }
        }
        for t in 1..<steps {
          let row = t * channels
          let (ht, hPrev, at) = (h + row, h + row - channels, a + row)
          ElementwiseKernels.addProduct(ht, at, hPrev, count: channels)
        }
      }
    }
  }

  /// Writes ∂decay, ∂input and (when `initial` is given) ∂initial [B, H]. `h` is the forward output.
  /// `dInput` may be the same pointer as `dH` (δ then overwrites g in place), but not overlap it otherwise.
  public static func backward(
    dDecay: UnsafeMutablePointer<Float>, dInput: UnsafeMutablePointer<Float>, dInitial: UnsafeMutablePointer<Float>?,
    dH: UnsafePointer<Float>, decay: UnsafePointer<Float>, h: UnsafePointer<Float>, initial: UnsafePointer<Float>?,
    batch: Int, steps: Int, channels: Int
  ) {
    guard steps > 0, channels > 0 else { return }
    precondition((dInitial == nil) == (initial == nil), "∂initial is produced exactly when an initial state is given")
    let (dap, dxp, gp) = (UnsafeSendable(dDecay), UnsafeSendable(dInput), UnsafeSendable(dH))
    let (ap, hp) = (UnsafeSendable(decay), UnsafeSendable(h))
    let (h0, dh0) = (UnsafeSendable(initial), UnsafeSendable(dInitial))
    Parallel.forEachChunk(batch) { sequences in
      for s in sequences {
        let base = s * steps * channels
        let (da, delta, g) = (dap.value + base, dxp.value + base, gp.value + base)
        let (a, h) = (ap.value + base, hp.value + base)
        // δ starts as a copy of g and is updated in place, as in forward.
        if delta != UnsafeMutablePointer(mutating: g) { delta.update(from: g, count: steps * channels) }
        var t = steps - 2
        while t >= 0 {
          let row = t * channels
          let (dt, dNext, aNext) = (delta + row, delta + row + channels, a + row + channels)
          ElementwiseKernels.addProduct(dt, aNext, dNext, count: channels)  // two rows of one buffer: explicit vectors
          t -= 1
        }
        for t in 1..<steps {
          let row = t * channels
          let (dat, dt, hPrev) = (da + row, delta + row, h + row - channels)
          for j in 0..<channels { dat[j] = dt[j] * hPrev[j] }
        }
        if let h0 = h0.value, let dh0 = dh0.value {
          let (initial, dInitial) = (h0 + s * channels, dh0 + s * channels)
          for j in 0..<channels {
            da[j] = delta[j] * initial[j]
            dInitial[j] = a[j] * delta[j]
          }
        } else {
          for j in 0..<channels { da[j] = 0 }
        }
      }
    }
  }

  // MARK: - Naive serial reference (tests only): one (sequence, channel) row at a time, accumulating in Double.

  public static func naiveForward(
    h: UnsafeMutablePointer<Float>, decay: UnsafePointer<Float>, input: UnsafePointer<Float>,
    initial: UnsafePointer<Float>?, batch: Int, steps: Int, channels: Int
  ) {
    for s in 0..<batch {
      for j in 0..<channels {
        var state = initial.map { Double($0[s * channels + j]) } ?? 0
        for t in 0..<steps {
          let i = (s * steps + t) * channels + j
          state = Double(decay[i]) * state + Double(input[i])
          h[i] = Float(state)
        }
      }
    }
  }

  public static func naiveBackward(
    dDecay: UnsafeMutablePointer<Float>, dInput: UnsafeMutablePointer<Float>, dInitial: UnsafeMutablePointer<Float>?,
    dH: UnsafePointer<Float>, decay: UnsafePointer<Float>, h: UnsafePointer<Float>, initial: UnsafePointer<Float>?,
    batch: Int, steps: Int, channels: Int
  ) {
    for s in 0..<batch {
      for j in 0..<channels {
        var delta = 0.0
        for t in stride(from: steps - 1, through: 0, by: -1) {
          let i = (s * steps + t) * channels + j
          let decayNext = t + 1 < steps ? Double(decay[i + channels]) : 0
          delta = Double(dH[i]) + decayNext * delta
          let hPrev = t > 0 ? Double(h[i - channels]) : (initial.map { Double($0[s * channels + j]) } ?? 0)
          dInput[i] = Float(delta)
          dDecay[i] = Float(delta * hPrev)
        }
        if let dInitial {
          dInitial[s * channels + j] = Float(Double(decay[s * steps * channels + j]) * delta)
        }
      }
    }
  }
}
