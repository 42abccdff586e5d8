import Testing

@testable import NN
@testable import TensorCore

/// PositionalDropout: a token's mask depends only on (seed, site, row, position), not on where the token sits in
/// the tensor; the masks drop and scale at the right rate; gradients pass through the mask.
@Suite struct PositionalDropoutTests {
  @Test func aTokenGetsTheSameMaskWhereverItIs() {
    let dropout = PositionalDropout(probability: 0.4, site: 3)
    let x = Tensor(shape: [3, 16], repeating: 1)
    let tokens = [
      TokenPosition(row: 0, position: 5), TokenPosition(row: 2, position: 1), TokenPosition(row: 1, position: 5),
    ]
    let (y, _) = dropout.forward(x, at: tokens, seed: 42, training: true)
    let (reordered, _) = dropout.forward(x.rows(0..<2), at: [tokens[1], tokens[0]], seed: 42, training: true)
    #expect(Array(y.array[16..<32]) == Array(reordered.array[0..<16]))
    #expect(Array(y.array[0..<16]) == Array(reordered.array[16..<32]))
    // Different rows, positions, seeds or sites give different masks.
    #expect(Array(y.array[0..<16]) != Array(y.array[32..<48]))
    let (otherSeed, _) = dropout.forward(x.rows(0..<1), at: [tokens[0]], seed: 43, training: true)
    #expect(Array(otherSeed.array) != Array(y.array[0..<16]))
    let (otherSite, _) = PositionalDropout(probability: 0.4, site: 4).forward(
      x.rows(0..<1), at: [tokens[0]], seed: 42, training: true)
    #expect(Array(otherSite.array) != Array(y.array[0..<16]))
  }

  @Test func masksDropAtTheRequestedRateAndScaleTheRest() {
    let dropout = PositionalDropout(probability: 0.3, site: 1)
    let tokens = TokenPosition.grid(rows: 50, length: 40)
    let x = Tensor(shape: [tokens.count, 8], repeating: 2)
    let (y, cache) = dropout.forward(x, at: tokens, seed: 7, training: true)
    let dropped = y.array.filter { $0 == 0 }.count
    let rate = Double(dropped) / Double(y.count)
    #expect(abs(rate - 0.3) < 0.02, "drop rate \(rate)")
    #expect(y.array.allSatisfy { $0 == 0 || abs($0 - 2 / 0.7) < 1e-5 })
    let (evaluation, evalCache) = dropout.forward(x, at: tokens, seed: 7, training: false)
    #expect(evaluation.array == x.array && evalCache.mask == nil)
    let dy = randomTensor(x.shape, seed: 8)
    let dx = dropout.backward(dy, cache)
    for i in 0..<dx.count { #expect(dx[i] == dy[i] * cache.mask![i]) }
  }

  @Test func gradientsMatchFiniteDifferences() {
    let dropout = PositionalDropout(probability: 0.5, site: 2)
    let tokens = TokenPosition.grid(rows: 2, length: 3)
    let x = checkedInput("x", randomTensor([6, 4], seed: 9))
    var cache: DropoutCache?
    let report = GradCheck.check(
      inputs: [x], parameters: [],
      forward: {
        let (y, c) = dropout.forward(x.value, at: tokens, seed: 11, training: true)
        cache = c
        return y
      },
      backward: { dy in accumulate(dropout.backward(dy, cache!), into: x.grad) })
    expectPassed(report, "PositionalDropout")
  }
}
