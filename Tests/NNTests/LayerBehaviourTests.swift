import Testing

@testable import NN
@testable import TensorCore

/// Forward values against naive loops, parameter naming, and the train/eval behaviour of the layers.
@Suite struct LayerBehaviourTests {
  @Test func linearForwardMatchesNaiveLoops() {
    let linear = Linear(name: "w", inputSize: 5, outputSize: 3)
    initialiseRandomly(linear.parameters, seed: 1)
    let x = randomTensor([2, 2, 5], seed: 2)
    let y = linear.forward(x)
    #expect(y.shape == [2, 2, 3])
    for r in 0..<4 {
      for o in 0..<3 {
        var s = Double(linear.bias!.value[o])
        for i in 0..<5 { s += Double(x[r * 5 + i]) * Double(linear.weight.value[o * 5 + i]) }
        #expect(abs(Double(y[r * 3 + o]) - s) <= 1e-5 * max(1, abs(s)))
      }
    }
    #expect(linear.parameters.map(\.name) == ["w.weight", "w.bias"])
    #expect(Linear(name: "p", inputSize: 2, outputSize: 2, bias: false).parameters.map(\.name) == ["p.weight"])
  }

  @Test func backwardAccumulatesParameterGradients() {
    let linear = Linear(name: "w", inputSize: 3, outputSize: 2)
    initialiseRandomly(linear.parameters, seed: 3)
    let x = randomTensor([4, 3], seed: 4)
    let dy = randomTensor([4, 2], seed: 5)
    _ = linear.backward(dy, input: x)
    let once = linear.weight.grad.array + linear.bias!.grad.array
    _ = linear.backward(dy, input: x)
    let twice = linear.weight.grad.array + linear.bias!.grad.array
    for (a, b) in zip(once, twice) { #expect(abs(2 * a - b) <= 1e-6) }
  }

  @Test func embeddingLooksUpRowsAndScoresAgainstEveryRow() {
    let embedding = Embedding(name: "item_embedding", embeddingCount: 5, dimension: 3)
    initialiseRandomly(embedding.parameters, seed: 6)
    let table = embedding.weight.value.array
    let out = embedding.forward([4, 0, 2], shape: [1, 3])
    #expect(out.shape == [1, 3, 3])
    #expect(out.array == Array(table[12..<15] + table[0..<3] + table[6..<9]))
    let h = randomTensor([2, 3], seed: 7)
    let scores = embedding.scores(h)
    #expect(scores.shape == [2, 5])
    for b in 0..<2 {
      for n in 0..<5 {
        let s = (0..<3).reduce(0.0) { $0 + Double(h[b * 3 + $1]) * Double(table[n * 3 + $1]) }
        #expect(abs(Double(scores[b * 5 + n]) - s) <= 1e-5 * max(1, abs(s)))
      }
    }
  }

  @Test func embeddingBackwardSkipsOnlyThePaddingRow() {
    let embedding = Embedding(name: "e", embeddingCount: 4, dimension: 2, paddingIndex: 0)
    let dy = Tensor(shape: [4, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
    embedding.backward(dy, ids: [0, 3, 0, 3])
    #expect(embedding.weight.grad.array == [0, 0, 0, 0, 0, 0, 3 + 7, 4 + 8])
    let positions = Embedding(name: "pos", embeddingCount: 4, dimension: 2, paddingIndex: nil)
    positions.backward(dy, ids: [0, 3, 0, 3])
    #expect(positions.weight.grad.array == [6, 8, 0, 0, 0, 0, 10, 12])
  }

  @Test func layerNormStartsAsTheIdentityAffineMap() {
    let norm = LayerNorm(name: "layer_norm", size: 4)
    #expect(norm.eps == 1e-12)
    #expect(norm.weight.value.array == [1, 1, 1, 1] && norm.bias.value.array == [0, 0, 0, 0])
    let (y, cache) = norm.forward(Tensor(shape: [1, 4], values: [1, 2, 3, 4]))
    #expect(abs(cache.mean[0] - 2.5) < 1e-6)
    let expected: [Float] = [-1.5, -0.5, 0.5, 1.5].map { $0 / Float(1.25).squareRoot() }
    for (a, b) in zip(y.array, expected) { #expect(abs(a - b) < 1e-5) }
  }

  @Test func dropoutIsTheIdentityInEvalModeOrAtZeroProbability() {
    let x = randomTensor([3, 4], seed: 8)
    var rng = SeededRNG(seed: 9)
    for (dropout, training) in [(Dropout(probability: 0.5), false), (Dropout(probability: 0), true)] {
      let (y, cache) = dropout.forward(x, training: training, rng: &rng)
      #expect(y.array == x.array && cache.mask == nil)
      #expect(y.storage !== x.storage, "forward returns a new tensor")
      let dx = dropout.backward(y, cache)
      #expect(dx.array == x.array && dx.storage !== y.storage)
    }
  }

  @Test func dropoutDropsAboutPAndPreservesTheMean() {
    let x = Tensor(shape: [100, 100], repeating: 1)
    var rng = SeededRNG(seed: 10)
    let (y, cache) = Dropout(probability: 0.3).forward(x, training: true, rng: &rng)
    let dropped = Double(y.array.filter { $0 == 0 }.count) / 10_000
    #expect(abs(dropped - 0.3) < 0.02)
    #expect(abs(y.array.reduce(0, +) / 10_000 - 1) < 0.05)
    #expect(cache.mask!.array.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
    let (allDropped, _) = Dropout(probability: 1).forward(x, training: true, rng: &rng)
    #expect(allDropped.array.allSatisfy { $0 == 0 })
  }

  @Test func feedForwardUsesTheRecBLRParameterNames() {
    let ffn = FeedForward(
      name: "recurrent_layers.0.ffn", size: 4, innerSize: 16, activation: .silu, innerDropoutProbability: 0.2,
      outputDropoutProbability: 0.2)
    let names = ffn.parameters.map(\.name)
    let suffixes = ["w_1.weight", "w_1.bias", "w_2.weight", "w_2.bias", "layer_norm.weight", "layer_norm.bias"]
    #expect(names == suffixes.map { "recurrent_layers.0.ffn." + $0 })
    #expect(ffn.parameters.map(\.shape) == [[16, 4], [16], [4, 16], [4], [4], [4]])
  }

  @Test func feedForwardInEvalModeIsDeterministic() {
    let ffn = FeedForward(
      name: "ffn", size: 4, innerSize: 8, activation: .gelu, innerDropoutProbability: 0.5,
      outputDropoutProbability: 0.5)
    initialiseRandomly(ffn.parameters, seed: 11)
    let x = randomTensor([3, 4], seed: 12)
    var rng1 = SeededRNG(seed: 1)
    var rng2 = SeededRNG(seed: 2)
    let (y1, c1) = ffn.forward(x, training: false, rng: &rng1)
    let (y2, _) = ffn.forward(x, training: false, rng: &rng2)
    #expect(y1.array == y2.array)
    #expect(c1.innerDropout.mask == nil && c1.outputDropout.mask == nil)
  }

  @Test func xavierBoundsFollowFanInAndFanOut() {
    var rng = SeededRNG(seed: 13)
    let w = Parameter(name: "w", shape: [30, 20])
    #expect(w.fans == (20, 30))
    w.initXavierUniform(rng: &rng)
    let bound = (6.0 / 50).squareRoot()
    #expect(w.value.array.allSatisfy { abs(Double($0)) <= bound })
    #expect(w.value.array.contains { abs(Double($0)) > 0.9 * bound })
    let conv = Parameter(name: "conv", shape: [8, 1, 4])
    #expect(conv.fans == (4, 32))
    w.initXavierNormal(rng: &rng)
    let values = w.value.array.map(Double.init)
    let std = (values.map { $0 * $0 }.reduce(0, +) / Double(values.count)).squareRoot()
    #expect(abs(std - (2.0 / 50).squareRoot()) < 0.02)
  }
}
