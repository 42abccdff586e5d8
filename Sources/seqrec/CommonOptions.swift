import ArgumentParser
import Foundation
import RecEval
import RecModels
import RecTrain
import TensorCore

extension TrainingObjective: ExpressibleByArgument {}
extension EvaluationMode: ExpressibleByArgument {}
extension ParallelismOwner: ExpressibleByArgument {}

/// Who uses the cores.
struct ParallelismOptions: ParsableArguments {
  @Option(
    parsing: .unconditional, help: "Threads to use (default: $SEQREC_THREADS, $OPENBLAS_NUM_THREADS, else all cores).")
  var threads: Int?

  @Option(
    help: ArgumentHelp(
      "Owner of parallelism: app (seqrec's own threads, OpenBLAS pinned to 1 thread) or blas (OpenBLAS threads, "
        + "seqrec's loops serial). Never both at once."))
  var parallelism: ParallelismOwner = .app

  func validate() throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
  }

  func apply() { Parallel.configure(owner: parallelism, threads: threads ?? Parallel.defaultThreads) }
}

/// Evaluation protocol options.
struct EvaluationOptions: ParsableArguments {
  @Option(
    name: .customLong("eval"),
    help: "Ranking protocol: full (every item, the default) or sampled (target + 100 popularity-sampled negatives).")
  var evaluation: EvaluationMode = .full

  @Option(help: "Cut-offs K for HR/NDCG/MRR@K, comma-separated.")
  var ks: String = "10,20"

  @Flag(help: "Mask items the user already interacted with (RecBole does not, for sequential models).")
  var maskHistory = false

  func validate() throws { _ = try parsedKs() }

  func parsedKs() throws -> [Int] {
    let values = ks.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
      throw ValidationError("--ks must be positive integers separated by commas, e.g. 10,20 (got '\(ks)')")
    }
    return values.map { $0! }
  }
}

/// Runs `body`, turning the library's errors into one clear line on stderr and a failure exit code.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as ExitCode {
    throw error
  } catch let error as ValidationError {
    throw error
  } catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    throw ExitCode.failure
  }
}
