import Foundation
import Testing

@testable import NN
@testable import TensorCore

/// Loss values against Double references and loss gradients against finite differences. Each loss is a [1] tensor
/// for GradCheck, whose random dy[0] is passed on as the gradient `scale`, so the scaling is checked as well.
@Suite struct LossTests {
  @Test func softmaxCrossEntropyValueMatchesReference() {
    let (rows, cols) = (4, 7)
    let logits = randomTensor([rows, cols], -5, 5, seed: 1)
    let targets: [Int32] = [0, 6, 3, 3]
    let (loss, dlogits) = Losses.softmaxCrossEntropy(logits: logits, targets: targets, scale: 2)
    var reference = 0.0
    for r in 0..<rows {
      let row = (0..<cols).map { Double(logits[r * cols + $0]) }
      let lse = log(row.map { exp($0) }.reduce(0, +))
      reference += lse - row[Int(targets[r])]
      for c in 0..<cols {
        let expected = 2 * (exp(row[c] - lse) - (c == Int(targets[r]) ? 1 : 0)) / Double(rows)
        #expect(abs(Double(dlogits[r * cols + c]) - expected) <= 1e-6)
      }
    }
    #expect(abs(Double(loss) - reference / Double(rows)) <= 1e-5 * reference / Double(rows))
  }

  @Test func softmaxCrossEntropyCanWriteTheGradientOverTheLogits() {
    let logits = randomTensor([3, 50], -20, 20, seed: 2)
    let targets: [Int32] = [49, 0, 17]
    let (loss, dlogits) = Losses.softmaxCrossEntropy(logits: logits, targets: targets)
    let inPlaceLoss = Losses.softmaxCrossEntropy(logits: logits, targets: targets, gradientInto: logits)
    #expect(inPlaceLoss == loss)
    #expect(logits.array == dlogits.array)
  }

  @Test func softmaxCrossEntropyIsFiniteForHugeLogits() {
    let logits = Tensor(shape: [2, 3], values: [1e30, -1e30, 0, 80, 90, 100])
    let (loss, dlogits) = Losses.softmaxCrossEntropy(logits: logits, targets: [0, 2])
    #expect(loss.isFinite && dlogits.array.allSatisfy(\.isFinite))
  }

  @Test func softmaxCrossEntropyOfAFullyMaskedRowIsInfiniteWithZeroGradient() {
    let logits = Tensor(shape: [2, 3], values: [-.infinity, -.infinity, -.infinity, 1, 2, -.infinity])
    let (loss, dlogits) = Losses.softmaxCrossEntropy(logits: logits, targets: [1, 0])
    #expect(loss == .infinity)
    #expect(dlogits.array[0..<3].allSatisfy { $0 == 0 })
    #expect(dlogits.array[3..<6].allSatisfy(\.isFinite) && dlogits[5] == 0)
  }

  @Test func softmaxCrossEntropyGradient() {
    let logits = checkedInput("logits", randomTensor([3, 5], -2, 2, seed: 3))
    let targets: [Int32] = [4, 0, 2]
    let report = GradCheck.check(
      inputs: [logits], parameters: [],
      forward: {
        let (loss, _) = Losses.softmaxCrossEntropy(logits: logits.value, targets: targets)
        return Tensor(shape: [1], values: [loss])
      },
      backward: { dy in
        let (_, g) = Losses.softmaxCrossEntropy(logits: logits.value, targets: targets, scale: dy[0])
        accumulate(g, into: logits.grad)
      })
    expectPassed(report, "softmax cross-entropy")
  }

  @Test func bprValueAndGradient() {
    let positive = checkedInput("positive", randomTensor([6], -3, 3, seed: 4))
    let negative = checkedInput("negative", randomTensor([6], -3, 3, seed: 5))
    let (loss, _, _) = Losses.bpr(positive: positive.value, negative: negative.value)
    var reference = 0.0
    for i in 0..<6 {
      reference -= log(1 / (1 + exp(-(Double(positive.value[i]) - Double(negative.value[i])))))
    }
    #expect(abs(Double(loss) - reference / 6) <= 1e-5 * reference / 6)
    let report = GradCheck.check(
      inputs: [positive, negative], parameters: [],
      forward: { Tensor(shape: [1], values: [Losses.bpr(positive: positive.value, negative: negative.value).loss]) },
      backward: { dy in
        let (_, dp, dn) = Losses.bpr(positive: positive.value, negative: negative.value, scale: dy[0])
        accumulate(dp, into: positive.grad)
        accumulate(dn, into: negative.grad)
      })
    expectPassed(report, "BPR")
  }

  @Test func binaryCrossEntropyValueAndGradient() {
    let logits = checkedInput("logits", randomTensor([8], -4, 4, seed: 6))
    let targets = Tensor(shape: [8], values: [1, 0, 1, 1, 0, 0, 0.25, 1])
    let (loss, _) = Losses.binaryCrossEntropyWithLogits(logits: logits.value, targets: targets)
    var reference = 0.0
    for i in 0..<8 {
      let p = 1 / (1 + exp(-Double(logits.value[i])))
      let t = Double(targets[i])
      reference -= t * log(p) + (1 - t) * log(1 - p)
    }
    #expect(abs(Double(loss) - reference / 8) <= 1e-5 * reference / 8)
    let report = GradCheck.check(
      inputs: [logits], parameters: [],
      forward: {
        Tensor(shape: [1], values: [Losses.binaryCrossEntropyWithLogits(logits: logits.value, targets: targets).loss])
      },
      backward: { dy in
        let (_, g) = Losses.binaryCrossEntropyWithLogits(logits: logits.value, targets: targets, scale: dy[0])
        accumulate(g, into: logits.grad)
      })
    expectPassed(report, "BCE with logits")
  }

  @Test func bprAndBinaryCrossEntropyAreFiniteForHugeMargins() {
    let big = Tensor(shape: [2], values: [1e4, -1e4])
    let small = Tensor(shape: [2], values: [-1e4, 1e4])
    let (bprLoss, dp, _) = Losses.bpr(positive: big, negative: small)
    let (bceLoss, dx) = Losses.binaryCrossEntropyWithLogits(logits: big, targets: Tensor(shape: [2], values: [0, 1]))
    #expect(abs(bprLoss - 1e4) <= 1)  // mean of softplus(−2e4) ≈ 0 and softplus(2e4) = 2e4
    #expect(abs(bceLoss - 1e4) <= 1)
    #expect(dp.array.allSatisfy(\.isFinite) && dx.array.allSatisfy(\.isFinite))
  }
}
