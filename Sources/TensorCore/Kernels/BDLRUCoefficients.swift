import RealModule

/// Coefficients of the behavior-dependent linear recurrent unit (RecBLR spec §1.4 step 5, §2.4), per row and
/// channel, from the recurrence-gate logits ρ, the input-gate logits ι, the per-channel Λ and the conv output U:
///
///     r = σ(ρ),  i = σ(ι),  a = exp(−softplus(Λ) ⊙ r),  β = sqrt(1 − a² + 1e−8) ⊙ i,  b = β ⊙ U
///
/// `a` is the recurrence's decay and `b` its input. ρ and ι are read with a row stride (`logitStride`) so they can
/// be the two halves of one [rows, 2H] gate projection. Backward recomputes r and i from the logits and takes `a`
/// from the forward pass.
public enum BDLRUCoefficients {
  /// The 1e−8 inside β's square root (official code; keeps ∂β/∂a finite as a → 1).
  public static let epsilon: Float = 1e-8

  /// Writes `decay` (a) and `input` (b), both [rows, H].
  public static func forward(
    decay: UnsafeMutablePointer<Float>, input: UnsafeMutablePointer<Float>,
    recurrenceLogits: UnsafePointer<Float>, inputLogits: UnsafePointer<Float>, logitStride: Int,
    lambda: UnsafePointer<Float>, u: UnsafePointer<Float>, rows: Int, channels: Int
  ) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: channels) { rate in
      for j in 0..<channels { rate[j] = ActivationKernels.softplus(lambda[j]) }
      let (ap, bp, rp, ip, up) = (
        UnsafeSendable(decay), UnsafeSendable(input), UnsafeSendable(recurrenceLogits),
        UnsafeSendable(inputLogits), UnsafeSendable(u)
      )
      let ratep = UnsafeSendable(UnsafePointer(rate.baseAddress!))
      Parallel.forEachChunk(rows, minPerThread: 64) { range in
        for row in range {
          let (a, b, u) = (ap.value + row * channels, bp.value + row * channels, up.value + row * channels)
          let (rho, iota) = (rp.value + row * logitStride, ip.value + row * logitStride)
          let (rate, eps) = (ratep.value, epsilon)
          for j in 0..<channels {
            let aj = FastMath.exp(-rate[j] * FastMath.sigmoid(rho[j]))
            a[j] = aj
            // max(·, 0) is a no-op here (a ≤ 1) but lets the square root vectorise (no libm errno path).
            b[j] = max(1 - aj * aj + eps, 0).squareRoot() * FastMath.sigmoid(iota[j]) * u[j]
          }
        }
      }
    }
  }

  /// Given ∂a and ∂b [rows, H], writes ∂ρ and ∂ι (row stride `logitStride`) and ∂U [rows, H], and accumulates
  /// ∂Λ (+=, summed over rows). `dU` may alias `dDecay` or `dInput`.
  public static func backward(
    dRecurrenceLogits: UnsafeMutablePointer<Float>, dInputLogits: UnsafeMutablePointer<Float>,
    dU: UnsafeMutablePointer<Float>, dLambda: UnsafeMutablePointer<Float>,
    dDecay: UnsafePointer<Float>, dInput: UnsafePointer<Float>,
    recurrenceLogits: UnsafePointer<Float>, inputLogits: UnsafePointer<Float>, logitStride: Int,
    lambda: UnsafePointer<Float>, u: UnsafePointer<Float>, decay: UnsafePointer<Float>, rows: Int, channels: Int
  ) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * channels) { table in
      // rate = softplus(Λ) and its derivative σ(Λ).
      let (rate, rateSlope) = (table.baseAddress!, table.baseAddress! + channels)
      for j in 0..<channels {
        rate[j] = ActivationKernels.softplus(lambda[j])
        rateSlope[j] = ActivationKernels.sigmoid(lambda[j])
      }
      let (drp, dip, dup) = (UnsafeSendable(dRecurrenceLogits), UnsafeSendable(dInputLogits), UnsafeSendable(dU))
      let (dap, dbp, rp, ip) = (
        UnsafeSendable(dDecay), UnsafeSendable(dInput), UnsafeSendable(recurrenceLogits), UnsafeSendable(inputLogits)
      )
      let (up, ap) = (UnsafeSendable(u), UnsafeSendable(decay))
      let tablep = UnsafeSendable(UnsafePointer(rate))
      Parallel.forEachChunkSumming(rows, width: channels, minPerChunk: 64, into: dLambda) { range, dLambdaPartial in
        let (rate, rateSlope, eps) = (tablep.value, tablep.value + channels, epsilon)
        // One row's results go to local buffers first: the row's inputs are all read before any output is
        // written (so ∂U may alias ∂a or ∂b), and the loop needs no runtime alias checks, so it vectorises.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * channels) { rowBuffer in
          let outRho = rowBuffer.baseAddress!
          let (outIota, outU, outLambda) = (outRho + channels, outRho + 2 * channels, outRho + 3 * channels)
          for row in range {
            let (rho, iota) = (rp.value + row * logitStride, ip.value + row * logitStride)
            let offset = row * channels
            let (da, db, u, a) = (dap.value + offset, dbp.value + offset, up.value + offset, ap.value + offset)
            for j in 0..<channels {
              let r = FastMath.sigmoid(rho[j])
              let i = FastMath.sigmoid(iota[j])
              let aj = a[j]
              let q = max(1 - aj * aj + eps, 0).squareRoot()
              let dBeta = db[j] * u[j]
              // a enters b through β = q·i with ∂q/∂a = −a/q.
              let dA = da[j] - dBeta * i * aj / q
              // a = exp(−rate·r): ∂a/∂r = −rate·a, ∂a/∂rate = −r·a.
              outRho[j] = -dA * rate[j] * aj * r * (1 - r)
              outIota[j] = dBeta * q * i * (1 - i)
              outLambda[j] = dA * r * aj * rateSlope[j]
              outU[j] = db[j] * q * i
            }
            (drp.value + row * logitStride).update(from: outRho, count: channels)
            (dip.value + row * logitStride).update(from: outIota, count: channels)
            (dup.value + offset).update(from: outU, count: channels)
            for j in 0..<channels { dLambdaPartial[j] -= outLambda[j] }
          }
        }
      }
    }
  }

  // MARK: - Naive reference (tests only): the formulas element by element in Double.

  public static func naiveForward(
    decay: UnsafeMutablePointer<Float>, input: UnsafeMutablePointer<Float>,
    recurrenceLogits: UnsafePointer<Float>, inputLogits: UnsafePointer<Float>, logitStride: Int,
    lambda: UnsafePointer<Float>, u: UnsafePointer<Float>, rows: Int, channels: Int
  ) {
    for row in 0..<rows {
      for j in 0..<channels {
        let rate = Double.log(onePlus: Double.exp(Double(lambda[j])))
        let r = 1 / (1 + Double.exp(-Double(recurrenceLogits[row * logitStride + j])))
        let i = 1 / (1 + Double.exp(-Double(inputLogits[row * logitStride + j])))
        let a = Double.exp(-rate * r)
        decay[row * channels + j] = Float(a)
        input[row * channels + j] = Float(
          (1 - a * a + Double(epsilon)).squareRoot() * i * Double(u[row * channels + j]))
      }
    }
  }

  /// Same contract as `backward` (∂Λ accumulates), recomputing a from the logits, in Double.
  public static func naiveBackward(
    dRecurrenceLogits: UnsafeMutablePointer<Float>, dInputLogits: UnsafeMutablePointer<Float>,
    dU: UnsafeMutablePointer<Float>, dLambda: UnsafeMutablePointer<Float>,
    dDecay: UnsafePointer<Float>, dInput: UnsafePointer<Float>,
    recurrenceLogits: UnsafePointer<Float>, inputLogits: UnsafePointer<Float>, logitStride: Int,
    lambda: UnsafePointer<Float>, u: UnsafePointer<Float>, rows: Int, channels: Int
  ) {
    for j in 0..<channels {
      let lam = Double(lambda[j])
      let rate = Double.log(onePlus: Double.exp(lam))
      let dRateDLambda = 1 / (1 + Double.exp(-lam))
      var dLam = 0.0
      for row in 0..<rows {
        let (k, e) = (row * logitStride + j, row * channels + j)
        let r = 1 / (1 + Double.exp(-Double(recurrenceLogits[k])))
        let i = 1 / (1 + Double.exp(-Double(inputLogits[k])))
        let a = Double.exp(-rate * r)
        let q = (1 - a * a + Double(epsilon)).squareRoot()
        let uu = Double(u[e])
        // b = q(a)·i·u; L depends on a directly and through b.
        let dLdb = Double(dInput[e])
        let dLda = Double(dDecay[e]) + dLdb * i * uu * (-a / q)
        let dadr = -rate * a
        let dadRate = -r * a
        dRecurrenceLogits[k] = Float(dLda * dadr * r * (1 - r))
        dInputLogits[k] = Float(dLdb * q * uu * i * (1 - i))
        dU[e] = Float(dLdb * q * i)
        dLam += dLda * dadRate * dRateDLambda
      }
      dLambda[j] += Float(dLam)
    }
  }
}
