import ArgumentParser
import Foundation
import Logging
import RecData
import RecServe
import RecTrain

struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "HTTP recommendation server with a durable event log and streaming per-user state.",
    discussion: """
      Routes: POST /v1/events (one event or an array), GET /v1/users/{user}/recommendations?k=10&exclude_seen=false, \
      POST /v1/recommendations ({"items": [...], "k": 10}), GET /healthz, GET /metrics (Prometheus text).

      Every event is durable (SQLite WAL, synchronous=FULL, group commit) before its request is answered. A user's \
      state is stored beside the log, tagged with the model's fingerprint, and rebuilt from the log when missing or \
      computed by another model. SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the store last.

      Example:
        seqrec serve --checkpoint runs/demo --state serve.sqlite --port 8080
      """
  )

  @Option(help: "Run directory or checkpoint directory.") var checkpoint: String
  @Option(help: "SQLite file for the event log and user states (created if missing).") var state: String
  @Option(help: "Address to listen on.") var host = "127.0.0.1"
  @Option(help: "Port to listen on (0: any free port).") var port = 8080
  @Option(help: "Users whose states stay in memory.") var cachedUsers = 200_000
  @Option(help: "Largest request body in bytes (413 beyond).") var maxBodyBytes = 1 << 20
  @Option(help: "Most events in one request (413 beyond).") var maxEventsPerRequest = 10_000
  @Option(help: "Most events in one group-commit transaction.") var maxEventsPerTransaction = 4_096
  @Option(
    help: ArgumentHelp(
      "Store a user's state after this many of the user's events (1: after every event).",
      discussion: "Loading a state replays the events logged after it, so answers do not depend on this."))
  var stateSaveInterval = 16
  @Option(
    help: ArgumentHelp(
      "The checkpoint's training file: its item counts seed the most-popular fallback (checked by fingerprint).",
      discussion: "Without it, popularity counts only the events in the log."))
  var data: String?
  @OptionGroup var dataset: DatasetOptions

  func validate() throws {
    if !(0...65_535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
    if cachedUsers < 1 || maxBodyBytes < 1 || maxEventsPerRequest < 1 || maxEventsPerTransaction < 1
      || stateSaveInterval < 1
    {
      throw ValidationError("--cached-users, --state-save-interval and the --max-* limits must be at least 1")
    }
  }

  func run() async throws {
    var logger = Logger(label: "seqrec.serve")
    logger.logLevel = .info
    var options = RecommendationEngine.Options()
    options.cachedUsers = cachedUsers
    options.maxEventsPerTransaction = maxEventsPerTransaction
    options.stateSaveInterval = stateSaveInterval
    options.limits.maxBodyBytes = maxBodyBytes
    options.limits.maxEventsPerRequest = maxEventsPerRequest
    if let data {
      let loaded = try dataset.load(data)
      let meta = try reportingErrors { try Checkpoint.read(from: URL(fileURLWithPath: checkpoint)) }
      try reportingErrors { try meta.verify(dataset: loaded.dataset) }
      var counts = [Int64](repeating: 0, count: loaded.dataset.itemCount)
      for sequence in loaded.dataset.sequences { for item in sequence { counts[Int(item)] += 1 } }
      options.popularityPrior = counts
    }
    let (app, engine) = try reportingErrors {
      try ServeApplication.make(
        checkpoint: URL(fileURLWithPath: checkpoint), statePath: state, host: host, port: port, options: options,
        logger: logger
      ) { [host] port in
        FileHandle.standardOutput.write(Data("seqrec serve: listening on http://\(host):\(port)\n".utf8))
      }
    }
    let model = engine.model
    FileHandle.standardOutput.write(
      Data(
        ("seqrec serve: \(model.name)\(model.isStreaming ? " (streaming state)" : " (last \(model.maxLength) items)"), "
          + "\(model.itemCount - 1) items, fingerprint \(model.fingerprint); state \(state)\n").utf8))
    try await ServeApplication.run(app, logger: logger)
    print("seqrec serve: stopped; state store closed")
  }
}
