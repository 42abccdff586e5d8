import ArgumentParser
import Foundation
import RecData
import RecEval
import RecModels
import RecTrain
import TensorCore

struct EvaluateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract: "Evaluate a trained checkpoint, or a training-free baseline, on the leave-one-out test (or valid) set.",
    discussion: """
      Examples:
        seqrec evaluate --checkpoint runs/recblr-ml-1m --data ml-1m-sasrec.txt
        seqrec evaluate --baseline pop --data Beauty.txt --eval sampled
        seqrec evaluate --baseline transition --data ml-1m-sasrec.txt --max-length 200
      """
  )

  enum Baseline: String, ExpressibleByArgument, CaseIterable {
    case pop
    case transition
  }

  @Option(help: "Run directory or checkpoint directory of a trained model.") var checkpoint: String?
  @Option(help: "A training-free baseline instead of a checkpoint: pop (most popular) or transition (item-to-item).")
  var baseline: Baseline?
  @Option(help: "Interaction file (the data the checkpoint was trained on; checked by fingerprint).") var data: String
  @Option(help: "Which examples: test or valid.") var split: String = "test"
  @Option(parsing: .unconditional, help: "History length for baselines (models use their own).") var maxLength: Int = 50
  @Option(help: "Seed of the sampled protocol's negatives.") var seed: UInt64 = 2020
  @Option(help: "Write the metrics as JSON to this file.") var json: String?

  @OptionGroup var dataset: DatasetOptions
  @OptionGroup var evaluation: EvaluationOptions
  @OptionGroup var parallelism: ParallelismOptions

  func validate() throws {
    if (checkpoint == nil) == (baseline == nil) {
      throw ValidationError("give exactly one of --checkpoint or --baseline")
    }
    if split != "test" && split != "valid" { throw ValidationError("--split must be test or valid") }
    if maxLength < 1 { throw ValidationError("--max-length must be at least 1") }
  }

  func run() async throws {
    parallelism.apply()
    let loaded = try dataset.load(data)
    let data = loaded.dataset
    let ks = try evaluation.parsedKs()
    let report: MetricReport = try reportingErrors {
      let splits = LeaveOneOutSplit(data)
      let examples = split == "test" ? splits.test : splits.valid
      let (score, length, label) = try scorer(data: data, splits: splits)
      let started = Date()
      let report: MetricReport
      switch evaluation.evaluation {
      case .full:
        report = try FullRankingEvaluator.evaluate(
          dataset: data, examples: examples, maxLength: length, ks: ks, maskHistory: evaluation.maskHistory,
          batchSize: 512, score: score)
      case .sampled:
        var sampled = try PopularitySampledEvaluator(dataset: data, seed: seed)
        report = try sampled.evaluate(
          dataset: data, examples: examples, maxLength: length, ks: ks, batchSize: 512, score: score)
      }
      let seconds = Date().timeIntervalSince(started)
      print("\(label) on \(data.name), \(split) split, \(String(format: "%.2f", seconds)) s")
      return report
    }
    print(report.table)
    if let json { try reportingErrors { try report.jsonData().write(to: URL(fileURLWithPath: json)) } }
  }

  /// The score closure, the history length it reads, and a label.
  func scorer(data: SequenceDataset, splits: LeaveOneOutSplit) throws -> (
    (SequenceBatch, UnsafeMutablePointer<Float>) -> Void, Int, String
  ) {
    if let checkpoint {
      let dir = URL(fileURLWithPath: checkpoint)
      let meta = try Checkpoint.read(from: dir)
      try meta.verify(dataset: data)
      let model = try meta.loadModel(from: dir)
      return ({ model.scores($0, into: $1) }, model.maxLength, "\(meta.model.name) (epoch \(meta.epoch ?? 0))")
    }
    switch baseline! {
    case .pop:
      let pop = MostPopular(dataset: data, trainingExamples: splits.train)
      return ({ pop.scores($0, into: $1) }, maxLength, "most-popular")
    case .transition:
      let tr = ItemTransition(dataset: data, trainingExamples: splits.train)
      return ({ tr.scores($0, into: $1) }, maxLength, "item-to-item transition")
    }
  }
}
