import NN
import RecData
import TensorCore

// The training objectives and scoring shared by the causal models with a tied output embedding (SASRec, GRU4Rec):
// RecBole's CE loss, logits = output · item_embeddingᵀ over every item id (padding column included).
//
// A model runs only the first T columns of a batch, T = the longest row (≤ L): the models are causal and their
// positions are indexed from 0, so the outputs at positions < T are exactly those of a run over all L columns.

/// The part of a batch a causal model runs: the first `steps` columns of every row.
struct CausalInput {
  let batchSize: Int
  /// T = the longest row of the batch (1 when every row is empty).
  let steps: Int
  /// Item ids [B, T], row-major; positions ≥ a row's length are padding.
  let ids: [Int32]
  let lengths: [Int32]

  init(model: String, items: [Int32], lengths: [Int32], batchMaxLength: Int, modelMaxLength: Int) {
    let batchSize = lengths.count
    precondition(batchMaxLength >= 1, "\(model): the batch's maximum length must be ≥ 1")
    precondition(
      items.count == batchSize * batchMaxLength,
      "\(model): \(items.count) item ids for \(batchSize) rows of length \(batchMaxLength)")
    let limit = min(batchMaxLength, modelMaxLength)
    var longest = 0
    for (row, length) in lengths.enumerated() {
      precondition(
        length >= 0 && Int(length) <= limit,
        "\(model): row \(row) has length \(length), outside 0...\(limit) (the model reads ≤ \(modelMaxLength) items)")
      longest = max(longest, Int(length))
    }
    let steps = max(1, longest)
    var ids = [Int32](repeating: 0, count: batchSize * steps)
    for row in 0..<batchSize {
      for t in 0..<steps { ids[row * steps + t] = items[row * batchMaxLength + t] }
    }
    self.batchSize = batchSize
    self.steps = steps
    self.ids = ids
    self.lengths = lengths
  }
}

/// The positions whose hidden states get logits, as flat indices `row · T + t` into the [B, T] grid, with targets.
struct OutputRows {
  var positions: [Int] = []
  var targets: [Int32] = []

  /// Prefix objective and scoring: position length − 1 of every row (position 0 for an empty row).
  static func lastPositions(of input: CausalInput, targets: [Int32]) -> OutputRows {
    var rows = OutputRows()
    for (row, length) in input.lengths.enumerated() {
      rows.positions.append(row * input.steps + max(0, Int(length) - 1))
    }
    rows.targets = targets
    return rows
  }

  /// All-positions objective: every position t of row r with `targets[r · L + t] ≠ 0` (L = the batch's maxLength).
  static func targetedPositions(of batch: WindowBatch, input: CausalInput, model: String) -> OutputRows {
    let width = batch.maxLength
    precondition(
      batch.targets.count == batch.count * width,
      "\(model): \(batch.targets.count) window targets for \(batch.count) rows of length \(width)")
    var rows = OutputRows()
    for row in 0..<batch.count {
      for t in 0..<width where batch.targets[row * width + t] != 0 {
        precondition(
          t < Int(batch.lengths[row]),
          "\(model): window row \(row) has a target at position \(t), past its length \(batch.lengths[row])")
        rows.positions.append(row * input.steps + t)
        rows.targets.append(batch.targets[row * width + t])
      }
    }
    return rows
  }
}

extension Tensor {
  /// Rows `positions` of this tensor viewed as [rows, width] (width = last dimension) → [positions.count, width].
  func gatheringRows(_ positions: [Int]) -> Tensor {
    let width = shape.last ?? 1
    let out = Tensor(zeros: [positions.count, width])
    for (i, position) in positions.enumerated() {
      (out.ptr + i * width).update(from: ptr + position * width, count: width)
    }
    return out
  }

  /// Backward of `gatheringRows`: a zero tensor shaped `shape` with each row i of this [R, width] tensor added
  /// at row `positions[i]`.
  func scatteringRows(_ positions: [Int], into shape: [Int]) -> Tensor {
    let width = self.shape.last ?? 1
    let out = Tensor(zeros: shape)
    for (i, position) in positions.enumerated() {
      ElementwiseKernels.add(out.ptr + position * width, out.ptr + position * width, ptr + i * width, count: width)
    }
    return out
  }
}

/// Softmax cross-entropy of tied logits h · Eᵀ over every item id, summed over rows, fused with its backward.
enum TiedSoftmaxCrossEntropy {
  /// Most logits held at once (16 MB): the all-positions objective can have B·L rows (256 · 200 · 3417 floats
  /// would be 700 MB), so the rows are processed in chunks, one gemm per chunk and direction.
  static let defaultLogitsBudget = 1 << 22

