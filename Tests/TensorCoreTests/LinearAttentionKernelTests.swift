import Foundation
import Testing

@testable import TensorCore

/// LinearAttentionKernels against naive Double references written per query/key pair (no d_h × d_h state), at
/// 1e-5 relative.
@Suite struct LinearAttentionKernelTests {
  static let (heads, size) = (3, 4)
  static let width = heads * size

  /// x[row, head, a] as Double.
  static func slice(_ x: [Float], _ row: Int, _ h: Int) -> [Double] {
    (0..<size).map { Double(x[row * width + h * size + $0]) }
  }

  static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

  @Test func normalizedELUForwardAndBackwardMatchTheJacobian() {
    let rows = 5
    var x = uniformArray(rows * Self.width, -2, 2, seed: 1)
    x[3] = 0.75  // one entry well inside the positive branch
    let dy = uniformArray(rows * Self.width, -1, 1, seed: 2)
    var y = [Float](repeating: 0, count: x.count)
    var inverse = [Float](repeating: 0, count: rows * Self.heads)
    var dx = [Float](repeating: 0, count: x.count)
    LinearAttentionKernels.normalizedELUForward(
      &y, invNorm: &inverse, x, rows: rows, heads: Self.heads, headSize: Self.size)
    LinearAttentionKernels.normalizedELUBackward(
      &dx, dy: dy, x: x, y: y, invNorm: inverse, rows: rows, heads: Self.heads, headSize: Self.size)
    var refY: [Double] = []
    var refDx: [Double] = []
    for r in 0..<rows {
      for h in 0..<Self.heads {
        let xs = Self.slice(x, r, h)
        let e = xs.map { $0 > 0 ? $0 : exp($0) - 1 }
        let de = xs.map { $0 > 0 ? 1 : exp($0) }
        let norm = Self.dot(e, e).squareRoot()
        refY += e.map { $0 / norm }
        // ∂y_a/∂x_i = (δ_ai/‖e‖ − e_a e_i/‖e‖³) · ELU′(x_i)
        let g = Self.slice(dy, r, h)
        for i in 0..<Self.size {
          var s = 0.0
          for a in 0..<Self.size {
            s += g[a] * ((a == i ? 1 / norm : 0) - e[a] * e[i] / (norm * norm * norm)) * de[i]
          }
          refDx.append(s)
        }
      }
    }
    #expect(firstMismatch(y, refY) == nil)
    #expect(firstMismatch(dx, refDx) == nil)
  }

  @Test func stateReadoutAndTheirBackwardsMatchPairwiseSums() {
    let (queries, keys) = (3, 5)
    let q = uniformArray(queries * Self.width, -1, 1, seed: 3)
    let k = uniformArray(keys * Self.width, -1, 1, seed: 4)
    let v = uniformArray(keys * Self.width, -1, 1, seed: 5)
    let w = uniformArray(keys, 0, 3, seed: 6)
    let dOut = uniformArray(queries * Self.width, -1, 1, seed: 7)
    let scale: Float = 0.5
    var state = [Float](repeating: 0, count: Self.heads * Self.size * Self.size)
    var out = [Float](repeating: 0, count: q.count)
    var dState = [Float](repeating: 0, count: state.count)
    var (dq, dk, dv) = (
      [Float](repeating: 0, count: q.count), [Float](repeating: 0, count: k.count),
      [Float](repeating: 0, count: v.count)
    )
    LinearAttentionKernels.accumulateState(
      &state, keys: k, values: v, weights: w, count: keys, heads: Self.heads, headSize: Self.size)
    LinearAttentionKernels.readout(
      &out, queries: q, state: state, count: queries, heads: Self.heads, headSize: Self.size, scale: scale)
    LinearAttentionKernels.readoutBackward(
      dQueries: &dq, dState: &dState, dOut: dOut, queries: q, state: state, count: queries, heads: Self.heads,
      headSize: Self.size, scale: scale)
    LinearAttentionKernels.accumulateStateBackward(
      dKeys: &dk, dValues: &dv, dState: dState, keys: k, values: v, weights: w, count: keys, heads: Self.heads,
      headSize: Self.size)
    // o_i = s Σ_j w_j (q_i·k_j) v_j;  dq_i = s Σ_j w_j (v_j·g_i) k_j;  dk_j = s w_j Σ_i (v_j·g_i) q_i;
    // dv_j = s w_j Σ_i (q_i·k_j) g_i   (per head, g = dOut)
    var refOut = [Double](repeating: 0, count: q.count)
    var refDq = [Double](repeating: 0, count: q.count)
    var refDk = [Double](repeating: 0, count: k.count)
    var refDv = [Double](repeating: 0, count: v.count)
    let s = Double(scale)
    for i in 0..<queries {
      for j in 0..<keys {
        for h in 0..<Self.heads {
          let (qi, kj, vj, gi) = (Self.slice(q, i, h), Self.slice(k, j, h), Self.slice(v, j, h), Self.slice(dOut, i, h))
          let (qk, vg, wj) = (Self.dot(qi, kj), Self.dot(vj, gi), Double(w[j]))
          for a in 0..<Self.size {
            refOut[i * Self.width + h * Self.size + a] += s * wj * qk * vj[a]
            refDq[i * Self.width + h * Self.size + a] += s * wj * vg * kj[a]
            refDk[j * Self.width + h * Self.size + a] += s * wj * vg * qi[a]
            refDv[j * Self.width + h * Self.size + a] += s * wj * qk * gi[a]
          }
        }
      }
    }
    #expect(firstMismatch(out, refOut) == nil)
    #expect(firstMismatch(dq, refDq) == nil)
    #expect(firstMismatch(dk, refDk) == nil)
    #expect(firstMismatch(dv, refDv) == nil)
  }

