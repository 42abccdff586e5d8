import Foundation
import RecData
import RecEval
import RecModels
import RecTrain
import TensorCore
import Testing

/// The README's "Using the library" example, through the public API only (no `@testable`): load a file, train,
/// reload the checkpoint, recommend for raw item ids. If this test needs a change, so does the README.
@Suite struct LibraryUsageTests {
  /// 60 users walking a cycle of 20 raw item ids ("m1" … "m20"), 12 items each, as "user item" lines.
  static func writeCycleFile() throws -> URL {
    let lines = (0..<60).flatMap { u in (0..<12).map { t in "u\(u) m\((u + t) % 20 + 1)" } }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("seqrec-library-\(UUID().uuidString).txt")
    try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  @Test func trainReloadAndRecommendLikeTheReadme() throws {
    let file = try Self.writeCycleFile()
    let runURL = FileManager.default.temporaryDirectory.appendingPathComponent("seqrec-run-\(UUID().uuidString)")
    defer {
      try? FileManager.default.removeItem(at: file)
      try? FileManager.default.removeItem(at: runURL)
    }

    // --- README: Using the library ---
    let dataset = try DatasetLoader.load(
      path: file.path,
      options: DatasetLoadOptions(
        kCore: KCoreThresholds(minUserInteractions: 5, minItemInteractions: 5), useCache: false))
    let spec = try ModelSpec.resolve(model: "recblr", preset: nil, overrides: ["maxLength=20", "dropout=0.1"])
    var training = TrainingConfig()
    training.objective = .allPositions
    training.epochs = 40
    training.batchSize = 128
    training.learningRate = 1e-2
    training.seed = 7
    let run = try RunDirectory(runURL)
    let result = try TrainingRun.train(
      spec: spec, dataset: dataset, source: file.path, config: training, run: run, showProgress: false)
    print(result.test.line)  // [full] n=60 HR@10=… NDCG@10=…

    let checkpoint = try Checkpoint.read(from: run.url)
    let model = try checkpoint.loadModel(from: run.url)
    let history = ["m3", "m4", "m5"].compactMap { checkpoint.itemId(raw: $0) }
    let top = Recommender.topK(model: model, history: history, k: 3)
    print(top.map { checkpoint.rawItemIds[Int($0.item)] })  // the next items of the cycle: ["m6", …]
    // --- end ---

    #expect(history.count == 3)
    // Without `Parallel.configure` the app owns parallelism, so BLAS runs on one thread (one owner by default).
    #expect(Parallel.owner == .app && BLAS.threads == 1)
    #expect(checkpoint.rawItemIds[Int(top[0].item)] == "m6", "top-3 \(top.map { checkpoint.rawItemIds[Int($0.item)] })")
    #expect((result.test["MRR@10"] ?? 0) > 0.9, "\(result.test.line)")
  }
}
