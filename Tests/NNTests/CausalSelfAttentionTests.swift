import Foundation
import Testing

@testable import NN
@testable import TensorCore

private func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
  var rng = SeededRNG(seed: seed)
  let t = Tensor(zeros: shape)
  t.fillUniform(-1, 1, rng: &rng)
  return t
}

/// Plain-loop reference in Double: the masked softmax attention of one batch, optionally with a dropout multiplier
/// tensor [B, h, L, L]. `maskValue == −inf` means exact masking with zero output for keyless queries.
private func naiveAttention(
  q: Tensor, k: Tensor, v: Tensor, lengths: [Int32], heads: Int, maskValue: Float, dropMask: Tensor? = nil
) -> [Double] {
  let (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2])
  let headSize = width / heads
  var out = [Double](repeating: 0, count: q.count)
  for b in 0..<batch {
    for head in 0..<heads {
      for t in 0..<length {
        var scores = [Double](repeating: 0, count: length)
        var allowed = [Bool](repeating: false, count: length)
        for s in 0..<length {
          allowed[s] = s <= t && s < Int(lengths[b])
          var dot = 0.0
          for j in 0..<headSize {
            let i = (b * length) * width + head * headSize + j
            dot += Double(q[i + t * width]) * Double(k[i + s * width])
          }
          scores[s] = dot / Double(headSize).squareRoot() + (allowed[s] ? 0 : Double(maskValue))
        }
        let keys = maskValue == -.infinity ? (0..<length).filter { allowed[$0] } : Array(0..<length)
        if keys.isEmpty { continue }
        let top = keys.map { scores[$0] }.max()!
        let total = keys.reduce(0.0) { $0 + exp(scores[$1] - top) }
        for s in keys {
          var p = exp(scores[s] - top) / total
          if let dropMask { p *= Double(dropMask[((b * heads + head) * length + t) * length + s]) }
          for j in 0..<headSize {
            let i = (b * length) * width + head * headSize + j
            out[i + t * width] += p * Double(v[i + s * width])
          }
        }
      }
    }
  }
  return out
}

private func maxAbsDifference(_ a: [Double], _ b: Tensor) -> Double {
  zip(a, b.array).reduce(0.0) { max($0, abs($1.0 - Double($1.1))) }
}

@Suite struct CausalSelfAttentionTests {
  let batch = 3
  let length = 5
  let width = 8
  let heads = 2
  /// Full row, padded row, and an empty row.
  let lengths: [Int32] = [5, 3, 0]

  func inputs(seed: UInt64) -> (Tensor, Tensor, Tensor) {
    let shape = [batch, length, width]
    return (randomTensor(shape, seed: seed), randomTensor(shape, seed: seed + 1), randomTensor(shape, seed: seed + 2))
  }

  @Test func forwardMatchesNaiveReference() {
    let (q, k, v) = inputs(seed: 10)
    let attention = CausalSelfAttention(heads: heads)
    let (out, _) = attention.forward(q: q, k: k, v: v, lengths: lengths)
    let ref = naiveAttention(q: q, k: k, v: v, lengths: lengths, heads: heads, maskValue: -.infinity)
    #expect(maxAbsDifference(ref, out) < 1e-5)
    // The empty row is exactly zero; the others are not.
    let rowSize = length * width
    #expect(out.array[(2 * rowSize)...].allSatisfy { $0 == 0 })
    #expect(out.array[0..<rowSize].contains { $0 != 0 })
  }

