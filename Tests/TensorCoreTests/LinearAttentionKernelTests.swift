import Foundation
import Testing

@testable import TensorCore

/// LinearAttentionKernels against naive Double references written per query/key pair (no d_h × d_h state), at
/// 1e-5 relative. Each test runs on a head size of 4 (the scalar loops), 16 and 24 (the eight-lane loops).
@Suite struct LinearAttentionKernelTests {
  struct Shape: Sendable, CustomTestStringConvertible {
    let heads: Int
    let size: Int
    var width: Int { heads * size }
    var testDescription: String { "\(heads) heads of \(size)" }

    /// x[row, head, a] as Double.
    func slice(_ x: [Float], _ row: Int, _ h: Int) -> [Double] {
      (0..<size).map { Double(x[row * width + h * size + $0]) }
    }
  }

  static let shapes = [Shape(heads: 3, size: 4), Shape(heads: 2, size: 16), Shape(heads: 1, size: 24)]

  static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

  @Test(arguments: shapes) func normalizedELUForwardAndBackwardMatchTheJacobian(shape: Shape) {
    let rows = 5
    var x = uniformArray(rows * shape.width, -2, 2, seed: 1)
    x[3] = 0.75  // one entry well inside the positive branch
    let dy = uniformArray(rows * shape.width, -1, 1, seed: 2)
    var y = [Float](repeating: 0, count: x.count)
    var inverse = [Float](repeating: 0, count: rows * shape.heads)
    var dx = [Float](repeating: 0, count: x.count)
    LinearAttentionKernels.normalizedELUForward(
      &y, invNorm: &inverse, x, rows: rows, heads: shape.heads, headSize: shape.size)
    LinearAttentionKernels.normalizedELUBackward(
      &dx, dy: dy, x: x, y: y, invNorm: inverse, rows: rows, heads: shape.heads, headSize: shape.size)
    var refY: [Double] = []
    var refDx: [Double] = []
    for r in 0..<rows {
      for h in 0..<shape.heads {
        let xs = shape.slice(x, r, h)
        let e = xs.map { $0 > 0 ? $0 : exp($0) - 1 }
        let de = xs.map { $0 > 0 ? 1 : exp($0) }
        let norm = Self.dot(e, e).squareRoot()
        refY += e.map { $0 / norm }
        // ∂y_a/∂x_i = (δ_ai/‖e‖ − e_a e_i/‖e‖³) · ELU′(x_i)
        let g = shape.slice(dy, r, h)
        for i in 0..<shape.size {
          var s = 0.0
          for a in 0..<shape.size {
            s += g[a] * ((a == i ? 1 / norm : 0) - e[a] * e[i] / (norm * norm * norm)) * de[i]
          }
          refDx.append(s)
        }
      }
    }
    #expect(firstMismatch(y, refY) == nil)
    #expect(firstMismatch(dx, refDx) == nil)
  }

