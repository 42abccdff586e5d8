import Foundation
import NN
import Testing

@testable import RecData
@testable import RecModels
@testable import TensorCore

/// Shared fixtures and checks for the trainable models (tiny shapes: N = 12 item ids, L = 6, B = 3).
enum ModelFixtures {
  static let itemCount = 12
  static let maxLength = 6

  /// Three rows with lengths 1, 4 and L, right-padded, with their next items as targets.
  static let histories: [[Int32]] = [[7], [3, 9, 1, 4], [2, 11, 5, 5, 8, 10]]
  static let targets: [Int32] = [2, 6, 1]

  static func prefixBatch(_ histories: [[Int32]] = histories, targets: [Int32] = targets, maxLength: Int = maxLength)
    -> SequenceBatch
  {
    var batch = SequenceDataset.batch(histories: histories, maxLength: maxLength)
    batch.targets = targets
    return batch
  }

  /// Windows over the same rows with a target after every position except the first of the last row (so a
  /// position without a target sits between positions with one).
  static func windowBatch() -> WindowBatch {
    let rows: [[Int32]] = [[7, 2], [3, 9, 1, 4, 6], [2, 11, 5, 5, 8, 10, 1]]  // inputs + final next item
    var items = [Int32](repeating: 0, count: rows.count * maxLength)
    var targets = [Int32](repeating: 0, count: rows.count * maxLength)
    var lengths: [Int32] = []
    for (r, row) in rows.enumerated() {
      let length = row.count - 1
      for t in 0..<length {
        items[r * maxLength + t] = row[t]
        if !(r == 2 && t == 0) { targets[r * maxLength + t] = row[t + 1] }
      }
      lengths.append(Int32(length))
    }
    return WindowBatch(maxLength: maxLength, items: items, lengths: lengths, targets: targets)
  }

  /// Every parameter redrawn from N(0, std²) so that the gradient check sees gradients well above fp32 noise.
  static func randomise(_ parameters: [Parameter], std: Float = 0.4, seed: UInt64) {
    var rng = SeededRNG(seed: seed)
    for p in parameters { p.initNormal(std: std, rng: &rng) }
  }

  /// Finite-difference check of `objective(lossScale, rng)` (which accumulates lossScale · ∇loss and returns the
  /// loss): the forward runs it with lossScale 0, the backward with lossScale dy[0]; the dropout masks are the same
  /// in every run because each run draws from a fresh generator with `dropoutSeed`.
  static func gradientCheck(
    parameters: [Parameter], dropoutSeed: UInt64, _ objective: @escaping (Float, inout SeededRNG) -> Double
  ) -> GradCheck.Report {
    GradCheck.check(
      parameters: parameters, entriesPerTensor: 16,
      forward: {
        var rng = SeededRNG(seed: dropoutSeed)
        return Tensor(shape: [1], values: [Float(objective(0, &rng))])
      },
      backward: { dy in
        var rng = SeededRNG(seed: dropoutSeed)
        _ = objective(dy[0], &rng)
      })
  }

  /// Score rows of `model` for `batch`.
  static func scoreRows(_ model: some SequentialRecommender, _ batch: SequenceBatch) -> [[Float]] {
    var scores = [Float](repeating: .nan, count: batch.count * model.itemCount)
    scores.withUnsafeMutableBufferPointer { model.scores(batch, into: $0.baseAddress!) }
    return (0..<batch.count).map { Array(scores[$0 * model.itemCount..<($0 + 1) * model.itemCount]) }
  }

  /// Score rows computed one row per forward pass (the chunked path of `tiedScores`).
  static func scoreRowsOneByOne(_ model: some TiedCausalModel, _ batch: SequenceBatch) -> [[Float]] {
    var scores = [Float](repeating: .nan, count: batch.count * model.itemCount)
    scores.withUnsafeMutableBufferPointer { model.tiedScores(batch, into: $0.baseAddress!, rowsPerChunk: 1) }
    return (0..<batch.count).map { Array(scores[$0 * model.itemCount..<($0 + 1) * model.itemCount]) }
  }

  static func gradients(_ parameters: [Parameter]) -> [[Float]] { parameters.map(\.grad.array) }

