import ArgumentParser
import Foundation
import RecModels
import RecTrain
import TensorCore

struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure training throughput, evaluation time, streaming latency and memory of a model.",
    discussion: """
      Training: one untimed warm-up step, then --batches optimiser steps (or a whole epoch with --epoch) per \
      objective; reports targets/s, seconds per epoch (projected from the steps unless --epoch), GFLOP/s from the \
      model's analytic FLOP count (multiply-adds ×2 of its products, training = 3× forward; see FLOPCounting) and \
      the share of the fp32 peak (cores × "cpu MHz" of /proc/cpuinfo × 32 FLOP/cycle with AVX2 FMA, 64 when \
      OpenBLAS runs its AVX-512 kernels, named on the machine line). Evaluation: full ranking of every user's test \
      target. Streaming: one event (step + scores + top-10) per timing, p50/p99.

      Examples:
        seqrec bench --model recblr --preset ml-1m --data ml-1m-sasrec.txt --objective all-positions
        seqrec bench --model recblr --preset ml-1m --data ml-1m-sasrec.txt --objective all-positions --epoch
      """
  )

  @Option(help: "Model: \(ModelSpec.modelNames.joined(separator: ", ")).")
  var model: String

  @Option(help: "Interaction file (see 'seqrec data stats --help' for formats).")
  var data: String

  @Option(help: "Named hyper-parameter preset of the model (e.g. ml-1m).")
  var preset: String?

  @Option(
    name: .customLong("model-option"),
    help: ArgumentHelp("Override one model hyper-parameter, key=value (repeatable).", valueName: "key=value"))
  var modelOptions: [String] = []

  @Option(help: "Objective to time (repeatable): all-positions, prefix. Default: both.")
  var objective: [TrainingObjective] = []

  @Option(help: "Optimiser steps timed per objective (the prefix objective: at most --prefix-batches).")
  var batches = 20

  @Option(help: "Steps timed for the prefix objective (about 100× the work of an all-positions step).")
  var prefixBatches = 2

  @Flag(help: "Time one whole epoch per objective instead of --batches steps.")
  var epoch = false

  @Option(help: "Examples (or targets) per optimiser step.") var batchSize = 2048
  @Option(help: "Rows (or targets) per forward pass.") var microBatchSize = 256
  @Flag(help: "Run micro-batches serially instead of on one model replica per thread.") var noDataParallel = false
  @Flag(help: "Skip the training measurements.") var noTrain = false
  @Flag(help: "Skip the full-ranking evaluation.") var noEval = false
  @Option(help: "Events timed for the streaming latency (0: skip).") var streamingEvents = 2000
  @Option(help: "Random seed.") var seed: UInt64 = 2020

  @OptionGroup var dataset: DatasetOptions
  @OptionGroup var parallelism: ParallelismOptions

  func validate() throws {
    if batches < 1 || prefixBatches < 1 { throw ValidationError("--batches and --prefix-batches must be at least 1") }
    if batchSize < 1 || microBatchSize < 1 { throw ValidationError("batch sizes must be at least 1") }
    if streamingEvents < 0 { throw ValidationError("--streaming-events must be 0 or more") }
  }

  func run() async throws {
    parallelism.apply()
    let loaded = try dataset.load(data)
    var options = Benchmark.Options()
    options.model = model
    options.preset = preset
    options.modelOverrides = modelOptions
    options.objectives = noTrain ? [] : objective.isEmpty ? [.allPositions, .prefix] : objective
    options.batches = epoch ? nil : batches
    options.prefixBatches = prefixBatches
    options.batchSize = batchSize
    options.microBatchSize = microBatchSize
    options.dataParallel = !noDataParallel
    options.evaluate = !noEval
    options.streamingEvents = streamingEvents
    options.seed = seed
    let report = try reportingErrors {
      try Benchmark.run(dataset: loaded.dataset, options: options) { line in
        FileHandle.standardError.write(Data("  \(line)\n".utf8))
      }
    }
    for line in report.lines { print(line) }
  }
}
