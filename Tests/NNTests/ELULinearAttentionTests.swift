import Foundation
import Testing

@testable import NN
@testable import TensorCore

/// ELU-norm linear attention core: a naive Double reference (per query, per head: o = Σ_j w_j (q̂·k̂_j) v_j / √d_h
/// over the keys it may see), weighted keys vs repeated keys, streaming vs parallel, finite-difference gradients.
@Suite struct ELULinearAttentionTests {
  static let (heads, d) = (2, 6)

  /// ELU(x)/‖ELU(x)‖ per head, in Double.
  static func normalized(_ x: Tensor, row: Int, head: Int) -> [Double] {
    let size = d / heads
    let e = (0..<size).map { a -> Double in
      let v = Double(x[row * d + head * size + a])
      return v > 0 ? v : exp(v) - 1
    }
    let norm = e.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return e.map { $0 / norm }
  }

  /// o[query row] = Σ over visible keys j of w_j (q̂·k̂_j) v_j / √d_h, per head.
  static func naive(
    q: Tensor, k: Tensor, v: Tensor, visibleKeys: (Int) -> [Int], weights: [Float]?
  ) -> [Double] {
    let size = d / heads
    let rows = q.count / d
    var out = [Double](repeating: 0, count: rows * d)
    for i in 0..<rows {
      for h in 0..<heads {
        let qh = normalized(q, row: i, head: h)
        for j in visibleKeys(i) {
          let kh = normalized(k, row: j, head: h)
          let score = zip(qh, kh).reduce(0) { $0 + $1.0 * $1.1 } * Double(weights?[j] ?? 1)
          for c in 0..<size {
            out[i * d + h * size + c] += score * Double(v[j * d + h * size + c]) / Double(size).squareRoot()
          }
        }
      }
    }
    return out
  }

  static func maxError(_ a: Tensor, _ b: [Double]) -> Double {
    zip(a.array, b).reduce(0.0) { max($0, abs(Double($1.0) - $1.1)) }
  }

  @Test func globalContextMatchesNaiveReference() {
    let attention = ELULinearAttention(headCount: Self.heads, dimension: Self.d)
    let querySegments = SequenceSegments(lengths: [1, 2, 1])
    let keySegments = SequenceSegments(lengths: [3, 1, 4])
    let q = randomTensor([4, Self.d], seed: 1)
    let k = randomTensor([8, Self.d], seed: 2)
    let v = randomTensor([8, Self.d], seed: 3)
    let weights: [Float] = [1, 2, 0.5, 1, 3, 1, 1, 7]
    let (o, _) = attention.forward(
      queries: q, keys: k, values: v,
      context: .global(querySegments: querySegments, keySegments: keySegments, keyWeights: weights))
    let queryOwner = [0, 1, 1, 2]
    let reference = Self.naive(
      q: q, k: k, v: v, visibleKeys: { Array(keySegments.range(queryOwner[$0])) }, weights: weights)
    #expect(Self.maxError(o, reference) < 1e-5)
    #expect(o.array.contains { abs($0) > 0.05 })
  }

  @Test func causalContextMatchesNaiveReference() {
    let attention = ELULinearAttention(headCount: Self.heads, dimension: Self.d)
    let segments = SequenceSegments(lengths: [4, 1, 3])
    let (q, k, v) = (
      randomTensor([8, Self.d], seed: 4), randomTensor([8, Self.d], seed: 5), randomTensor([8, Self.d], seed: 6)
    )
    let (o, _) = attention.forward(queries: q, keys: k, values: v, context: .causal(segments))
    let owner = [0, 0, 0, 0, 1, 2, 2, 2]
    let reference = Self.naive(
      q: q, k: k, v: v, visibleKeys: { Array(segments.range(owner[$0]).lowerBound...$0) }, weights: nil)
    #expect(Self.maxError(o, reference) < 1e-5)
  }

