import ArgumentParser
import Foundation
import RecData
import RecEval
import RecModels
import RecTrain
import TensorCore

struct TrainCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a model with RecBole's protocol and write a run directory with the best checkpoint.",
    discussion: """
      Leave-one-out split, Adam, validation every epoch on NDCG@10, early stopping as RecBole (ties count as \
      improvement; stop after --stopping-step + 1 epochs without one), the best parameters restored for one test \
      evaluation. The run directory gets config.json, metrics.jsonl, learning_curve.svg, result.json and the \
      checkpoint (model.safetensors + checkpoint.json).

      Examples:
        seqrec train --model recblr --preset ml-1m --data ml-1m-sasrec.txt
        seqrec train --model recblr --preset beauty --data Beauty.txt --objective prefix --seed 2020
        seqrec train --model recblr --data ml-100k.inter --model-option maxLength=50 --epochs 5
        seqrec train --resume runs/recblr-ml-1m-sasrec-2026… --time-budget-minutes 60

      A run directory holds a resume state after every epoch (resume.json, resume.safetensors): --resume continues \
      an interrupted or time-budgeted run exactly where it stopped, with the run's number of data-parallel workers \
      (the same results as one uninterrupted run on any machine); --threads N also sets the workers to N (then only \
      the float summation order differs).
      """
  )

  @Option(help: "Model: \(ModelSpec.modelNames.joined(separator: ", ")).")
  var model: String?

  @Option(
    help: ArgumentHelp(
      "Interaction file (see 'seqrec data stats --help' for formats).",
      discussion: "With --resume: the run's own data file unless given (give it, with the same dataset options, "
        + "when the run used --min-user-inter/--min-item-inter or the file moved)."))
  var data: String?

  @Option(
    help: ArgumentHelp(
      "Continue the run in this run directory after its last completed epoch.",
      discussion: "The model and training settings come from its config.json; only --epochs, "
        + "--time-budget-minutes and the threading options may be given.", valueName: "run-dir"))
  var resume: String?

  @Option(help: "Named hyper-parameter preset of the model (e.g. ml-1m, beauty, sports for recblr).")
  var preset: String?

  @Option(
    name: .customLong("model-option"),
    help: ArgumentHelp(
      "Override one model hyper-parameter, key=value (repeatable), e.g. dropout=0.3.", valueName: "key=value"))
  var modelOptions: [String] = []

  @Option(help: "Training objective: prefix (RecBole's, one target per example) or all-positions (causal models).")
  var objective: TrainingObjective = .prefix

  @Option(
    parsing: .unconditional,
    help: "All-positions objective: targets per window chunk (default: the model's max length).")
  var windowStride: Int?

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "All-positions objective: run each window N times per epoch, each run with the loss of a random 1/N of its "
        + "targets (own dropout per run, N times the windows per batch, about N times the model cost; default 1).",
      valueName: "N"))
  var windowSplits: Int?

  @Option(parsing: .unconditional, help: "Maximum number of epochs (default: 300; with --resume: the run's).")
  var epochs: Int?
  @Option(parsing: .unconditional, help: "Examples (or targets) per optimiser step.") var batchSize = 2048
  @Option(parsing: .unconditional, help: "Rows per forward pass; gradients of a batch's micro-batches are summed.")
  var microBatchSize = 256
  @Option(parsing: .unconditional, help: "Adam learning rate.") var learningRate: Float = 1e-3
  @Option(parsing: .unconditional, help: "Adam weight decay (L2 added to the gradient).") var weightDecay: Float = 0
  @Option(parsing: .unconditional, help: "Clip the global gradient norm to this value.") var clipGradNorm: Float?
  @Option(parsing: .unconditional, help: "Early stopping patience (RecBole stopping_step).") var stoppingStep = 10
  @Option(
    parsing: .unconditional,
    help: "Stop after the epoch that ends past this many minutes; the best checkpoint is then tested.")
  var timeBudgetMinutes: Double?
  @Option(help: "Random seed (initialisation, shuffling, dropout, sampled negatives).") var seed: UInt64 = 2020
  @Option(help: "Run directory (default: runs/<model>-<data>-<time>).") var runDir: String?

  @OptionGroup var dataset: DatasetOptions
  @OptionGroup var evaluation: EvaluationOptions
  @OptionGroup var parallelism: ParallelismOptions

  func validate() throws {
    if resume != nil {
      if model != nil || preset != nil || !modelOptions.isEmpty || runDir != nil {
        throw ValidationError(
          "--resume continues the model of the run directory it names: drop --model, --preset, --model-option and --run-dir"
        )
      }
      let defaults = try TrainCommand.parse(["--model", "x", "--data", "x"])
      let changed = [
        ("--objective", objective != defaults.objective), ("--window-stride", windowStride != defaults.windowStride),
        ("--window-splits", windowSplits != defaults.windowSplits),
        ("--batch-size", batchSize != defaults.batchSize),
        ("--micro-batch-size", microBatchSize != defaults.microBatchSize),
        ("--learning-rate", learningRate != defaults.learningRate),
        ("--weight-decay", weightDecay != defaults.weightDecay),
        ("--clip-grad-norm", clipGradNorm != defaults.clipGradNorm),
        ("--stopping-step", stoppingStep != defaults.stoppingStep), ("--seed", seed != defaults.seed),
        ("--eval", evaluation.evaluation != defaults.evaluation.evaluation),
        ("--ks", evaluation.ks != defaults.evaluation.ks),
        ("--mask-history", evaluation.maskHistory != defaults.evaluation.maskHistory),
      ].filter(\.1).map(\.0)
      if !changed.isEmpty {
        throw ValidationError(
          "a resumed run keeps its training settings; drop \(changed.joined(separator: ", ")) "
            + "(only --epochs, --time-budget-minutes and threading options apply)")
      }
    } else if model == nil || data == nil {
      throw ValidationError("give --model and --data (or --resume <run-dir>)")
    }
    if let problem = try trainingConfig().problem { throw ValidationError(problem) }
  }

  /// The training settings the flags give (with --resume, the flags may only repeat the defaults, so checking
  /// these is checking --epochs and --time-budget-minutes).
  func trainingConfig() throws -> TrainingConfig {
    var config = TrainingConfig()
    config.epochs = epochs ?? config.epochs
    config.batchSize = batchSize
    config.microBatchSize = microBatchSize
    config.learningRate = learningRate
    config.weightDecay = weightDecay
    config.clipGradNorm = clipGradNorm
    config.stoppingStep = stoppingStep
    config.seed = seed
    config.timeBudgetSeconds = timeBudgetMinutes.map { $0 * 60 }
    config.objective = objective
    config.windowStride = windowStride
    config.windowSplits = windowSplits
    config.evaluation = evaluation.evaluation
    config.ks = try evaluation.parsedKs()
    config.maskHistory = evaluation.maskHistory
    return config
  }

  func run() async throws {
    parallelism.apply()
    if let resume {
      let (run, resolved) = try reportingErrors { () throws -> (RunDirectory, TrainingRun.ResolvedConfig) in
        guard FileManager.default.fileExists(atPath: resume + "/config.json") else {
          throw TrainingError.invalidConfig("\(resume): no config.json here; not a run directory")
        }
        let run = try RunDirectory(URL(fileURLWithPath: resume))
        return (run, try TrainingRun.resolvedConfig(of: run))
      }
      let loaded = try dataset.load(data ?? resolved.dataset.source)
      let result = try reportingErrors {
        try TrainingRun.resume(
          run: run, dataset: loaded.dataset, epochs: epochs, timeBudgetSeconds: timeBudgetMinutes.map { $0 * 60 },
          dataParallelWorkers: parallelism.threads)
      }
      report(result, validMetric: resolved.training.validMetric, run: run)
      return
    }
    let spec = try reportingErrors { try ModelSpec.resolve(model: model!, preset: preset, overrides: modelOptions) }
    let loaded = try dataset.load(data!)
    let config = try trainingConfig()
    let run = try reportingErrors {
      try runDir.map { try RunDirectory(URL(fileURLWithPath: $0)) }
        ?? RunDirectory.fresh(parent: URL(fileURLWithPath: "runs"), model: spec.name, dataset: loaded.dataset.name)
    }
    let result = try reportingErrors {
      try TrainingRun.train(spec: spec, dataset: loaded.dataset, source: data!, config: config, run: run)
    }
    report(result, validMetric: config.validMetric, run: run)
  }

  private func report(_ result: TrainingResult, validMetric: String, run: RunDirectory) {
    print(
      "\nstopped: \(result.stopReason)\nbest epoch \(result.bestEpoch) of \(result.epochs.count); valid \(validMetric) \(String(format: "%.4f", result.bestValid))"
    )
    print(String(format: "%.1f s per epoch (training only)", result.secondsPerEpoch))
    print("test (\(result.test.protocolLabel)):")
    print(result.test.table)
    print("run directory: \(run.url.path)")
  }
}
