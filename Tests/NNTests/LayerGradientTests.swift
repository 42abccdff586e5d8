import Testing

@testable import NN
@testable import TensorCore

/// Finite-difference gradient checks (GradCheck: loss = Σ dy ⊙ y, central differences, h = 1e-2) for every layer,
/// on tiny shapes, checking the input gradient and every parameter gradient.
@Suite struct LayerGradientTests {
  @Test(arguments: [true, false])
  func linear(bias: Bool) {
    let linear = Linear(name: "proj", inputSize: 5, outputSize: 3, bias: bias)
    initialiseRandomly(linear.parameters, seed: 1)
    let x = checkedInput("x", randomTensor([2, 4, 5], seed: 2))  // leading dims [2, 4] are flattened
    let report = GradCheck.check(
      inputs: [x], parameters: linear.parameters, entriesPerTensor: 40,
      forward: { linear.forward(x.value) },
      backward: { dy in accumulate(linear.backward(dy, input: x.value), into: x.grad) })
    expectPassed(report, "Linear(bias: \(bias))")
  }

  @Test func embeddingLookupWithoutPadding() {
    let embedding = Embedding(name: "emb", embeddingCount: 6, dimension: 4, paddingIndex: nil)
    initialiseRandomly(embedding.parameters, seed: 3)
    let ids: [Int32] = [0, 3, 3, 5, 1, 0, 2, 3]  // repeats must accumulate
    let report = GradCheck.check(
      parameters: embedding.parameters, entriesPerTensor: 24,
      forward: { embedding.forward(ids, shape: [2, 4]) },
      backward: { dy in embedding.backward(dy, ids: ids) })
    expectPassed(report, "Embedding lookup")
  }

  /// With `paddingIndex` 0 the lookup gradient of row 0 is blocked on purpose, so finite differences disagree
  /// exactly there: every entry of the table is checked, and the mismatches must be precisely row 0's entries.
  @Test func embeddingLookupBlocksOnlyThePaddingRow() {
    let (count, d) = (6, 4)
    let embedding = Embedding(name: "emb", embeddingCount: count, dimension: d)
    initialiseRandomly(embedding.parameters, seed: 4)
    let ids: [Int32] = [1, 0, 3, 3, 0, 5]
    let report = GradCheck.check(
      parameters: embedding.parameters, entriesPerTensor: count * d,
      forward: { embedding.forward(ids) },
      backward: { dy in embedding.backward(dy, ids: ids) })
    #expect(report.checked == count * d)
    #expect(report.mismatches.map(\.index).sorted() == Array(0..<d), "\(report)")
    #expect(report.maxAbsGradient > 0)
    #expect(embedding.weight.grad.array[0..<d].allSatisfy { $0 == 0 })
  }

  /// Tied scoring h · Eᵀ: dE reaches every row, the padding row included.
  @Test func tiedScoring() {
    let embedding = Embedding(name: "item_embedding", embeddingCount: 6, dimension: 4)
    initialiseRandomly(embedding.parameters, seed: 5)
    let h = checkedInput("h", randomTensor([3, 4], seed: 6))
    let report = GradCheck.check(
      inputs: [h], parameters: embedding.parameters, entriesPerTensor: 24,
      forward: { embedding.scores(h.value) },
      backward: { dy in accumulate(embedding.scoresBackward(dy, input: h.value), into: h.grad) })
    expectPassed(report, "tied scoring")
    #expect(embedding.weight.grad.array[0..<4].contains { $0 != 0 }, "padding row must get the scoring gradient")
  }

  @Test(arguments: [Float(1e-12), 1e-5])
  func layerNorm(eps: Float) {
    let norm = LayerNorm(name: "ln", size: 6, eps: eps)
    var rng = SeededRNG(seed: 7)
    norm.weight.initNormal(mean: 1, std: 0.3, rng: &rng)
    norm.bias.initNormal(std: 0.3, rng: &rng)
    let x = checkedInput("x", randomTensor([4, 6], -2, 2, seed: 8))
    var cache: LayerNormCache?
    let report = GradCheck.check(
      inputs: [x], parameters: norm.parameters,
      forward: {
        let (y, c) = norm.forward(x.value)
        cache = c
        return y
      },
      backward: { dy in accumulate(norm.backward(dy, cache!), into: x.grad) })
    expectPassed(report, "LayerNorm(eps: \(eps))")
  }

  /// The same seed for every forward call gives the same mask, so the layer is a fixed function to differentiate.
  @Test func dropoutWithFixedMask() {
    let dropout = Dropout(probability: 0.4)
    let x = checkedInput("x", randomTensor([5, 6], seed: 9))
    var cache: DropoutCache?
    let report = GradCheck.check(
      inputs: [x], parameters: [],
      forward: {
        var rng = SeededRNG(seed: 10)
        let (y, c) = dropout.forward(x.value, training: true, rng: &rng)
        cache = c
        return y
      },
      backward: { dy in accumulate(dropout.backward(dy, cache!), into: x.grad) })
    expectPassed(report, "Dropout")
    let mask = cache!.mask!.array
    #expect(mask.contains(0) && mask.contains(1 / 0.6), "the mask must both drop and scale")
  }

  @Test(arguments: ActivationFunction.allCases)
  func activation(function: ActivationFunction) {
    let layer = Activation(function)
    // An even grid over [−2.95, 2.925] (step 0.125), so every part of each curve is checked; entries with |x| < 0.1
    // move to ±0.5 so no central difference (h = 0.01) straddles the ReLU/ELU kink at 0.
    let x = Tensor(zeros: [6, 8])
    for i in 0..<x.count {
      let v = -2.95 + 0.125 * Float(i)
      x[i] = abs(v) < 0.1 ? (v < 0 ? -0.5 : 0.5) : v
    }
    let input = checkedInput("x", x)
    var cache: ActivationCache?
    let report = GradCheck.check(
      inputs: [input], parameters: [], entriesPerTensor: x.count,
      forward: {
        let (y, c) = layer.forward(input.value)
        cache = c
        return y
      },
      backward: { dy in accumulate(layer.backward(dy, cache!), into: input.grad) })
    expectPassed(report, "\(function)")
  }

  /// Both dropout sites active (p = 0.3) with a fixed mask, for the RecBLR (SiLU, inner dropout) and SASRec (GELU,
  /// no inner dropout) configurations.
  @Test(arguments: [(ActivationFunction.silu, Float(0.3)), (.gelu, 0)])
  func feedForward(function: ActivationFunction, innerDropout: Float) {
    let ffn = FeedForward(
      name: "ffn", size: 6, innerSize: 12, activation: function, innerDropoutProbability: innerDropout,
      outputDropoutProbability: 0.3)
    initialiseRandomly(ffn.parameters, std: 0.4, seed: 12)
    var rng = SeededRNG(seed: 13)
    ffn.layerNorm.weight.initNormal(mean: 1, std: 0.2, rng: &rng)
    let x = checkedInput("x", randomTensor([2, 3, 6], -1.5, 1.5, seed: 14))
    var cache: FeedForwardCache?
    let report = GradCheck.check(
      inputs: [x], parameters: ffn.parameters,
      forward: {
        var rng = SeededRNG(seed: 15)
        let (y, c) = ffn.forward(x.value, training: true, rng: &rng)
        cache = c
        return y
      },
      backward: { dy in accumulate(ffn.backward(dy, cache!), into: x.grad) })
    expectPassed(report, "FeedForward(\(function), inner dropout \(innerDropout))")
    #expect(cache!.outputDropout.mask != nil && (cache!.innerDropout.mask != nil) == (innerDropout > 0))
  }
}
