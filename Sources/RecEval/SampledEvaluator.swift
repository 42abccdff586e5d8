import RecData

/// GLINT-RU's evaluation protocol (RecBole `mode: pop100`, glintru.md §3.3). **Sampled, not full ranking**:
/// numbers are several times higher than full-ranking ones and must only be compared with other pop100 numbers;
/// every report says "sampled(pop100)".
///
/// Per example: draw `negativeCount` items **with replacement** from item popularity (probability ∝ count); a draw
/// equal to the target is redrawn (history items are allowed); duplicates collapse into one candidate. The target
/// is ranked among itself and the distinct negatives, pessimistic on ties, NaN-safe (see `Ranking`).
///
/// Seeded: the generator is owned by the evaluator and advances on every call, so each `evaluate` call (each
/// validation epoch, then the test run) sees fresh negatives, and a fresh evaluator with the same seed replays the
/// same sequence. Negatives are drawn example by example in the order of `examples`, so the batch size does not
/// change them.
public struct PopularitySampledEvaluator: Sendable {
  public let negativeCount: Int
  public let sampler: PopularitySampler
  /// The negative sampler's state; settable so that a resumed training run continues the same sequence.
  public var generator: SplitMix64

  /// The `MetricReport` label, e.g. "sampled(pop100)".
  public var protocolLabel: String { EvaluationProtocol.sampledByPopularity(negatives: negativeCount).label }

  /// - Parameters:
  ///   - popularity: count per item id (width = the dataset's `itemCount`), e.g.
  ///     `ItemPopularity.augmentedTargetCounts(in:)`.
  ///   - negativeCount: draws per example (100 in GLINT-RU).
  ///   - seed: seeds the negative sampler.
  public init(popularity: [Int], negativeCount: Int = 100, seed: UInt64) throws(EvaluationError) {
    guard negativeCount >= 1 else { throw .invalidArgument("negativeCount must be ≥ 1, got \(negativeCount)") }
    self.negativeCount = negativeCount
    self.sampler = try PopularitySampler(counts: popularity)
    self.generator = SplitMix64(seed: seed)
  }

  /// Uses the pop100 popularity of `dataset` (targets of all augmented samples).
  public init(dataset: SequenceDataset, negativeCount: Int = 100, seed: UInt64) throws(EvaluationError) {
    try self.init(
      popularity: ItemPopularity.augmentedTargetCounts(in: dataset), negativeCount: negativeCount, seed: seed)
  }

  /// Draws `negativeCount` items other than `target` and returns them sorted and distinct.
  /// Returns no negatives if the target holds all the popularity mass (no other item can be drawn).
  public mutating func drawNegatives(target: Int32) -> [Int32] {
    var negatives: [Int32] = []
    negatives.reserveCapacity(negativeCount)
    drawNegatives(target: target, into: &negatives)
    return negatives
  }

  mutating func drawNegatives(target: Int32, into negatives: inout [Int32]) {
    negatives.removeAll(keepingCapacity: true)
    let targetIsDrawable = target >= 0 && Int(target) < sampler.itemCount
    if targetIsDrawable && sampler.count(of: Int(target)) == sampler.total { return }
    for _ in 0..<negativeCount {
      var item = sampler.draw(using: &generator)
      while item == target { item = sampler.draw(using: &generator) }
      negatives.append(item)
    }
    negatives.sort()
    var distinct = 0
    for i in 0..<negatives.count where i == 0 || negatives[i] != negatives[i - 1] {
      negatives[distinct] = negatives[i]
      distinct += 1
    }
    negatives.removeLast(negatives.count - distinct)
  }

  /// Averaged HR/NDCG/MRR at every K of `ks` (GLINT-RU reports K = 10), labelled "sampled(pop…)".
  /// `score` fills full rows (`batch.count × dataset.itemCount`); only the candidate columns are read.
  public mutating func evaluate(
    dataset: SequenceDataset, examples: [Example], maxLength: Int, ks: [Int] = [10], batchSize: Int = 4096,
    score: (SequenceBatch, UnsafeMutablePointer<Float>) -> Void
  ) throws(EvaluationError) -> MetricReport {
    var accumulator = try MetricAccumulator(ks: ks)
    let allRanks = try ranks(
      dataset: dataset, examples: examples, maxLength: maxLength, batchSize: batchSize, score: score)
    accumulator.add(ranks: allRanks)
    return accumulator.report(protocolLabel: protocolLabel)
  }

  /// The 1-based rank of every example's target among its candidates, in the order of `examples`.
  public mutating func ranks(
    dataset: SequenceDataset, examples: [Example], maxLength: Int, batchSize: Int = 4096,
    score: (SequenceBatch, UnsafeMutablePointer<Float>) -> Void
  ) throws(EvaluationError) -> [Int] {
    try ScoreBatching.validate(dataset: dataset, examples: examples, maxLength: maxLength, batchSize: batchSize)
    guard sampler.itemCount == dataset.itemCount else {
      throw .invalidArgument(
        "popularity table covers \(sampler.itemCount) item ids but dataset '\(dataset.name)' has "
          + "\(dataset.itemCount)")
    }
    let itemCount = dataset.itemCount
    var result = [Int](repeating: 0, count: examples.count)
    var negatives: [Int32] = []
    negatives.reserveCapacity(negativeCount)
    ScoreBatching.forEachBatch(
      dataset: dataset, examples: examples, maxLength: maxLength, batchSize: batchSize, score: score
    ) { offset, batch, scores in
      for r in 0..<batch.count {
        let target = batch.targets[r]
        drawNegatives(target: target, into: &negatives)
        let row = UnsafeBufferPointer(start: scores + r * itemCount, count: itemCount)
        result[offset + r] = negatives.withUnsafeBufferPointer { negs in
          Ranking.pessimisticRank(target: Int(target), negatives: negs, row: row)
        }
      }
    }
    return result
  }
}
