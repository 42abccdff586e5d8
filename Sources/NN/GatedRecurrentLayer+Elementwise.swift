import RealModule
import TensorCore

// TODO(lead): shared kernel — these element-wise passes (SiLU, bias broadcast, column sums) belong with the shared
// activation kernels once those are merged; they are private to the gated recurrent layer until then.
extension GatedRecurrentLayer {
  enum Elementwise {
    @inline(__always) static func sigmoid(_ v: Float) -> Float { 1 / (1 + Float.exp(-v)) }

    /// out = SiLU(v) = v·σ(v), element-wise over `count` values.
    static func silu(_ out: UnsafeMutablePointer<Float>, _ v: UnsafePointer<Float>, count: Int) {
      let (op, vp) = (UnsafeSendable(out), UnsafeSendable(v))
      Parallel.forEachChunk(count, minPerThread: 16_384) { range in
        for i in range { op.value[i] = vp.value[i] * sigmoid(vp.value[i]) }
      }
    }

    /// dV = dOut · SiLU′(v), SiLU′(v) = σ(v)·(1 + v·(1 − σ(v))). `dV` may alias `dOut`.
    static func siluBackward(
      _ dV: UnsafeMutablePointer<Float>, _ dOut: UnsafePointer<Float>, _ v: UnsafePointer<Float>, count: Int
    ) {
      let (dvp, dop, vp) = (UnsafeSendable(dV), UnsafeSendable(dOut), UnsafeSendable(v))
      Parallel.forEachChunk(count, minPerThread: 16_384) { range in
        for i in range {
          let (x, s) = (vp.value[i], sigmoid(vp.value[i]))
          dvp.value[i] = dop.value[i] * s * (1 + x * (1 - s))
        }
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
          for j in 0..<width { m[j] = g[j] * sigmoid(g[j]) * s[j] }
        }
      }
    }

    /// Given ∂merged, writes ∂state = ∂merged ⊙ SiLU(gate) and ∂gate = ∂merged ⊙ state ⊙ SiLU′(gate) (row stride
    /// `gateStride`). `dState` may alias `dMerged`.
    static func gatedMergeBackward(
      dState: UnsafeMutablePointer<Float>, dGate: UnsafeMutablePointer<Float>, dMerged: UnsafePointer<Float>,
      state: UnsafePointer<Float>, gate: UnsafePointer<Float>, gateStride: Int, rows: Int, width: Int
    ) {
      let (dsp, dgp, dmp) = (UnsafeSendable(dState), UnsafeSendable(dGate), UnsafeSendable(dMerged))
      let (sp, gp) = (UnsafeSendable(state), UnsafeSendable(gate))
      Parallel.forEachChunk(rows, minPerThread: 128) { range in
        for r in range {
          let (ds, dm, s) = (dsp.value + r * width, dmp.value + r * width, sp.value + r * width)
          let (dg, g) = (dgp.value + r * gateStride, gp.value + r * gateStride)
          for j in 0..<width {
            let sig = sigmoid(g[j])
            let dmj = dm[j]
            dg[j] = dmj * s[j] * sig * (1 + g[j] * (1 - sig))
            ds[j] = dmj * g[j] * sig
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
