import Foundation
import TensorCore

/// A closed-loop HTTP load generator for `seqrec serve` on loopback: `connections` threads, each with one
/// keep-alive connection, send requests back to back until `seconds` have passed (or `maxRequests` are sent) and
/// record every latency. A refused or broken connection counts as an error and is retried after 10 ms, so the
/// load survives a server restart (the crash test).
public struct LoadGenerator: Sendable {
  public enum Mode: String, Sendable, CaseIterable {
    /// POST /v1/events with `batchSize` events per request (random user, random item, unique event_id).
    case events
    /// GET /v1/users/{user}/recommendations?k=… for a random user.
    case recommendations
  }

  public var port: Int
  public var mode: Mode
  public var connections = 32
  public var seconds = 10.0
  public var maxRequests = Int.max
  public var batchSize = 1
  public var k = 10
  public var users = 6_040
  public var userPrefix = "user-"
  public var items: [String]
  public var seed: UInt64 = 1
  /// Prefix of the event ids, unique per run so that reruns against one store do not collide.
  public var runId: String

  public init(port: Int, mode: Mode, items: [String], runId: String = UUID().uuidString.prefix(8).lowercased()) {
    self.port = port
    self.mode = mode
    self.items = items
    self.runId = runId
  }

  public struct Report: Sendable {
    public var mode: Mode
    public var seconds: Double
    public var requests = 0
    public var events = 0
    public var errors = 0
    public var firstError: String?
    /// Latencies of successful requests, in microseconds, sorted.
    public var latencies: [UInt32] = []
    /// Event ids whose request was answered 2xx (durable).
    public var acknowledgedEventIds: [String] = []

    public func percentile(_ p: Double) -> Double {
      guard !latencies.isEmpty else { return .nan }
      let index = min(latencies.count - 1, Int((p / 100 * Double(latencies.count)).rounded(.up)) - 1)
      return Double(latencies[max(0, index)]) / 1000
    }

    public var summary: String {
      let rate = Double(requests) / seconds
      var line = String(
        format: "%@: %d requests in %.1f s with %d errors: %.0f requests/s", mode.rawValue, requests, seconds, errors,
        rate)
      if mode == .events { line += String(format: ", %.0f events/s (%d events)", Double(events) / seconds, events) }
      line += String(
        format: "; latency ms: p50 %.2f, p90 %.2f, p99 %.2f, max %.2f", percentile(50), percentile(90),
        percentile(99), percentile(100))
      if let firstError { line += "\nfirst error: \(firstError)" }
      return line
    }
  }

  /// Runs the load and returns what it measured.
  public func run() -> Report {
    precondition(!items.isEmpty && users > 0 && connections > 0 && batchSize > 0, "empty load")
    let deadline = Date().addingTimeInterval(seconds)
    let results = WorkerResults(count: connections)
    let started = Date()
    let group = DispatchGroup()
    for worker in 0..<connections {
      group.enter()
      let thread = Thread { [self] in
        results.set(worker, runWorker(worker, deadline: deadline, requests: maxRequests / connections))
        group.leave()
      }
      thread.stackSize = 1 << 20
      thread.start()
    }
    group.wait()
    var report = Report(mode: mode, seconds: Date().timeIntervalSince(started))
    for worker in results.all() {
      report.requests += worker.requests
      report.events += worker.events
      report.errors += worker.errors
      report.firstError = report.firstError ?? worker.firstError
      report.latencies += worker.latencies
      report.acknowledgedEventIds += worker.acknowledged
    }
    report.latencies.sort()
    return report
  }

  struct WorkerResult: Sendable {
    var requests = 0
    var events = 0
    var errors = 0
    var firstError: String?
    var latencies: [UInt32] = []
    var acknowledged: [String] = []
  }

  private func runWorker(_ worker: Int, deadline: Date, requests limit: Int) -> WorkerResult {
    var result = WorkerResult()
    var rng = SeededRNG(seed: seed &+ UInt64(worker) &* 0x9E37_79B9)
    guard let client = try? LoopbackHTTPClient(port: port, timeoutSeconds: 10) else {
      result.firstError = "not a loopback port"
      return result
    }
    var sequence = 0
    while Date() < deadline && result.requests < max(limit, 1) {
      let method: String
      let path: String
      var body: [UInt8]?
      var eventIds: [String] = []
      switch mode {
      case .events:
        var json = "["
        for j in 0..<batchSize {
          let id = "\(runId)-\(worker)-\(sequence)"
          sequence += 1
          eventIds.append(id)
          let user = "\(userPrefix)\(rng.int(below: users))"
          let item = items[rng.int(below: items.count)]
          json += (j > 0 ? "," : "") + "{\"user\":\(ResponseJSON.string(user)),\"item\":\(ResponseJSON.string(item)),"
          json += "\"event_id\":\(ResponseJSON.string(id))}"
        }
        (method, path, body) = ("POST", "/v1/events", Array((json + "]").utf8))
      case .recommendations:
        (method, path) = ("GET", "/v1/users/\(userPrefix)\(rng.int(below: users))/recommendations?k=\(k)")
      }
      let sent = DispatchTime.now().uptimeNanoseconds
      do {
        let response = try client.request(method, path, body: body)
        let micros = (DispatchTime.now().uptimeNanoseconds - sent) / 1000
        if (200..<300).contains(response.status) {
          result.requests += 1
          result.events += eventIds.count
          result.latencies.append(UInt32(min(micros, UInt64(UInt32.max))))
          result.acknowledged += eventIds
        } else {
          result.errors += 1
          result.firstError = result.firstError ?? "HTTP \(response.status): \(response.text)"
        }
      } catch {
        result.errors += 1
        result.firstError = result.firstError ?? "\(error)"
        usleep(10_000)
      }
    }
    return result
  }
}

/// Per-worker results, written once by each worker thread.
private final class WorkerResults: @unchecked Sendable {
  private let lock = NSLock()
  private var results: [LoadGenerator.WorkerResult]

  init(count: Int) { results = Array(repeating: .init(), count: count) }

  func set(_ index: Int, _ result: LoadGenerator.WorkerResult) {
    lock.lock()
    results[index] = result
    lock.unlock()
  }

  func all() -> [LoadGenerator.WorkerResult] {
    lock.lock()
    defer { lock.unlock() }
    return results
  }
}
