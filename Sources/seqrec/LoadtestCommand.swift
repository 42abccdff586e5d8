import ArgumentParser
import Foundation
import RecServe
import RecTrain

extension LoadGenerator.Mode: ExpressibleByArgument {}

struct LoadtestCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "loadtest",
    abstract: "Closed-loop HTTP load on a local `seqrec serve` (loopback only): throughput and latency percentiles.",
    discussion: """
      events: POST /v1/events with --batch random events per request (random user of --users, random item of the \
      checkpoint, unique event_id); recommendations: GET /v1/users/{user}/recommendations?k=… for random users.

      Examples:
        seqrec loadtest --checkpoint runs/demo --port 8080 --mode events --connections 32 --seconds 10
        seqrec loadtest --checkpoint runs/demo --port 8080 --mode recommendations --seconds 10
      """
  )

  @Option(help: "The checkpoint the server runs (its raw item ids are the events' items).") var checkpoint: String
  @Option(help: "Loopback address of the server.") var host = "127.0.0.1"
  @Option(help: "Port of the server.") var port = 8080
  @Option(help: "What to send: events or recommendations.") var mode: LoadGenerator.Mode = .events
  @Option(help: "Concurrent connections (one thread each).") var connections = 32
  @Option(help: "How long to send, in seconds.") var seconds = 10.0
  @Option(help: "Stop after this many requests in all.") var maxRequests: Int?
  @Option(help: "Events per POST /v1/events request.") var batch = 1
  @Option(help: "Users are named <user-prefix>0 … <user-prefix>(N−1).") var users = 6_040
  @Option(help: "Prefix of the user names.") var userPrefix = "user-"
  @Option(name: .customShort("k"), help: "k of each recommendation request.") var k = 10
  @Option(help: "Random seed.") var seed: UInt64 = 1
  @Option(help: "Write the event ids the server acknowledged (2xx), one per line, to this file.")
  var recordAcknowledged: String?

  func validate() throws {
    if connections < 1 || batch < 1 || users < 1 || k < 1 { throw ValidationError("counts must be at least 1") }
    if !(seconds > 0) { throw ValidationError("--seconds must be positive") }
  }

  func run() async throws {
    let meta = try reportingErrors { try Checkpoint.read(from: URL(fileURLWithPath: checkpoint)) }
    var load = LoadGenerator(port: port, mode: mode, items: Array(meta.rawItemIds.dropFirst()))
    if (try? LoopbackHTTPClient(host: host, port: port)) == nil {
      throw ValidationError("--host \(host) is not a loopback address: the load generator only targets 127.0.0.0/8")
    }
    load.connections = connections
    load.seconds = seconds
    load.maxRequests = maxRequests ?? Int.max
    load.batchSize = batch
    load.users = users
    load.userPrefix = userPrefix
    load.k = k
    load.seed = seed
    let report = load.run()
    print(report.summary)
    if let recordAcknowledged {
      let text = report.acknowledgedEventIds.joined(separator: "\n") + (report.acknowledgedEventIds.isEmpty ? "" : "\n")
      try reportingErrors { try text.write(toFile: recordAcknowledged, atomically: true, encoding: .utf8) }
    }
  }
}
