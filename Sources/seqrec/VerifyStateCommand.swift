import ArgumentParser
import Foundation
import RecServe
import TensorCore

struct VerifyStateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify-state",
    abstract: "Check a `seqrec serve` state store: acknowledged events present, every user state equal to a replay.",
    discussion: """
      Run it on a stopped server's store (e.g. after a crash and restart). Exits non-zero if any acknowledged event \
      is missing from the log or any user's stored state differs from replaying that user's logged events.

      Example:
        seqrec verify-state --checkpoint runs/demo --state serve.sqlite --acknowledged acked.txt
      """
  )

  @Option(help: "Run directory or checkpoint directory the server ran.") var checkpoint: String
  @Option(help: "The server's SQLite state file.") var state: String
  @Option(help: "File of acknowledged event ids, one per line (from `seqrec loadtest --record-acknowledged`).")
  var acknowledged: String?

  func run() async throws {
    guard FileManager.default.fileExists(atPath: state) else {
      FileHandle.standardError.write(Data("error: \(state): no state store here\n".utf8))
      throw ExitCode.failure
    }
    // The server's threading (BLAS on one thread): the replay then runs the same arithmetic, bit for bit.
    Parallel.configure(owner: .app, threads: 1)
    let report = try reportingErrors {
      let ids = try acknowledged.map {
        try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n").map(String.init)
      }
      let model = try ServedModel(directory: URL(fileURLWithPath: checkpoint))
      let store = try EventStore(path: state)
      defer { try? store.close() }
      return try StateVerifier.verify(store: store, model: model, acknowledgedEventIds: ids ?? [])
    }
    print(report.summary)
    print(report.passed ? "verify-state: PASS" : "verify-state: FAIL")
    if !report.passed { throw ExitCode.failure }
  }
}