  /// A key row of weight m is the same as m copies of it (how GLINT-RU adds its identical padding keys).
  @Test func aWeightedKeyEqualsRepeatedKeys() {
    let attention = ELULinearAttention(headCount: Self.heads, dimension: Self.d)
    let q = randomTensor([2, Self.d], seed: 7)
    let k = randomTensor([2, Self.d], seed: 8)
    let v = randomTensor([2, Self.d], seed: 9)
    let (weighted, _) = attention.forward(
      queries: q, keys: k, values: v,
      context: .global(
        querySegments: .uniform(count: 1, length: 2), keySegments: .uniform(count: 1, length: 2), keyWeights: [1, 5]))
    let repeatedKeys = Tensor(zeros: [6, Self.d])
    let repeatedValues = Tensor(zeros: [6, Self.d])
    for j in 0..<6 {
      let source = j == 0 ? 0 : 1
      for c in 0..<Self.d {
        repeatedKeys[j * Self.d + c] = k[source * Self.d + c]
        repeatedValues[j * Self.d + c] = v[source * Self.d + c]
      }
    }
    let (repeated, _) = attention.forward(
      queries: q, keys: repeatedKeys, values: repeatedValues,
      context: .global(
        querySegments: .uniform(count: 1, length: 2), keySegments: .uniform(count: 1, length: 6), keyWeights: nil))
    #expect(zip(weighted.array, repeated.array).allSatisfy { abs($0 - $1) < 1e-5 })
  }

  @Test func streamingStepsEqualTheCausalForward() {
    let attention = ELULinearAttention(headCount: Self.heads, dimension: Self.d)
    let (q, k, v) = (
      randomTensor([5, Self.d], seed: 10), randomTensor([5, Self.d], seed: 11), randomTensor([5, Self.d], seed: 12)
    )
    let (o, _) = attention.forward(queries: q, keys: k, values: v, context: .causal(.uniform(count: 1, length: 5)))
    var state = [Float](repeating: 0, count: Self.d * Self.d / Self.heads)
    for t in 0..<5 {
      let row = { (x: Tensor) in Array(x.array[(t * Self.d)..<((t + 1) * Self.d)]) }
      let step = attention.step(query: row(q), key: row(k), value: row(v), state: &state)
      #expect(zip(step, row(o)).allSatisfy { abs($0 - $1) < 1e-5 }, "step \(t)")
    }
  }

  static func gradientCheck(_ context: ELULinearAttention.Context, queryRows: Int, keyRows: Int) -> GradCheck.Report {
    let attention = ELULinearAttention(headCount: heads, dimension: d)
    let q = checkedInput("q", randomTensor([queryRows, d], -1.5, 1.5, seed: 13))
    let k = checkedInput("k", randomTensor([keyRows, d], -1.5, 1.5, seed: 14))
    let v = checkedInput("v", randomTensor([keyRows, d], seed: 15))
    var cache: ELULinearAttentionCache?
    return GradCheck.check(
      inputs: [q, k, v], parameters: [], entriesPerTensor: 40,
      forward: {
        let (o, c) = attention.forward(queries: q.value, keys: k.value, values: v.value, context: context)
        cache = c
        return o
      },
      backward: { dy in
        let (dq, dk, dv) = attention.backward(dy, cache!)
        accumulate(dq, into: q.grad)
        accumulate(dk, into: k.grad)
        accumulate(dv, into: v.grad)
      })
  }

  @Test func globalGradientsMatchFiniteDifferences() {
    let context = ELULinearAttention.Context.global(
      querySegments: SequenceSegments(lengths: [1, 2]), keySegments: SequenceSegments(lengths: [3, 2]),
      keyWeights: [1, 1, 4, 0.5, 1])
    expectPassed(Self.gradientCheck(context, queryRows: 3, keyRows: 5), "global attention")
  }

  @Test func causalGradientsMatchFiniteDifferences() {
    let context = ELULinearAttention.Context.causal(SequenceSegments(lengths: [4, 2]))
    expectPassed(Self.gradientCheck(context, queryRows: 6, keyRows: 6), "causal attention")
  }
}