  static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }

  // MARK: Smoke training on a deterministic cycle

  /// Users walking the cycle 1 → 2 → … → 11 → 1 from different starting items, 9 items each.
  static func cycleDataset(users: Int = 44) -> SequenceDataset {
    let cycle = itemCount - 1
    let sequences = (0..<users).map { u in (0..<9).map { Int32((u + $0) % cycle + 1) } }
    return BaselinesTests.makeDataset(sequences, itemCount: itemCount)
  }

  /// Trains with Adam (lr 1e-2) for `epochs` on every prefix of every user (`windows: false`) or on
  /// non-overlapping windows (`windows: true`); returns HR@1 of the next item after every history of length 1…L.
  static func trainOnCycle(
    _ model: some CausalSequentialRecommender, epochs: Int, windows: Bool
  ) -> (lastEpochLoss: Double, hitRate: Double) {
    let dataset = cycleDataset()
    let adam = Adam(parameters: model.parameters, configuration: .init(learningRate: 1e-2))
    var rng = SeededRNG(seed: 5)
    let examples = dataset.sequences.indices.flatMap { u in (1..<9).map { Example(user: Int32(u), position: $0) } }
    let allWindows = dataset.trainingWindows(maxLength: model.maxLength, stride: model.maxLength) { $0 }
    var lastEpochLoss = 0.0
    for _ in 0..<epochs {
      var (loss, count) = (0.0, 0)
      if windows {
        for chunk in allWindows.shuffled(using: &rng).chunks(of: 16) {
          let batch = dataset.windowBatch(chunk, maxLength: model.maxLength)
          model.zeroGrads()
          loss += model.accumulateWindowGradients(batch, lossScale: 1 / Float(batch.targetCount), rng: &rng)
          count += batch.targetCount
          adam.step()
        }
      } else {
        for chunk in examples.shuffled(using: &rng).chunks(of: 32) {
          let batch = dataset.batch(chunk, maxLength: model.maxLength)
          model.zeroGrads()
          loss += model.accumulateGradients(batch, lossScale: 1 / Float(batch.count), rng: &rng)
          count += batch.count
          adam.step()
        }
      }
      lastEpochLoss = loss / Double(count)
    }
    let evaluation = dataset.batch(examples, maxLength: model.maxLength)
    let rows = scoreRows(model, evaluation)
    let hits = zip(rows, evaluation.targets).filter { row, target in
      BaselinesTests.rank(of: Int(target), in: row) == 1
    }.count
    return (lastEpochLoss, Double(hits) / Double(rows.count))
  }
}

extension Array {
  func chunks(of size: Int) -> [ArraySlice<Element>] {
    stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
  }
}

/// The check must pass and must have seen a non-zero gradient (an all-zero check proves nothing).
func expectPassed(_ report: GradCheck.Report, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
  #expect(report.passed, "\(what): \(report)", sourceLocation: sourceLocation)
  #expect(report.maxAbsGradient > 0, "\(what): every gradient was zero", sourceLocation: sourceLocation)
}

/// Finite-difference check of a model's objective: forward() returns the summed loss as a 1-element tensor (grads
/// restored afterwards), backward(dy) accumulates dy · ∂loss. The same seed gives the same dropout masks each call.
func objectiveGradientCheck(
  _ model: some SequentialRecommender, parameters: [Parameter]? = nil, h: Float = 1e-2, entriesPerTensor: Int = 24,
  seed: UInt64, run: @escaping (inout SeededRNG, Float) -> Double
) -> GradCheck.Report {
  GradCheck.check(
    parameters: parameters ?? model.parameters, h: h, relativeTolerance: 2e-2, entriesPerTensor: entriesPerTensor,
    forward: {
      var rng = SeededRNG(seed: seed)
      let saved = model.parameters.map { $0.grad.copy() }
      let loss = run(&rng, 0)
      for (p, g) in zip(model.parameters, saved) { p.grad.ptr.update(from: g.ptr, count: g.count) }
      return Tensor(shape: [1], values: [Float(loss)])
    },
    backward: { dy in
      var rng = SeededRNG(seed: seed)
      _ = run(&rng, dy[0])
    })
}

/// Largest |a − b| / max(1, |b|).
func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
  zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1) / max(1, abs($1.1))) }
}

/// Naive reference helpers in Double (row vectors as arrays).
enum Reference {
  typealias Weights = [String: [Double]]

  static func weights(_ parameters: [Parameter]) -> Weights {
    Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.value.array.map(Double.init)) })
  }

  /// x · Wᵀ (+ b) for W [out, in] stored row-major.
  static func linear(_ x: [Double], _ w: [Double], _ b: [Double]?) -> [Double] {
    let (inputs, outputs) = (x.count, w.count / x.count)
    var y = [Double](repeating: 0, count: outputs)
    for o in 0..<outputs {
      var sum: Double = b?[o] ?? 0
      for i in 0..<inputs { sum += w[o * inputs + i] * x[i] }
      y[o] = sum
    }
    return y
  }

  static func layerNorm(_ x: [Double], _ gamma: [Double], _ beta: [Double], eps: Double) -> [Double] {
    let mean = x.reduce(0, +) / Double(x.count)
    let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
    let rstd = 1 / (variance + eps).squareRoot()
    return x.indices.map { (x[$0] - mean) * rstd * gamma[$0] + beta[$0] }
  }

  static func row(_ table: [Double], _ index: Int, width: Int) -> [Double] {
    Array(table[index * width..<(index + 1) * width])
  }

  static func add(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map(+) }
  static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
  static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

  /// Logits h · Eᵀ over every row of the table.
  static func logits(_ h: [Double], table: [Double]) -> [Double] {
    let width = h.count
    return (0..<table.count / width).map { i in
      var sum = 0.0
      for j in 0..<width { sum += h[j] * table[i * width + j] }
      return sum
    }
  }
}
