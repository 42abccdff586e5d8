import Foundation
import RecEval

/// A recommendation list and where it came from.
public struct Recommendations: Equatable, Sendable {
  public enum Source: String, Sendable {
    /// The model's scores for the user's state.
    case model
    /// The user has no history: the most popular items, scored by their event counts.
    case mostPopular = "most_popular"
  }
  public var source: Source
  /// Items the state was computed from (0 for the most-popular fallback).
  public var historyLength: Int
  public var entries: [TopK.Entry]
}

/// Everything the HTTP routes call, without HTTP: append events, recommend for a stored user or an ad-hoc
/// history. Owns the model (shared read-only), the store, its single writer, the state cache and popularity.
public final class RecommendationEngine: Sendable {
  public let model: ServedModel
  public let store: EventStore
  public let writer: EventWriter
  public let metrics: ServerMetrics
  public let limits: RequestLimits
  let popularity: ItemPopularity

  public struct Options: Sendable {
    /// Users whose states stay in memory.
    public var cachedUsers = 200_000
    /// Most events one group-commit transaction takes.
    public var maxEventsPerTransaction = 4_096
    /// A user's state is stored after this many of the user's events (1: after every event); loading a state
    /// replays the events logged after it.
    public var stateSaveInterval = 16
    /// Store every state with unsaved events at graceful shutdown. Tests turn it off to see what a crash leaves.
    public var saveStatesAtShutdown = true
    /// Item counts added to the log's (e.g. the training data's), indexed by internal id.
    public var popularityPrior: [Int64]? = nil
    public var limits = RequestLimits()
    public init() {}
  }

  /// Opens the store at `statePath` and counts the logged events per item for the most-popular fallback.
  public init(model: ServedModel, statePath: String, options: Options = Options()) throws {
    self.model = model
    self.store = try EventStore(path: statePath)
    self.metrics = ServerMetrics()
    self.limits = options.limits
    self.popularity = ItemPopularity(itemCount: model.itemCount)
    if let prior = options.popularityPrior { popularity.add(counts: prior) }
    for (raw, count) in try store.itemCounts() {
      if let id = model.itemId(raw: raw) { popularity.add([id], amount: Int64(count)) }
    }
    self.writer = EventWriter(
      store: store, model: model, cache: StateCache(capacity: options.cachedUsers), popularity: popularity,
      metrics: metrics, maxEventsPerTransaction: options.maxEventsPerTransaction,
      stateSaveInterval: options.stateSaveInterval, saveStatesAtShutdown: options.saveStatesAtShutdown)
  }

  /// Appends the events of a POST /v1/events body; returns once they are durable.
  public func appendEvents(json body: Data) async throws -> AppendOutcome {
    let events = try RequestDecoding.events(body, model: model, limits: limits)
    return try await writer.append(events)
  }

  /// Top-K for a stored user: from the user's state, or the most popular items when the user has no history.
  public func recommendations(user: String, k: Int, excludeSeen: Bool) async throws -> Recommendations {
    try RequestDecoding.checkId(user, field: "user", limits: limits)
    try RequestDecoding.checkK(k, limits: limits)
    let state = try await writer.state(of: user)
    var excluded: Set<Int32> = []
    if excludeSeen && state.itemCount > 0 {
      excluded = Set(try await store.seenItems(of: user).compactMap { model.itemId(raw: $0) })
    }
    return recommend(state, k: k, excluded: excluded)
  }

  /// Top-K for an ad-hoc history (a POST /v1/recommendations body); nothing is stored.
  public func recommendations(json body: Data) throws -> Recommendations {
    let request = try RequestDecoding.adHoc(body, model: model, limits: limits)
    return recommend(
      model.replay(request.items), k: request.k, excluded: request.excludeSeen ? Set(request.items) : [])
  }

  func recommend(_ state: UserState, k: Int, excluded: Set<Int32>) -> Recommendations {
    let result: Recommendations
    if state.itemCount == 0 {
      result = Recommendations(source: .mostPopular, historyLength: 0, entries: popularity.top(k, excluded: excluded))
    } else {
      result = Recommendations(
        source: .model, historyLength: state.itemCount, entries: model.topK(state, k: k, excluded: excluded))
    }
    metrics.recordRecommendation(source: result.source.rawValue)
    return result
  }
}