  @Test(arguments: shapes) func stateReadoutAndTheirBackwardsMatchPairwiseSums(shape: Shape) {
    let (queries, keys) = (3, 5)
    let q = uniformArray(queries * shape.width, -1, 1, seed: 3)
    let k = uniformArray(keys * shape.width, -1, 1, seed: 4)
    let v = uniformArray(keys * shape.width, -1, 1, seed: 5)
    let w = uniformArray(keys, 0, 3, seed: 6)
    let dOut = uniformArray(queries * shape.width, -1, 1, seed: 7)
    let scale: Float = 0.5
    var state = [Float](repeating: 0, count: shape.heads * shape.size * shape.size)
    var out = [Float](repeating: 0, count: q.count)
    var dState = [Float](repeating: 0, count: state.count)
    var (dq, dk, dv) = (
      [Float](repeating: 0, count: q.count), [Float](repeating: 0, count: k.count),
      [Float](repeating: 0, count: v.count)
    )
    LinearAttentionKernels.accumulateState(
      &state, keys: k, values: v, weights: w, count: keys, heads: shape.heads, headSize: shape.size)
    LinearAttentionKernels.readout(
      &out, queries: q, state: state, count: queries, heads: shape.heads, headSize: shape.size, scale: scale)
    LinearAttentionKernels.readoutBackward(
      dQueries: &dq, dState: &dState, dOut: dOut, queries: q, state: state, count: queries, heads: shape.heads,
      headSize: shape.size, scale: scale)
    LinearAttentionKernels.accumulateStateBackward(
      dKeys: &dk, dValues: &dv, dState: dState, keys: k, values: v, weights: w, count: keys, heads: shape.heads,
      headSize: shape.size)
    // o_i = s Σ_j w_j (q_i·k_j) v_j;  dq_i = s Σ_j w_j (v_j·g_i) k_j;  dk_j = s w_j Σ_i (v_j·g_i) q_i;
    // dv_j = s w_j Σ_i (q_i·k_j) g_i   (per head, g = dOut)
    var refOut = [Double](repeating: 0, count: q.count)
    var refDq = [Double](repeating: 0, count: q.count)
    var refDk = [Double](repeating: 0, count: k.count)
    var refDv = [Double](repeating: 0, count: v.count)
    let s = Double(scale)
    for i in 0..<queries {
      for j in 0..<keys {
        for h in 0..<shape.heads {
          let (qi, kj, vj, gi) = (
            shape.slice(q, i, h), shape.slice(k, j, h), shape.slice(v, j, h), shape.slice(dOut, i, h)
          )
          let (qk, vg, wj) = (Self.dot(qi, kj), Self.dot(vj, gi), Double(w[j]))
          for a in 0..<shape.size {
            refOut[i * shape.width + h * shape.size + a] += s * wj * qk * vj[a]
            refDq[i * shape.width + h * shape.size + a] += s * wj * vg * kj[a]
            refDk[j * shape.width + h * shape.size + a] += s * wj * vg * qi[a]
            refDv[j * shape.width + h * shape.size + a] += s * wj * qk * gi[a]
          }
        }
      }
    }
    #expect(firstMismatch(out, refOut) == nil)
    #expect(firstMismatch(dq, refDq) == nil)
    #expect(firstMismatch(dk, refDk) == nil)
    #expect(firstMismatch(dv, refDv) == nil)
  }

  @Test(arguments: shapes) func causalForwardAndBackwardMatchPairwiseSumsOverThePast(shape: Shape) {
    let steps = 6
    let q = uniformArray(steps * shape.width, -1, 1, seed: 8)
    let k = uniformArray(steps * shape.width, -1, 1, seed: 9)
    let v = uniformArray(steps * shape.width, -1, 1, seed: 10)
    let dOut = uniformArray(steps * shape.width, -1, 1, seed: 11)
    let scale: Float = 0.25
    let stateSize = shape.heads * shape.size * shape.size
    var state = [Float](repeating: 0, count: stateSize)
    var out = [Float](repeating: 0, count: q.count)
    LinearAttentionKernels.causalForward(
      &out, queries: q, keys: k, values: v, state: &state, count: steps, heads: shape.heads, headSize: shape.size,
      scale: scale)
    var (dq, dk, dv) = (
      [Float](repeating: 0, count: q.count), [Float](repeating: 0, count: q.count),
      [Float](repeating: 0, count: q.count)
    )
    var workspace = [Float](repeating: 7, count: 2 * stateSize)  // garbage: the kernel must clear it
    workspace.withUnsafeMutableBufferPointer { w in
      LinearAttentionKernels.causalBackward(
        dQueries: &dq, dKeys: &dk, dValues: &dv, dOut: dOut, queries: q, keys: k, values: v, count: steps,
        heads: shape.heads, headSize: shape.size, scale: scale, state: w.baseAddress!,
        dState: w.baseAddress! + stateSize)
    }
    var (refOut, refDq, refDk, refDv) = (
      [Double](repeating: 0, count: q.count), [Double](repeating: 0, count: q.count),
      [Double](repeating: 0, count: q.count), [Double](repeating: 0, count: q.count)
    )
    let s = Double(scale)
    for t in 0..<steps {
      for j in 0...t {
        for h in 0..<shape.heads {
          let (qt, kj, vj, gt) = (
            shape.slice(q, t, h), shape.slice(k, j, h), shape.slice(v, j, h), shape.slice(dOut, t, h)
          )
          let (qk, vg) = (Self.dot(qt, kj), Self.dot(vj, gt))
          for a in 0..<shape.size {
            refOut[t * shape.width + h * shape.size + a] += s * qk * vj[a]
            refDq[t * shape.width + h * shape.size + a] += s * vg * kj[a]
            refDk[j * shape.width + h * shape.size + a] += s * vg * qt[a]
            refDv[j * shape.width + h * shape.size + a] += s * qk * gt[a]
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
      &refState, keys: k, values: v, weights: nil, count: steps, heads: shape.heads, headSize: shape.size)
    #expect(firstMismatch(state, refState.map(Double.init)) == nil)
  }
}
