import Foundation
import Testing

@testable import NN
@testable import TensorCore

private func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
  var rng = SeededRNG(seed: seed)
  let t = Tensor(zeros: shape)
  t.fillUniform(-scale, scale, rng: &rng)
  return t
}

/// A GRU with seeded random weights (the layer itself starts at zero).
private func makeGRU(inputSize: Int, hiddenSize: Int, bias: Bool, seed: UInt64) -> GRU {
  let gru = GRU(name: "gru", inputSize: inputSize, hiddenSize: hiddenSize, bias: bias)
  var rng = SeededRNG(seed: seed)
  for p in gru.parameters { p.value.fillUniform(-0.6, 0.6, rng: &rng) }
  return gru
}

/// Plain-loop reference in Double of the PyTorch GRU equations, h_{−1} = 0. Returns [B, T, H].
private func naiveGRU(_ gru: GRU, _ x: Tensor) -> [Double] {
  let (batch, length, inputs, hidden) = (x.shape[0], x.shape[1], gru.inputSize, gru.hiddenSize)
  let (wih, whh) = (gru.weightIH.value, gru.weightHH.value)
  func bias(_ p: Parameter?, _ i: Int) -> Double { p.map { Double($0.value[i]) } ?? 0 }
  func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
  var out = [Double](repeating: 0, count: batch * length * hidden)
  for b in 0..<batch {
    var h = [Double](repeating: 0, count: hidden)
    for t in 0..<length {
      // a[g] = W_i[g] x + b_i[g];  c[g] = W_h[g] h + b_h[g]   for the 3H stacked rows
      var a = [Double](repeating: 0, count: 3 * hidden)
      var c = [Double](repeating: 0, count: 3 * hidden)
      for g in 0..<(3 * hidden) {
        a[g] = bias(gru.biasIH, g)
        for i in 0..<inputs { a[g] += Double(wih[g * inputs + i]) * Double(x[(b * length + t) * inputs + i]) }
        c[g] = bias(gru.biasHH, g)
        for j in 0..<hidden { c[g] += Double(whh[g * hidden + j]) * h[j] }
      }
      var next = h
      for j in 0..<hidden {
        let r = sigmoid(a[j] + c[j])
        let z = sigmoid(a[hidden + j] + c[hidden + j])
        let n = tanh(a[2 * hidden + j] + r * c[2 * hidden + j])
        next[j] = (1 - z) * n + z * h[j]
      }
      h = next
      for j in 0..<hidden { out[(b * length + t) * hidden + j] = h[j] }
    }
  }
  return out
}

