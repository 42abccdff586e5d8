import RecData

/// Input checks and the batch loop shared by every protocol: examples go to the model in batches, and the model
/// writes each batch's scores (rows × itemCount, row-major) into one buffer reused for the whole run.
enum ScoreBatching {
  /// Upper bound on the score buffer (2²⁶ floats = 256 MiB): with many items (Gowalla: 164k) a batch of 4096
  /// full rows would need 2.7 GB, so the rows per batch shrink to fit.
  static let maxBufferFloats = 1 << 26

  /// Rows per batch: `batchSize`, capped by `maxBufferFloats`, at least 1.
  static func rowsPerBatch(batchSize: Int, itemCount: Int) -> Int {
    max(1, min(batchSize, maxBufferFloats / max(1, itemCount)))
  }

  /// Rejects arguments and examples the loop cannot evaluate, naming the first bad one.
  static func validate(
    dataset: SequenceDataset, examples: [Example], maxLength: Int, batchSize: Int
  ) throws(EvaluationError) {
    guard maxLength >= 1 else { throw .invalidArgument("maxLength must be ≥ 1, got \(maxLength)") }
    guard batchSize >= 1 else { throw .invalidArgument("batchSize must be ≥ 1, got \(batchSize)") }
    guard dataset.itemCount >= 2 else {
      throw .invalidArgument("dataset '\(dataset.name)' has no real items (itemCount \(dataset.itemCount))")
    }
    guard !examples.isEmpty else { throw .invalidArgument("no examples to evaluate in '\(dataset.name)'") }
    for (index, example) in examples.enumerated() {
      let user = Int(example.user)
      guard user >= 0 && user < dataset.userCount else {
        throw .invalidExample(
          index: index, user: example.user, position: example.position,
          reason: "user outside 0..<\(dataset.userCount)")
      }
      let length = dataset.sequences[user].count
      guard example.position >= 1 && Int(example.position) < length else {
        throw .invalidExample(
          index: index, user: example.user, position: example.position,
          reason: "position outside 1..<\(length) (the target needs at least one item of history)")
      }
      let target = Int(dataset.sequences[user][Int(example.position)])
      guard target >= 1 && target < dataset.itemCount else {
        throw .invalidExample(
          index: index, user: example.user, position: example.position,
          reason: "target item \(target) outside 1..<\(dataset.itemCount)")
      }
    }
  }

  /// Calls `score` on consecutive batches of `examples`, then `body(offset, batch, scores)` where `offset` is the
  /// index in `examples` of the batch's first row and `scores` holds `batch.count` rows of `dataset.itemCount`.
  /// The rows are reset to NaN before each `score` call, so an entry a model leaves unwritten ranks last instead
  /// of silently repeating the previous batch's score.
  static func forEachBatch(
    dataset: SequenceDataset, examples: [Example], maxLength: Int, batchSize: Int,
    score: (SequenceBatch, UnsafeMutablePointer<Float>) -> Void,
    body: (Int, SequenceBatch, UnsafeMutablePointer<Float>) -> Void
  ) {
    let itemCount = dataset.itemCount
    let rows = rowsPerBatch(batchSize: batchSize, itemCount: itemCount)
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: rows * itemCount)
    defer { buffer.deallocate() }
    var offset = 0
    while offset < examples.count {
      let end = min(offset + rows, examples.count)
      let batch = dataset.batch(examples[offset..<end], maxLength: maxLength)
      buffer.update(repeating: .nan, count: batch.count * itemCount)
      score(batch, buffer)
      body(offset, batch, buffer)
      offset = end
    }
  }
}