  @Test func causalForwardAndBackwardMatchPairwiseSumsOverThePast() {
    let steps = 6
    let q = uniformArray(steps * Self.width, -1, 1, seed: 8)
    let k = uniformArray(steps * Self.width, -1, 1, seed: 9)
    let v = uniformArray(steps * Self.width, -1, 1, seed: 10)
    let dOut = uniformArray(steps * Self.width, -1, 1, seed: 11)
    let scale: Float = 0.25
    let stateSize = Self.heads * Self.size * Self.size
    var state = [Float](repeating: 0, count: stateSize)
    var out = [Float](repeating: 0, count: q.count)
    LinearAttentionKernels.causalForward(
      &out, queries: q, keys: k, values: v, state: &state, count: steps, heads: Self.heads, headSize: Self.size,
      scale: scale)
    var (dq, dk, dv) = (
      [Float](repeating: 0, count: q.count), [Float](repeating: 0, count: q.count),
      [Float](repeating: 0, count: q.count)
    )
    var workspace = [Float](repeating: 7, count: 2 * stateSize)  // garbage: the kernel must clear it
    workspace.withUnsafeMutableBufferPointer { w in
      LinearAttentionKernels.causalBackward(
        dQueries: &dq, dKeys: &dk, dValues: &dv, dOut: dOut, queries: q, keys: k, values: v, count: steps,
        heads: Self.heads, headSize: Self.size, scale: scale, state: w.baseAddress!, dState: w.baseAddress! + stateSize)
    }
    var (refOut, refDq, refDk, refDv) = (
      [Double](repeating: 0, count: q.count), [Double](repeating: 0, count: q.count),
      [Double](repeating: 0, count: q.count), [Double](repeating: 0, count: q.count)
    )
    let s = Double(scale)
    for t in 0..<steps {
      for j in 0...t {
        for h in 0..<Self.heads {
          let (qt, kj, vj, gt) = (Self.slice(q, t, h), Self.slice(k, j, h), Self.slice(v, j, h), Self.slice(dOut, t, h))
          let (qk, vg) = (Self.dot(qt, kj), Self.dot(vj, gt))
          for a in 0..<Self.size {
            refOut[t * Self.width + h * Self.size + a] += s * qk * vj[a]
            refDq[t * Self.width + h * Self.size + a] += s * vg * kj[a]
            refDk[j * Self.width + h * Self.size + a] += s * vg * qt[a]
            refDv[j * Self.width + h * Self.size + a] += s * qk * gt[a]
          }
        }
      }
    }
    #expect(firstMismatch(out, refOut) == nil)
    #expect(firstMismatch(dq, refDq) == nil)
    #expect(firstMismatch(dk, refDk) == nil)
    #expect(firstMismatch(dv, refDv) == nil)
    // The final state is the sum over every step: continuing from it is the streaming form.
    var refState = [Float](repeating: 0, count: stateSize)
    LinearAttentionKernels.accumulateState(
      &refState, keys: k, values: v, weights: nil, count: steps, heads: Self.heads, headSize: Self.size)
    #expect(firstMismatch(state, refState.map(Double.init)) == nil)
  }
}
