import Foundation
import Prometheus

/// The server's Prometheus metrics (text format at GET /metrics). One registry per server, so tests can run
/// several servers in one process without a global metrics bootstrap.
public final class ServerMetrics: Sendable {
  public let registry = PrometheusCollectorRegistry()
  let eventsApplied: Counter
  let eventsDuplicate: Counter
  let transactionEvents: ValueHistogram
  let transactionDuration: DurationHistogram
  let stateRebuilds: Counter
  let statesSaved: Counter
  let eventsReplayedOnLoad: Counter

  static let latencyBuckets: [Duration] = [
    .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
    .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100),
    .milliseconds(250), .seconds(1),
  ]

  public init() {
    eventsApplied = registry.makeCounter(
      descriptor: Self.name("events_applied", "total", "Events appended to the log and applied to a user state."))
    eventsDuplicate = registry.makeCounter(
      descriptor: Self.name(
        "events_duplicate", "total", "Events whose event_id was already logged (acknowledged, not applied again)."))
    transactionEvents = registry.makeValueHistogram(
      descriptor: Self.name("commit_batch", "events", "Events per group-commit transaction."),
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096])
    transactionDuration = registry.makeDurationHistogram(
      descriptor: Self.name("commit_duration", "seconds", "Time of one group-commit transaction, fsync included."),
      buckets: Self.latencyBuckets)
    stateRebuilds = registry.makeCounter(
      descriptor: Self.name(
        "state_rebuilds", "total", "User states rebuilt from the event log (missing, or computed by another model)."))
    statesSaved = registry.makeCounter(
      descriptor: Self.name("states_saved", "total", "User states written to the state table."))
    eventsReplayedOnLoad = registry.makeCounter(
      descriptor: Self.name(
        "events_replayed_on_load", "total",
        "Logged events applied to a stored state when loading it (logged after the state was last stored)."))
  }

  static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(namespace: "seqrec", metricName: metric, unitName: unit, helpText: help)
  }

  /// Counts one HTTP request and records its latency, by route template (not raw path: bounded label values).
  func recordRequest(route: String, method: String, status: Int, duration: Duration) {
    let series = requestSeries(RequestKey(route: route, method: method, status: status))
    series.count.increment()
    series.latency.record(duration)
  }

  /// The registry looks a labelled metric up by its name and labels under a lock; the server asks for the same few
  /// series on every request, so they are kept here once made.
  private let requestSeriesCache = RequestSeriesCache()

  private func requestSeries(_ key: RequestKey) -> RequestSeries {
    requestSeriesCache.withLock { cache in
      if let series = cache[key] { return series }
      let series = (
        count: registry.makeCounter(
          descriptor: Self.name("http_requests", "total", "HTTP requests by route, method and status."),
          labels: [("route", key.route), ("method", key.method), ("status", String(key.status))]),
        latency: registry.makeDurationHistogram(
          descriptor: Self.name("http_request_duration", "seconds", "HTTP request latency by route."),
          labels: [("route", key.route), ("method", key.method)], buckets: Self.latencyBuckets)
      )
      cache[key] = series
      return series
    }
  }

  /// Counts one recommendation list by where it came from (model or most-popular fallback).
  func recordRecommendation(source: String) {
    registry.makeCounter(
      descriptor: Self.name("recommendations", "total", "Recommendation lists served, by source."),
      labels: [("source", source)]
    ).increment()
  }

  /// The Prometheus text exposition of every metric.
  public func text() -> String { registry.emitToString() }
}

private struct RequestKey: Hashable {
  var route: String
  var method: String
  var status: Int
}

private typealias RequestSeries = (count: Counter, latency: DurationHistogram)

private final class RequestSeriesCache: @unchecked Sendable {
  private let lock = NSLock()
  private var series: [RequestKey: RequestSeries] = [:]

  func withLock<T>(_ body: (inout [RequestKey: RequestSeries]) -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body(&series)
  }
}
