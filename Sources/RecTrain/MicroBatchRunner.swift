import NN
import RecData
import RecModels
import TensorCore

/// Runs the micro-batches of one optimisation batch and leaves the **sum of their gradients** in the model's
/// `grad`s, either serially on the model or spread over worker threads (data parallelism).
///
/// Data-parallel mode (a `ReplicableRecommender` and more than one worker): worker 0 runs on the model itself,
/// worker w > 0 on replica w, whose parameter values share storage with the model's (so every worker reads the
/// current weights, with no copy after the optimiser step) and whose gradients are private. Micro-batches are
/// assigned to workers by estimated cost (largest first to the least loaded worker; deterministic), each worker
/// accumulates its own gradient, and the replicas' gradients are then added to the model's in worker order.
/// Inside a worker, `Parallel` loops run serially (`Parallel.isInsideWorker`) and BLAS stays on one thread (the app
/// owns parallelism), so the cores are split once, at the outermost level.
///
/// Every micro-batch gets its own random stream (dropout) from a seed drawn in micro-batch order, so the result does
/// not depend on which worker runs it: serial and data-parallel runs give the same gradients up to the order of
/// float summation.
final class MicroBatchRunner {
  /// One micro-batch's work: run micro-batch `index` on `model` with `rng`; return its summed loss.
  typealias Work = (_ index: Int, _ model: any SequentialRecommender, _ rng: inout SeededRNG) -> Double

  let model: any SequentialRecommender
  private let modelParameters: [Parameter]
  private let replicas: [any SequentialRecommender]
  private let replicaParameters: [[Parameter]]

  /// Number of workers that run micro-batches at once (1: serial).
  var workerCount: Int { replicas.count + 1 }

  /// `workers` > 1 takes effect only for a `ReplicableRecommender`.
  init(model: any SequentialRecommender, workers: Int) {
    self.model = model
    modelParameters = model.parameters
    if workers > 1, let replicable = model as? any ReplicableRecommender {
      replicas = (1..<workers).map { _ in replicable.replica() }
    } else {
      replicas = []
    }
    replicaParameters = replicas.map(\.parameters)
    for parameters in replicaParameters {
      precondition(
        parameters.count == modelParameters.count
          && zip(parameters, modelParameters).allSatisfy { $0.value.ptr == $1.value.ptr },
        "a replica's parameters must share the model's values, in the same order")
    }
  }

  /// Zeroes the model's gradients, runs every micro-batch (`costs[i]` estimates the relative work of micro-batch i),
  /// leaves the summed gradient in the model and returns the summed loss. Draws one seed per micro-batch from `rng`.
  func run(costs: [Double], rng: inout SeededRNG, _ work: Work) -> Double {
    model.zeroGrads()
    let seeds = costs.map { _ in rng.next() }
    if replicas.isEmpty || costs.count < 2 {
      var loss = 0.0
      for i in costs.indices {
        var microRNG = SeededRNG(seed: seeds[i])
        loss += work(i, model, &microRNG)
      }
      return loss
    }
    let assignment = Self.assign(costs: costs, workers: workerCount)
    let losses = UnsafeMutablePointer<Double>.allocate(capacity: workerCount)
    defer { losses.deallocate() }
    losses.initialize(repeating: 0, count: workerCount)
    for parameters in replicaParameters { for p in parameters { p.zeroGrad() } }
    let workerModels = UnsafeSendable([model] + replicas)
    let lossOut = UnsafeSendable(losses)
    withoutActuallyEscaping(work) { work in
      let sharedWork = UnsafeSendable(work)
      Parallel.forEach(workerCount) { w in
        var loss = 0.0
        for i in assignment[w] {
          var microRNG = SeededRNG(seed: seeds[i])
          loss += sharedWork.value(i, workerModels.value[w], &microRNG)
        }
        lossOut.value[w] = loss
      }
    }
    for parameters in replicaParameters {
      for (master, worker) in zip(modelParameters, parameters) {
        ElementwiseKernels.add(master.grad.ptr, master.grad.ptr, worker.grad.ptr, count: master.count)
      }
    }
    return (0..<workerCount).reduce(0) { $0 + losses[$1] }
  }

  /// Scores of `batch` (eval mode) into `scores` (batch.count × itemCount, row-major), computed in chunks of at
  /// most `chunkRows` rows of similar history length (rows are grouped longest first, so a chunk runs few padding
  /// positions, and a chunk's activations stay small), the chunks spread over the workers by cost.
  func scores(_ batch: SequenceBatch, into scores: UnsafeMutablePointer<Float>, chunkRows: Int = 64) {
    let order = batch.lengths.indices.sorted { a, b in
      batch.lengths[a] != batch.lengths[b] ? batch.lengths[a] > batch.lengths[b] : a < b
    }
    let chunks = stride(from: 0, to: order.count, by: max(1, chunkRows)).map {
      Array(order[$0..<min($0 + max(1, chunkRows), order.count)])
    }
    let costs = chunks.map { Double($0.count * Int(batch.lengths[$0[0]])) }
    let assignment = Self.assign(costs: costs, workers: workerCount)
    let workerModels = UnsafeSendable([model] + replicas)
    let out = UnsafeSendable(scores)
    let n = model.itemCount
    Parallel.forEach(workerCount) { w in
      let worker = workerModels.value[w]
      for c in assignment[w] {
        let rows = chunks[c]
        let chunkScores = UnsafeMutablePointer<Float>.allocate(capacity: rows.count * n)
        defer { chunkScores.deallocate() }
        worker.scores(batch.selecting(rows: rows), into: chunkScores)
        for (i, r) in rows.enumerated() { (out.value + r * n).update(from: chunkScores + i * n, count: n) }
      }
    }
  }

  /// Micro-batch indices per worker: largest cost first to the least loaded worker (ties: lower index), each
  /// worker's list in ascending order.
  static func assign(costs: [Double], workers: Int) -> [[Int]] {
    var load = [Double](repeating: 0, count: workers)
    var lists = [[Int]](repeating: [], count: workers)
    let order = costs.indices.sorted { costs[$0] != costs[$1] ? costs[$0] > costs[$1] : $0 < $1 }
    for i in order {
      let w = load.indices.min { load[$0] != load[$1] ? load[$0] < load[$1] : $0 < $1 }!
      load[w] += costs[i]
      lists[w].append(i)
    }
    return lists.map { $0.sorted() }
  }
}

extension SequenceBatch {
  /// The batch made of `rows` (in that order).
  func selecting(rows: [Int]) -> SequenceBatch {
    var items = [Int32](repeating: 0, count: rows.count * maxLength)
    for (i, r) in rows.enumerated() {
      for t in 0..<maxLength { items[i * maxLength + t] = self.items[r * maxLength + t] }
    }
    return SequenceBatch(
      maxLength: maxLength, items: items, lengths: rows.map { lengths[$0] }, targets: rows.map { targets[$0] },
      users: rows.map { users[$0] })
  }
}