@Suite struct GRUTests {
  @Test func parameterNamesAndShapesFollowPyTorch() {
    let gru = GRU(name: "gru_layers", inputSize: 4, hiddenSize: 3)
    #expect(
      gru.parameters.map(\.name) == [
        "gru_layers.weight_ih_l0", "gru_layers.weight_hh_l0", "gru_layers.bias_ih_l0", "gru_layers.bias_hh_l0",
      ])
    #expect(gru.parameters.map(\.shape) == [[9, 4], [9, 3], [9], [9]])
    let biasFree = GRU(name: "g", inputSize: 4, hiddenSize: 3, bias: false)
    #expect(biasFree.parameters.map(\.name) == ["g.weight_ih_l0", "g.weight_hh_l0"])
  }

  /// Hidden sizes 5 (the one-unit loop only), 11 (eight units at once, then three) and 16 (eight at once only).
  @Test(arguments: [true, false], [5, 11, 16])
  func forwardMatchesNaiveReference(bias: Bool, hidden: Int) {
    let gru = makeGRU(inputSize: 4, hiddenSize: hidden, bias: bias, seed: 1)
    let x = randomTensor([3, 6, 4], seed: 2)
    let (out, _) = gru.forward(x)
    let ref = naiveGRU(gru, x)
    #expect(out.shape == [3, 6, hidden])
    let diff = zip(ref, out.array).reduce(0.0) { max($0, abs($1.0 - Double($1.1))) }
    #expect(diff < 1e-5)
    #expect(out.array.contains { abs($0) > 0.1 })
  }

  @Test(
    arguments: [(true, nil, 3), (false, nil, 3), (true, 3, 3), (false, 3, 3), (true, nil, 11), (false, 3, 11)]
      as [(Bool, Int?, Int)])
  func gradientsMatchFiniteDifferences(bias: Bool, steps: Int?, hidden: Int) {
    let gru = makeGRU(inputSize: 4, hiddenSize: hidden, bias: bias, seed: 3)
    let x = randomTensor([2, 5, 4], seed: 4)
    let dx = Tensor(zeros: x.shape)
    var cache: GRUCache?
    let report = GradCheck.check(
      inputs: [.init("x", value: x, grad: dx)], parameters: gru.parameters, entriesPerTensor: 40,
      forward: {
        let (out, c) = gru.forward(x, steps: steps)
        cache = c
        return out
      },
      backward: { dy in
        let d = gru.backward(dy, cache!)
        for i in 0..<dx.count { dx[i] += d[i] }
      })
    #expect(report.passed, "\(report)")
    #expect(report.maxAbsGradient > 0)
  }

  @Test func backwardAccumulatesIntoParameterGradients() {
    let gru = makeGRU(inputSize: 3, hiddenSize: 2, bias: true, seed: 5)
    let x = randomTensor([2, 4, 3], seed: 6)
    let dy = randomTensor([2, 4, 2], seed: 7)
    let (_, cache) = gru.forward(x)
    _ = gru.backward(dy, cache)
    let once = gru.parameters.map(\.grad.array)
    _ = gru.backward(dy, cache)
    for (p, g) in zip(gru.parameters, once) {
      for i in 0..<p.count { #expect(abs(p.grad[i] - 2 * g[i]) <= 1e-5 * max(1, abs(g[i]))) }
    }
  }

  @Test func stepsRunsOnlyThePrefix() {
    let gru = makeGRU(inputSize: 4, hiddenSize: 3, bias: true, seed: 8)
    let x = randomTensor([3, 6, 4], seed: 9)
    let (full, _) = gru.forward(x)
    let (prefix, cache) = gru.forward(x, steps: 4)
    #expect(cache.steps == 4 && prefix.shape == full.shape)
    for b in 0..<3 {
      for t in 0..<6 {
        for j in 0..<3 {
          let i = (b * 6 + t) * 3 + j
          #expect(t < 4 ? prefix[i] == full[i] : prefix[i] == 0)
        }
      }
    }
    let dx = gru.backward(randomTensor(full.shape, seed: 10), cache)
    for b in 0..<3 {
      for t in 4..<6 { #expect(dx.array[((b * 6 + t) * 4)..<((b * 6 + t + 1) * 4)].allSatisfy { $0 == 0 }) }
    }
    let (none, noneCache) = gru.forward(x, steps: 0)
    #expect(none.array.allSatisfy { $0 == 0 })
    #expect(gru.backward(none, noneCache).array.allSatisfy { $0 == 0 })
  }

  @Test(arguments: [true, false])
  func steppingEqualsFullForward(bias: Bool) {
    let (batch, length, inputs, hidden) = (3, 5, 4, 3)
    let gru = makeGRU(inputSize: inputs, hiddenSize: hidden, bias: bias, seed: 11)
    let x = randomTensor([batch, length, inputs], seed: 12)
    let (full, _) = gru.forward(x)
    var h = Tensor(zeros: [batch, hidden])
    for t in 0..<length {
      let xt = Tensor(zeros: [batch, inputs])
      for b in 0..<batch { (xt.ptr + b * inputs).update(from: x.ptr + (b * length + t) * inputs, count: inputs) }
      gru.step(x: xt, h: &h)
      for b in 0..<batch {
        for j in 0..<hidden { #expect(abs(h[b * hidden + j] - full[(b * length + t) * hidden + j]) <= 1e-6) }
      }
    }
  }

  /// A batch large enough for the step kernels to split across threads gives the same rows as one-row batches.
  @Test func parallelRowsMatchSmallBatches() {
    let (batch, length, inputs, hidden) = (6000, 3, 2, 2)
    let gru = makeGRU(inputSize: inputs, hiddenSize: hidden, bias: true, seed: 13)
    let x = randomTensor([batch, length, inputs], seed: 14)
    let dy = randomTensor([batch, length, hidden], seed: 15)
    let (out, cache) = gru.forward(x)
    let dx = gru.backward(dy, cache)
    for b in [0, 2999, 3000, 5999] {
      let xb = x.rows(b..<(b + 1)).copy()
      let (ob, cb) = gru.forward(xb)
      let dxb = gru.backward(dy.rows(b..<(b + 1)).copy(), cb)
      for i in 0..<ob.count { #expect(abs(ob[i] - out[b * length * hidden + i]) <= 1e-6) }
      for i in 0..<dxb.count { #expect(abs(dxb[i] - dx[b * length * inputs + i]) <= 1e-5) }
    }
  }
}