  @Test func finiteMaskValueMatchesRecBole() {
    let (q, k, v) = inputs(seed: 20)
    let recbole = CausalSelfAttention(heads: heads, maskValue: -10_000)
    let (out, _) = recbole.forward(q: q, k: k, v: v, lengths: lengths)
    let ref = naiveAttention(q: q, k: k, v: v, lengths: lengths, heads: heads, maskValue: -10_000)
    #expect(maxAbsDifference(ref, out) < 1e-5)
    // Identical to exact masking except for the fully masked row (length 0), which RecBole fills with a softmax over
    // the raw scores of all keys.
    let (exactOut, _) = CausalSelfAttention(heads: heads).forward(q: q, k: k, v: v, lengths: lengths)
    let rowSize = length * width
    for i in 0..<(2 * rowSize) { #expect(out[i] == exactOut[i]) }
    #expect(out.array[(2 * rowSize)...].contains { $0 != 0 })
  }

  @Test func dropoutForwardMatchesReferenceWithItsMask() throws {
    let (q, k, v) = inputs(seed: 30)
    let attention = CausalSelfAttention(heads: heads, dropout: 0.3)
    var rng = SeededRNG(seed: 5)
    let (out, cache) = attention.forward(q: q, k: k, v: v, lengths: lengths, training: true, rng: &rng)
    let mask = try #require(cache.dropMask)
    #expect(mask.array.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
    // About 30% of the entries that can carry probability (keys s < length) are dropped.
    var used: [Float] = []
    for b in 0..<batch {
      for head in 0..<heads {
        for t in 0..<length {
          for s in 0..<Int(lengths[b]) { used.append(mask[((b * heads + head) * length + t) * length + s]) }
        }
      }
    }
    let droppedFraction = Double(used.filter { $0 == 0 }.count) / Double(used.count)
    #expect(droppedFraction > 0.15 && droppedFraction < 0.45, "dropped \(droppedFraction)")
    let ref = naiveAttention(
      q: q, k: k, v: v, lengths: lengths, heads: heads, maskValue: -.infinity, dropMask: mask)
    #expect(maxAbsDifference(ref, out) < 1e-5)
    // Evaluation mode draws no mask.
    var evalRNG = SeededRNG(seed: 5)
    let (_, evalCache) = attention.forward(q: q, k: k, v: v, lengths: lengths, training: false, rng: &evalRNG)
    #expect(evalCache.dropMask == nil)
  }

  @Test(arguments: [(0, -.infinity), (0.3, -.infinity), (0, -10_000), (0.3, -10_000)] as [(Float, Float)])
  func gradientsMatchFiniteDifferences(dropout: Float, maskValue: Float) {
    let (q, k, v) = inputs(seed: 40)
    let grads = (Tensor(zeros: q.shape), Tensor(zeros: q.shape), Tensor(zeros: q.shape))
    let attention = CausalSelfAttention(heads: heads, dropout: dropout, maskValue: maskValue)
    var cache: CausalSelfAttentionCache?
    let report = GradCheck.check(
      inputs: [
        .init("q", value: q, grad: grads.0), .init("k", value: k, grad: grads.1), .init("v", value: v, grad: grads.2),
      ],
      parameters: [], entriesPerTensor: q.count,
      forward: {
        var rng = SeededRNG(seed: 99)  // same dropout mask on every forward
        let (out, c) = attention.forward(q: q, k: k, v: v, lengths: lengths, training: true, rng: &rng)
        cache = c
        return out
      },
      backward: { dy in
        let (dq, dk, dv) = attention.backward(dy, cache!)
        for (grad, d) in [(grads.0, dq), (grads.1, dk), (grads.2, dv)] {
          for i in 0..<grad.count { grad[i] += d[i] }
        }
      })
    #expect(report.passed, "\(report)")
    #expect(report.maxAbsGradient > 0)
  }

  @Test func keylessQueriesGiveZerosAndNoGradient() {
    let (q, k, v) = inputs(seed: 50)
    let attention = CausalSelfAttention(heads: heads, dropout: 0.2)
    var rng = SeededRNG(seed: 3)
    let allEmpty: [Int32] = [0, 0, 0]
    let (out, cache) = attention.forward(q: q, k: k, v: v, lengths: allEmpty, training: true, rng: &rng)
    #expect(out.array.allSatisfy { $0 == 0 })
    let (dq, dk, dv) = attention.backward(randomTensor(q.shape, seed: 51), cache)
    for d in [dq, dk, dv] { #expect(d.array.allSatisfy { $0 == 0 }) }
    // In a mixed batch the empty row gets no gradient and nothing is NaN.
    let (_, mixed) = attention.forward(q: q, k: k, v: v, lengths: lengths, training: true, rng: &rng)
    let grads = attention.backward(randomTensor(q.shape, seed: 52), mixed)
    let rowSize = length * width
    for d in [grads.dq, grads.dk, grads.dv] {
      #expect(d.array.allSatisfy { $0.isFinite })
      #expect(d.array[(2 * rowSize)...].allSatisfy { $0 == 0 })
    }
    // Padding keys (positions ≥ length) get no key/value gradient.
    for s in 3..<length {
      let row = (1 * length + s) * width
      #expect(grads.dk.array[row..<(row + width)].allSatisfy { $0 == 0 })
      #expect(grads.dv.array[row..<(row + width)].allSatisfy { $0 == 0 })
    }
  }

  @Test func outputAtTIgnoresLaterPositions() {
    let (q, k, v) = inputs(seed: 60)
    let full: [Int32] = [5, 5, 5]
    let attention = CausalSelfAttention(heads: heads)
    let (before, _) = attention.forward(q: q, k: k, v: v, lengths: full)
    let t = 2
    // Change every input after position t.
    for b in 0..<batch {
      for s in (t + 1)..<length {
        for j in 0..<width {
          let i = (b * length + s) * width + j
          q[i] += 0.7
          k[i] -= 0.9
          v[i] += 1.3
        }
      }
    }
    let (after, _) = attention.forward(q: q, k: k, v: v, lengths: full)
    var laterChanged = false
    for b in 0..<batch {
      for s in 0..<length {
        for j in 0..<width {
          let i = (b * length + s) * width + j
          if s <= t { #expect(abs(after[i] - before[i]) <= 1e-6, "b \(b) position \(s)") }
          if s > t && abs(after[i] - before[i]) > 1e-3 { laterChanged = true }
        }
      }
    }
    #expect(laterChanged)
  }

  @Test func paddingKeysAreIgnored() {
    let (q, k, v) = inputs(seed: 70)
    let attention = CausalSelfAttention(heads: heads)
    let (before, _) = attention.forward(q: q, k: k, v: v, lengths: lengths)
    // Change keys and values at the padding positions of every row (length 5 has none).
    for b in 0..<batch {
      for s in Int(lengths[b])..<length {
        for j in 0..<width {
          let i = (b * length + s) * width + j
          k[i] += 2
          v[i] -= 3
        }
      }
    }
    let (after, _) = attention.forward(q: q, k: k, v: v, lengths: lengths)
    for i in 0..<before.count { #expect(abs(after[i] - before[i]) <= 1e-6) }
    // The same changes with every position treated as real do change the output.
    let full: [Int32] = [5, 5, 5]
    let (unmasked, _) = attention.forward(q: q, k: k, v: v, lengths: full)
    let rowSize = length * width
    #expect((rowSize..<(2 * rowSize)).contains { abs(unmasked[$0] - before[$0]) > 1e-3 })
  }
}
