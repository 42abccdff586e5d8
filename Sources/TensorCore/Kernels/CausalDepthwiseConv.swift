/// Depthwise causal 1-D convolution with bias over time (RecBLR spec §1.4 step 3), per sequence, step t and
/// channel h, with zero history before t = 0:
///
///     y[t,h] = bias[h] + Σ_{k=0}^{K−1} weight[h,k] · x[t−(K−1)+k, h]
///
/// This is PyTorch's cross-correlation convention for `Conv1d(groups: H, padding: K−1)` keeping the first T
/// outputs: weight[h,K−1] multiplies the current step, weight[h,0] the step t−(K−1). The weight is stored [H, K]
/// (the memory layout of PyTorch's [H, 1, K]).
///
/// x is [B, T, ·] with row stride `xStride` (so it can be the first half of a wider projection); y is [B, T, H].
/// Sequences run in parallel; the inner loop runs over the H channels of one step.
public enum CausalDepthwiseConv {
  /// Writes y [B, T, H].
  public static func forward(
    y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, xStride: Int,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    batch: Int, steps: Int, channels: Int, kernelSize: Int
  ) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: kernelSize * channels) { buffer in
      // Tap-major copy of the weight, so each tap's loop over channels is contiguous.
      let taps = buffer.baseAddress!
      transposeWeight(into: taps, weight, channels: channels, kernelSize: kernelSize)
      let (yp, xp, tp, bp) = (
        UnsafeSendable(y), UnsafeSendable(x), UnsafeSendable(UnsafePointer(taps)), UnsafeSendable(bias)
      )
      Parallel.forEachChunk(batch) { sequences in
        for s in sequences {
          for t in 0..<steps {
            let yt = yp.value + (s * steps + t) * channels
            yt.update(from: bp.value, count: channels)
            for k in max(0, kernelSize - 1 - t)..<kernelSize {
              let xRow = xp.value + (s * steps + t - (kernelSize - 1) + k) * xStride
              let tap = tp.value + k * channels
              for j in 0..<channels { yt[j] += tap[j] * xRow[j] }
            }
          }
        }
      }
    }
  }

  /// Given ∂y [B, T, H], writes ∂x (row stride `xStride`, only the first H entries of each row) and accumulates
  /// ∂weight [H, K] and ∂bias [H] (+=).
  public static func backward(
    dX: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
    dY: UnsafePointer<Float>, x: UnsafePointer<Float>, xStride: Int, weight: UnsafePointer<Float>,
    batch: Int, steps: Int, channels: Int, kernelSize: Int
  ) {
    let width = (kernelSize + 1) * channels
    withUnsafeTemporaryAllocation(of: Float.self, capacity: kernelSize * channels + width) { buffer in
      let taps = buffer.baseAddress!
      // Sums: rows 0..<K hold ∂weight tap-major, row K holds ∂bias.
      let sums = taps + kernelSize * channels
      transposeWeight(into: taps, weight, channels: channels, kernelSize: kernelSize)
      sums.initialize(repeating: 0, count: width)
      let (dxp, dyp, xp, tp) = (
        UnsafeSendable(dX), UnsafeSendable(dY), UnsafeSendable(x), UnsafeSendable(UnsafePointer(taps))
      )
      Parallel.forEachChunkSumming(batch, width: width, into: sums) { sequences, partial in
        let dBiasPartial = partial + kernelSize * channels
        for s in sequences {
          for tau in 0..<steps {
            // x[τ] feeds y[τ + (K−1) − k] through tap k.
            let dxRow = dxp.value + (s * steps + tau) * xStride
            let xRow = xp.value + (s * steps + tau) * xStride
            for j in 0..<channels { dxRow[j] = 0 }
            // Explicit vectors: the vectoriser left this loop scalar (~8× slower).
            for k in max(0, tau + kernelSize - steps)..<kernelSize {
              let dyRow = dyp.value + (s * steps + tau + kernelSize - 1 - k) * channels
              let (tap, dTap) = (tp.value + k * channels, partial + k * channels)
              ElementwiseKernels.addProduct(dxRow, tap, dyRow, count: channels)
              ElementwiseKernels.addProduct(dTap, dyRow, xRow, count: channels)
            }
            let dyRow = dyp.value + (s * steps + tau) * channels
            for j in 0..<channels { dBiasPartial[j] += dyRow[j] }
          }
        }
      }
      for j in 0..<channels {
        for k in 0..<kernelSize { dWeight[j * kernelSize + k] += sums[k * channels + j] }
        dBias[j] += sums[kernelSize * channels + j]
      }
    }
  }

  private static func transposeWeight(
    into taps: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, channels: Int, kernelSize: Int
  ) {
    for j in 0..<channels {
      for k in 0..<kernelSize { taps[k * channels + j] = weight[j * kernelSize + k] }
    }
  }

  // MARK: - Naive reference (tests only): the defining sums, one output element at a time, in Double.

  public static func naiveForward(
    y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, xStride: Int,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    batch: Int, steps: Int, channels: Int, kernelSize: Int
  ) {
    for s in 0..<batch {
      for t in 0..<steps {
        for j in 0..<channels {
          var sum = Double(bias[j])
          for k in 0..<kernelSize {
            let tau = t - (kernelSize - 1) + k
            if tau >= 0 { sum += Double(weight[j * kernelSize + k]) * Double(x[(s * steps + tau) * xStride + j]) }
          }
          y[(s * steps + t) * channels + j] = Float(sum)
        }
      }
    }
  }

  public static func naiveBackward(
    dX: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
    dY: UnsafePointer<Float>, x: UnsafePointer<Float>, xStride: Int, weight: UnsafePointer<Float>,
    batch: Int, steps: Int, channels: Int, kernelSize: Int
  ) {
    for s in 0..<batch {
      for t in 0..<steps { for j in 0..<channels { dX[(s * steps + t) * xStride + j] = 0 } }
    }
    for j in 0..<channels {
      var dW = [Double](repeating: 0, count: kernelSize)
      var dB = 0.0
      for s in 0..<batch {
        for t in 0..<steps {
          let g = Double(dY[(s * steps + t) * channels + j])
          dB += g
          for k in 0..<kernelSize {
            let tau = t - (kernelSize - 1) + k
            guard tau >= 0 else { continue }
            let xi = (s * steps + tau) * xStride + j
            dW[k] += g * Double(x[xi])
            dX[xi] += Float(g * Double(weight[j * kernelSize + k]))
          }
        }
      }
      for k in 0..<kernelSize { dWeight[j * kernelSize + k] += Float(dW[k]) }
      dBias[j] += Float(dB)
    }
  }
}
