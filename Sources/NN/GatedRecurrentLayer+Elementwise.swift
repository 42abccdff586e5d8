import TensorCore

// TODO(lead): shared kernel — these element-wise passes (SiLU, bias broadcast, column sums) belong with the shared
// activation kernels once those are merged; they are private to the gated recurrent layer until then. The scalar
// functions come from TensorCore's FastMath (vectorisable exp).
extension GatedRecurrentLayer {
  enum Elementwise {
    /// out = SiLU(v) = v·σ(v), element-wise over `count` values.
    static func silu(_ out: UnsafeMutablePointer<Float>, _ v: UnsafePointer<Float>, count: Int) {
      let (op, vp) = (UnsafeSendable(out), UnsafeSendable(v))
      Parallel.forEachChunk(count, minPerThread: 16_384) { range in
        let (o, v) = (op.value, vp.value)
        for i in range { o[i] = FastMath.silu(v[i]) }
      }
    }

    /// d ← d · SiLU′(v), in place (one written pointer, so the loop vectorises).
    static func siluBackward(inPlace d: UnsafeMutablePointer<Float>, _ v: UnsafePointer<Float>, count: Int) {
      let (dp, vp) = (UnsafeSendable(d), UnsafeSendable(v))
      Parallel.forEachChunk(count, minPerThread: 16_384) { range in
        let (d, v) = (dp.value, vp.value)
        for i in range { d[i] *= FastMath.siluDerivative(v[i]) }
      }
    }

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

    /// Copies `row` (width floats) into each of `rows` rows of `out`.
    static func broadcastRows(_ out: UnsafeMutablePointer<Float>, _ row: UnsafePointer<Float>, rows: Int, width: Int) {
      for r in 0..<rows { (out + r * width).update(from: row, count: width) }
    }

    /// sum[j] += Σ_r x[r, j].
    static func sumRows(into sum: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, width: Int) {
      let xp = UnsafeSendable(x)
      Parallel.forEachChunkSumming(rows, width: width, minPerThread: 256, into: sum) { range, partial in
        for r in range {
          let row = xp.value + r * width
          for j in 0..<width { partial[j] += row[j] }
        }
      }
    }
  }
}