  /// Returns Σ_r (logsumexp(h_r · Eᵀ) − h_r · E[target_r]) and dh = lossScale · ∂Σ/∂h, and accumulates
  /// lossScale · ∂Σ/∂E into the table's gradient (every row, padding included).
  static func lossAndBackward(
    hidden: Tensor, targets: [Int32], table: Embedding, lossScale: Float, model: String,
    logitsBudget: Int = defaultLogitsBudget
  ) -> (loss: Double, dHidden: Tensor) {
    let (rows, columns) = (targets.count, table.embeddingCount)
    precondition(hidden.count == rows * table.dimension, "\(model): \(rows) targets for outputs \(hidden.shape)")
    for (row, target) in targets.enumerated() {
      precondition(
        target >= 0 && Int(target) < columns, "\(model): target \(target) of row \(row) is outside 0..<\(columns)")
    }
    let dHidden = Tensor(zeros: hidden.shape)
    let chunk = max(1, min(rows, logitsBudget / columns))
    let logits = Tensor(zeros: [chunk, columns])
    let rowLoss = UnsafeMutablePointer<Double>.allocate(capacity: chunk)
    defer { rowLoss.deallocate() }
    var total = 0.0
    for start in stride(from: 0, to: rows, by: chunk) {
      let count = min(chunk, rows - start)
      let h = hidden.rows(start..<start + count)
      let z = logits.rows(0..<count)
      table.scores(h, into: z.ptr)
      // z ← lossScale · (softmax(z) − onehot(target)), in place
      let zp = z.ptr
      targets.withUnsafeBufferPointer { targets in
        Parallel.forEachChunk(count, minPerThread: max(1, 65_536 / columns)) { range in
          for r in range {
            rowLoss[r] = SoftmaxKernels.crossEntropyRow(
              zp + r * columns, zp + r * columns, count: columns, target: Int(targets[start + r]),
              gradientScale: lossScale)
          }
        }
      }
      for r in 0..<count { total += rowLoss[r] }
      let dh = table.scoresBackward(z, input: h)
      dHidden.rows(start..<start + count).ptr.update(from: dh.ptr, count: dh.count)
    }
    return (total, dHidden)
  }
}

/// A causal model whose logits are its output rows times the item embedding table. Conforming models write
/// `forward` and `backward`; the objectives and scoring below are shared.
protocol TiedCausalModel: SequentialRecommender {
  associatedtype Cache
  /// The item table, also the output projection.
  var itemEmbedding: Embedding { get }
  /// Output rows [positions.count, d] at the given flat positions of the [B, T] grid; caches what backward needs.
  func forward(_ input: CausalInput, outputs positions: [Int], training: Bool, rng: inout SeededRNG) -> (Tensor, Cache)
  /// Accumulates every parameter's gradient, given the gradient of the output rows.
  func backward(_ dOutput: Tensor, _ cache: Cache)
}

extension TiedCausalModel {
  func causalInput(items: [Int32], lengths: [Int32], batchMaxLength: Int) -> CausalInput {
    CausalInput(
      model: name, items: items, lengths: lengths, batchMaxLength: batchMaxLength, modelMaxLength: maxLength)
  }

  /// RecBole's objective: one target per row, after the row's last item.
  func prefixObjective(_ batch: SequenceBatch, lossScale: Float, rng: inout SeededRNG) -> Double {
    let input = causalInput(items: batch.items, lengths: batch.lengths, batchMaxLength: batch.maxLength)
    precondition(batch.targets.count == batch.count, "\(name): \(batch.targets.count) targets for \(batch.count) rows")
    for (row, length) in batch.lengths.enumerated() {
      precondition(length >= 1, "\(name): training row \(row) has an empty history")
    }
    return train(input, OutputRows.lastPositions(of: input, targets: batch.targets), lossScale: lossScale, rng: &rng)
  }

  /// The all-positions objective: a target after every position that has one.
  func windowObjective(_ batch: WindowBatch, lossScale: Float, rng: inout SeededRNG) -> Double {
    let input = causalInput(items: batch.items, lengths: batch.lengths, batchMaxLength: batch.maxLength)
    let outputs = OutputRows.targetedPositions(of: batch, input: input, model: name)
    if outputs.positions.isEmpty { return 0 }
    return train(input, outputs, lossScale: lossScale, rng: &rng)
  }

  private func train(_ input: CausalInput, _ outputs: OutputRows, lossScale: Float, rng: inout SeededRNG) -> Double {
    let (hidden, cache) = forward(input, outputs: outputs.positions, training: true, rng: &rng)
    let (loss, dHidden) = TiedSoftmaxCrossEntropy.lossAndBackward(
      hidden: hidden, targets: outputs.targets, table: itemEmbedding, lossScale: lossScale, model: name)
    backward(dHidden, cache)
    return loss
  }

  /// Eval-mode logits of every row, `rowsPerChunk` rows at a time (one gemm each): an evaluator's batch can hold
  /// thousands of rows, and a chunk's activations (SASRec: B·h·T² attention probabilities) must stay small. A row
  /// with an empty history has no representation: its scores are 0.
  func tiedScores(_ batch: SequenceBatch, into scores: UnsafeMutablePointer<Float>, rowsPerChunk: Int = 256) {
    let width = batch.maxLength
    var unusedRNG = SeededRNG(seed: 0)  // eval mode draws nothing
    for start in stride(from: 0, to: batch.count, by: rowsPerChunk) {
      let end = min(start + rowsPerChunk, batch.count)
      let input = causalInput(
        items: Array(batch.items[start * width..<end * width]), lengths: Array(batch.lengths[start..<end]),
        batchMaxLength: width)
      let outputs = OutputRows.lastPositions(of: input, targets: [])
      let (hidden, _) = forward(input, outputs: outputs.positions, training: false, rng: &unusedRNG)
      itemEmbedding.scores(hidden, into: scores + start * itemCount)
      for (row, length) in input.lengths.enumerated() where length == 0 {
        (scores + (start + row) * itemCount).update(repeating: 0, count: itemCount)
      }
    }
  }
}
