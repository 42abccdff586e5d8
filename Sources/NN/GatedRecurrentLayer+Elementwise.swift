import TensorCore

// The layer's fused element-wise passes (the SiLU gate times the recurrence output, and its backward); the plain
// ones (SiLU, bias broadcast, column sums) are TensorCore's shared kernels.
extension GatedRecurrentLayer {
  enum Elementwise {
    /// merged = SiLU(gate) ⊙ state, per row; `gate` has row stride `gateStride`.
    static func gatedMerge(
      _ merged: UnsafeMutablePointer<Float>, state: UnsafePointer<Float>, gate: UnsafePointer<Float>,
      gateStride: Int, rows: Int, width: Int
    ) {
      let (mp, sp, gp) = (UnsafeSendable(merged), UnsafeSendable(state), UnsafeSendable(gate))
      Parallel.forEachChunk(rows, minPerThread: 128) { range in
        for r in range {
          let (m, s, g) = (mp.value + r * width, sp.value + r * width, gp.value + r * gateStride)
          for j in 0..<width { m[j] = FastMath.silu(g[j]) * s[j] }
        }
      }
    }

    /// In place, ∂merged → ∂state = ∂merged ⊙ SiLU(gate); also writes ∂gate = ∂merged ⊙ state ⊙ SiLU′(gate) (row
    /// stride `gateStride`).
    static func gatedMergeBackward(
      inPlace dMergedToState: UnsafeMutablePointer<Float>, dGate: UnsafeMutablePointer<Float>,
      state: UnsafePointer<Float>, gate: UnsafePointer<Float>, gateStride: Int, rows: Int, width: Int
    ) {
      let (dp, dgp) = (UnsafeSendable(dMergedToState), UnsafeSendable(dGate))
      let (sp, gp) = (UnsafeSendable(state), UnsafeSendable(gate))
      Parallel.forEachChunk(rows, minPerThread: 128) { range in
        for r in range {
          let (d, s) = (dp.value + r * width, sp.value + r * width)
          let (dg, g) = (dgp.value + r * gateStride, gp.value + r * gateStride)
          for j in 0..<width {
            let sig = FastMath.sigmoid(g[j])
            let dm = d[j]
            dg[j] = dm * s[j] * sig * (1 + g[j] * (1 - sig))
            d[j] = dm * g[j] * sig
          }
        }
      }
    }
  }
}
