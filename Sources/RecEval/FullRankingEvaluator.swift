import RecData
import TensorCore

/// Full ranking (RecBole `mode: full`, the protocol of the RecBLR paper, spec recblr.md §4.3): the target is ranked
/// against **every** real item id 1..<itemCount. Column 0 (padding) never competes.
///
/// History masking: off by default, as RecBole does for sequential models (its full-sort loader returns no history
/// index). With `maskHistory: true`, every item the user interacted with before the target position (the whole
/// prefix, not only the last `maxLength` items) is removed from the competition, **except the target itself**: if
/// the target also occurs earlier in the sequence (a repeat interaction) its own score is kept, so a correct repeat
/// prediction can still rank first. This deliberately differs from RecBole's general-model masking, which sets
/// history columns to −∞ regardless and so makes every repeat target unrankable; the spec prescribes no masking
/// for the sequential models, so the option exists only for comparisons.
///
/// Ranks are pessimistic on ties and NaN-safe (see `Ranking`). Masked columns are overwritten with NaN, which by
/// that rule never outranks a non-NaN target.
public enum FullRankingEvaluator {
  /// The `MetricReport` label of this protocol.
  public static let protocolLabel = EvaluationProtocol.full.label

  /// Averaged HR/NDCG/MRR at every K of `ks` over `examples`.
  /// - Parameters:
  ///   - dataset: the sequences (histories and targets are read from it).
  ///   - examples: one target each (user, position); position ≥ 1.
  ///   - maxLength: the L of the model input (how many history items each batch row holds).
  ///   - ks: cut-offs, e.g. [10, 20].
  ///   - maskHistory: remove the user's earlier items (other than the target) from the ranking.
  ///   - batchSize: rows per `score` call (capped so the buffer stays ≤ 256 MiB).
  ///   - score: writes the model's scores for a batch, `batch.count × dataset.itemCount` row-major.
  public static func evaluate(
    dataset: SequenceDataset, examples: [Example], maxLength: Int, ks: [Int] = [10, 20],
    maskHistory: Bool = false, batchSize: Int = 4096,
    score: (SequenceBatch, UnsafeMutablePointer<Float>) -> Void
  ) throws(EvaluationError) -> MetricReport {
    var accumulator = try MetricAccumulator(ks: ks)
    let allRanks = try ranks(
      dataset: dataset, examples: examples, maxLength: maxLength, maskHistory: maskHistory, batchSize: batchSize,
      score: score)
    accumulator.add(ranks: allRanks)
    return accumulator.report(protocolLabel: protocolLabel)
  }

  /// The 1-based rank of every example's target, in the order of `examples`.
  public static func ranks(
    dataset: SequenceDataset, examples: [Example], maxLength: Int, maskHistory: Bool = false,
    batchSize: Int = 4096, score: (SequenceBatch, UnsafeMutablePointer<Float>) -> Void
  ) throws(EvaluationError) -> [Int] {
    try ScoreBatching.validate(dataset: dataset, examples: examples, maxLength: maxLength, batchSize: batchSize)
    let itemCount = dataset.itemCount
    var result = [Int](repeating: 0, count: examples.count)
    result.withUnsafeMutableBufferPointer { out in
      let ranksOut = UnsafeSendable(out.baseAddress!)
      ScoreBatching.forEachBatch(
        dataset: dataset, examples: examples, maxLength: maxLength, batchSize: batchSize, score: score
      ) { offset, batch, scores in
        let rows = UnsafeSendable(scores)
        // Ranking runs between model calls, on the app's threads (serial when OpenBLAS owns parallelism).
        Parallel.forEachChunk(batch.count, minPerThread: max(1, 65_536 / itemCount)) { range in
          for r in range {
            let row = rows.value + r * itemCount
            let target = Int(batch.targets[r])
            let rowBuffer = UnsafeMutableBufferPointer(start: row, count: itemCount)
            if maskHistory { maskEarlierItems(of: examples[offset + r], in: dataset, row: rowBuffer, keeping: target) }
            ranksOut.value[offset + r] = Ranking.pessimisticRank(target: target, row: UnsafeBufferPointer(rowBuffer))
          }
        }
      }
    }
    return result
  }

  /// Overwrites with NaN the score of every item at positions 0..<example.position of the user's sequence,
  /// except `target` (ids outside the row are skipped).
  static func maskEarlierItems(
    of example: Example, in dataset: SequenceDataset, row: UnsafeMutableBufferPointer<Float>, keeping target: Int
  ) {
    dataset.sequences[Int(example.user)].withUnsafeBufferPointer { sequence in
      for t in 0..<Int(example.position) {
        let item = Int(sequence[t])
        if item != target && item >= 0 && item < row.count { row[item] = .nan }
      }
    }
  }
}
