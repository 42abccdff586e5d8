import ArgumentParser
import Foundation
import RecData
import RecEval
import RecModels
import RecTrain
import TensorCore

struct DemoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Train RecBLR on MovieLens-100K for a few epochs, then print test metrics and one user's top 10.",
    discussion: """
      Uses data/ml-100k/ml-100k.inter (scripts/fetch-data.sh ml-100k puts it there) and the titles in \
      ml-100k.item beside it. The run directory (checkpoint, metrics, learning curve) goes to runs/demo.
      """
  )

  @Option(help: "ML-100K interactions (RecBole atomic file).") var data = "data/ml-100k/ml-100k.inter"
  @Option(help: "Epochs to train.") var epochs = 8
  @Option(help: "Raw id of the user to recommend for.") var user = "196"
  @Option(help: "Random seed.") var seed: UInt64 = 2020
  @Option(help: "Run directory.") var runDir = "runs/demo"
  @OptionGroup var parallelism: ParallelismOptions

  func validate() throws {
    if epochs < 1 { throw ValidationError("--epochs must be at least 1") }
  }

  func run() async throws {
    parallelism.apply()
    guard FileManager.default.fileExists(atPath: data) else {
      FileHandle.standardError.write(
        Data("error: \(data) not found; run scripts/fetch-data.sh ml-100k (or pass --data)\n".utf8))
      throw ExitCode.failure
    }
    let dataset = try reportingErrors { try DatasetLoader.load(path: data) }
    let stats = DatasetStatistics(dataset)
    print(
      "MovieLens-100K: \(stats.users) users, \(stats.items) items, \(stats.interactions) interactions "
        + "(avg \(String(format: "%.1f", stats.averageLength)) per user)")
    var config = RecBLRConfig()
    config.maxLength = 50
    let spec = ModelSpec.recblr(config)
    var training = TrainingConfig()
    training.epochs = epochs
    training.seed = seed
    training.objective = .allPositions
    training.microBatchSize = 512
    print("training RecBLR (d 64, 2 layers, L 50, all-positions objective) for \(epochs) epochs, seed \(seed)")
    let run = try reportingErrors { try RunDirectory(URL(fileURLWithPath: runDir)) }
    let result = try reportingErrors {
      try TrainingRun.train(spec: spec, dataset: dataset, source: data, config: training, run: run)
    }
    print("\ntest metrics (full ranking, best epoch \(result.bestEpoch)):")
    for key in ["HR@10", "NDCG@10", "MRR@10"] {
      print(
        "  " + key.padding(toLength: 8, withPad: " ", startingAt: 0) + String(format: " %.4f", result.test[key] ?? .nan)
      )
    }
    guard let u = dataset.rawUserIds.firstIndex(of: user) else {
      FileHandle.standardError.write(Data("error: user '\(user)' is not in \(dataset.name)\n".utf8))
      throw ExitCode.failure
    }
    let meta = try reportingErrors { try Checkpoint.read(from: run.url) }
    let model = try reportingErrors { try meta.loadModel(from: run.url) }
    let itemFile = URL(fileURLWithPath: data).deletingPathExtension().appendingPathExtension("item").path
    let titles = (try? ItemTitles.load(path: itemFile)) ?? [:]
    let history = dataset.sequences[u]
    print("\nuser \(user) watched \(history.count) movies; the last three:")
    for item in history.suffix(3) {
      let raw = dataset.rawItemIds[Int(item)]
      print("  \(titles[raw] ?? raw)")
    }
    print("top 10 next movies (RecBLR streaming state, unseen only):")
    let top = Recommender.topK(model: model, history: history, k: 10, excludeSeen: true)
    for (rank, entry) in top.enumerated() {
      let raw = dataset.rawItemIds[Int(entry.item)]
      print(String(format: "  %2d. %@", rank + 1, titles[raw] ?? "item \(raw)"))
    }
    print("\nrun directory: \(run.url.path) (checkpoint, metrics.jsonl, learning_curve.svg)")
  }
}
