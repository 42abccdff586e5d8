import Foundation
import GRDB
import ServiceLifecycle

/// An event checked against the model (known item, well-formed ids), ready to append.
public struct ValidatedEvent: Equatable, Sendable {
  public var user: String
  public var item: String
  public var itemId: Int32
  public var timestamp: Double?
  public var eventId: String?

  public init(user: String, item: String, itemId: Int32, timestamp: Double? = nil, eventId: String? = nil) {
    self.user = user
    self.item = item
    self.itemId = itemId
    self.timestamp = timestamp
    self.eventId = eventId
  }
}

/// What one append request did: events applied, and events recognised as retries by their `event_id`.
public struct AppendOutcome: Equatable, Sendable {
  public var applied: Int
  public var duplicates: Int
}

/// The single writer of the state store, with group commit: requests queue their events, and the writer takes
/// everything queued so far into one transaction (appending to the log and advancing each touched user's state in
/// arrival order), commits (one fsync for the lot), then acknowledges every request of the batch. While one batch
/// commits, the next one queues, so throughput does not collapse to one fsync per request.
///
/// A user's state is stored (in the same transaction as the events) once `stateSaveInterval` of the user's events
/// have accumulated since it was last stored, not after every event: each stored state is a few KiB, and writing it
/// per event would dominate the transaction. Loading a state replays the user's events logged after it, so what
/// the server serves always equals a replay of the whole log, crash or not.
///
/// It also owns the state cache: only committed states enter it. As a `Service` it drains its queue on graceful
/// shutdown, stores every state with unsaved events, checkpoints the WAL and closes the store.
public final class EventWriter: Service, Sendable {
  let store: EventStore
  let model: ServedModel
  let cache: StateCache
  let popularity: ItemPopularity
  let metrics: ServerMetrics
  let queue: WriteQueue
  let stateSaveInterval: Int
  let saveStatesAtShutdown: Bool

  init(
    store: EventStore, model: ServedModel, cache: StateCache, popularity: ItemPopularity, metrics: ServerMetrics,
    maxEventsPerTransaction: Int, stateSaveInterval: Int, saveStatesAtShutdown: Bool = true
  ) {
    precondition(stateSaveInterval > 0, "a state must be stored at least every event")
    self.store = store
    self.model = model
    self.cache = cache
    self.popularity = popularity
    self.metrics = metrics
    self.queue = WriteQueue(maxEventsPerBatch: maxEventsPerTransaction)
    self.stateSaveInterval = stateSaveInterval
    self.saveStatesAtShutdown = saveStatesAtShutdown
  }

  /// Appends `events` (in order) and returns once they are durable.
  public func append(_ events: [ValidatedEvent]) async throws -> AppendOutcome {
    guard case .appended(let outcome) = try await submit(.events(events)) else { fatalError("writer reply mismatch") }
    return outcome
  }

  /// The committed state of `user` (an empty state when the user has no events): from the cache, else loaded
  /// (the stored state plus the user's later events) — or rebuilt from the log when missing or computed by another
  /// model — by the writer, which caches it.
  public func state(of user: String) async throws -> UserState {
    if let state = cache.state(of: user) { return state }
    guard case .state(let state) = try await submit(.load(user)) else { fatalError("writer reply mismatch") }
    return state
  }

  private func submit(_ work: WriteJob.Work) async throws -> WriteJob.Reply {
    try await withCheckedThrowingContinuation { continuation in
      do {
        try queue.submit(WriteJob(work: work, reply: continuation))
      } catch {
        continuation.resume(throwing: error)
      }
    }
  }

  public func run() async throws {
    await withTaskCancellationOrGracefulShutdownHandler {
      while let jobs = await queue.next() { await commit(jobs) }
    } onCancelOrGracefulShutdown: { [queue] in
      queue.close()
    }
    if saveStatesAtShutdown { try saveUnsavedStates() }
    try store.checkpointAndClose()
  }

  /// Stores, in one transaction, every cached state whose newest events are not in the stored state yet (after
  /// the queue is drained, so a clean restart replays nothing).
  /// Synchronous: the task is being cancelled, and GRDB's async write would refuse to start.
  private func saveUnsavedStates() throws {
    let pending = cache.unsavedEntries()
    guard !pending.isEmpty else { return }
    try store.pool.write { [store, model] db in
      for (user, entry) in pending {
        try store.saveState(
          entry.state, of: user, fingerprint: model.fingerprint, lastSequence: entry.lastSequence, in: db)
      }
    }
    metrics.statesSaved.increment(by: Int64(pending.count))
  }

  /// Runs one batch of jobs in one transaction, then answers each job.
  private func commit(_ jobs: [WriteJob]) async {
    let started = ContinuousClock.now
    let works = jobs.map(\.work)
    let receivedAt = Date().timeIntervalSince1970
    do {
      let result = try await store.pool.write { [self] db in
        try apply(works, receivedAt: receivedAt, in: db)
      }
      cache.store(result.states)
      popularity.add(result.appliedItems)
      metrics.eventsApplied.increment(by: Int64(result.appliedItems.count))
      metrics.eventsDuplicate.increment(by: Int64(result.duplicates))
      metrics.transactionEvents.record(Double(result.appliedItems.count + result.duplicates))
      metrics.stateRebuilds.increment(by: Int64(result.rebuilds))
      metrics.eventsReplayedOnLoad.increment(by: Int64(result.replayedOnLoad))
      metrics.statesSaved.increment(by: Int64(result.saved))
      metrics.transactionDuration.record(ContinuousClock.now - started)
      for (job, reply) in zip(jobs, result.replies) { job.reply.resume(returning: reply) }
    } catch {
      let failure = StoreError.unavailable("the state store could not commit (nothing was applied): \(error)")
      for job in jobs { job.reply.resume(throwing: failure) }
    }
  }

  private struct BatchResult: Sendable {
    var replies: [WriteJob.Reply] = []
    var states: [String: CachedState] = [:]
    var appliedItems: [Int32] = []
    var duplicates = 0
    var rebuilds = 0
    var replayedOnLoad = 0
    var saved = 0
  }

  /// Inside the transaction: append events in order, advancing each user's state, then store the states that
  /// reached `stateSaveInterval` unsaved events (and rebuilt ones).
  private func apply(_ works: [WriteJob.Work], receivedAt: Double, in db: Database) throws -> BatchResult {
    var result = BatchResult()
    var working: [String: CachedState] = [:]
    var rebuilt: Set<String> = []
    func current(_ user: String) throws -> CachedState {
      if let entry = working[user] ?? cache.entry(of: user) { return entry }
      if let (stored, last) = try store.storedState(of: user, fingerprint: model.fingerprint, in: db),
        model.accepts(stored)
      {
        // The events logged after the stored state (not stored yet when the server stopped, or evicted).
        let later = try store.events(of: user, after: last, in: db)
        result.replayedOnLoad += later.count
        return CachedState(
          state: model.replay(logged: later, from: stored), lastSequence: later.last?.sequence ?? last,
          unsavedEvents: later.count)
      }
      // Missing, or computed by another model: replay the log (items this model does not know are skipped).
      let events = try store.events(of: user, in: db)
      guard let last = events.last else {
        return CachedState(state: model.initialState(), lastSequence: 0, unsavedEvents: 0)
      }
      result.rebuilds += 1
      rebuilt.insert(user)
      return CachedState(state: model.replay(logged: events), lastSequence: last.sequence, unsavedEvents: events.count)
    }
    for work in works {
      switch work {
      case .events(let events):
        var outcome = AppendOutcome(applied: 0, duplicates: 0)
        for event in events {
          var entry = try current(event.user)  // before the append: a rebuild must not see this event
          guard
            let sequence = try store.append(
              user: event.user, item: event.item, timestamp: event.timestamp, eventId: event.eventId,
              receivedAt: receivedAt, in: db)
          else {
            outcome.duplicates += 1
            working[event.user] = entry
            continue
          }
          model.advance(&entry.state, item: event.itemId)
          entry.lastSequence = sequence
          entry.unsavedEvents += 1
          working[event.user] = entry
          outcome.applied += 1
          result.appliedItems.append(event.itemId)
        }
        result.duplicates += outcome.duplicates
        result.replies.append(.appended(outcome))
      case .load(let user):
        let entry = try current(user)
        working[user] = entry
        result.replies.append(.state(entry.state))
      }
    }
    for (user, var entry) in working {
      if entry.unsavedEvents >= stateSaveInterval || (rebuilt.contains(user) && entry.unsavedEvents > 0) {
        try store.saveState(
          entry.state, of: user, fingerprint: model.fingerprint, lastSequence: entry.lastSequence, in: db)
        entry.unsavedEvents = 0
        result.saved += 1
      }
      result.states[user] = entry
    }
    return result
  }
}

/// One unit of work for the writer and where its answer goes.
struct WriteJob: Sendable {
  enum Work: Sendable {
    case events([ValidatedEvent])
    case load(String)

    var eventCount: Int {
      if case .events(let events) = self { return events.count }
      return 1
    }
  }
  enum Reply: Sendable {
    case appended(AppendOutcome)
    case state(UserState)
  }
  let work: Work
  let reply: CheckedContinuation<Reply, any Error>
}

/// The writer's FIFO: requests add jobs; the writer takes every queued job (up to a batch size) at once.
final class WriteQueue: @unchecked Sendable {
  private let lock = NSLock()
  private var jobs: [WriteJob] = []
  private var waiter: CheckedContinuation<[WriteJob]?, Never>?
  private var closed = false
  let maxEventsPerBatch: Int

  init(maxEventsPerBatch: Int) {
    precondition(maxEventsPerBatch > 0, "a transaction must take at least one event")
    self.maxEventsPerBatch = maxEventsPerBatch
  }

  func submit(_ job: WriteJob) throws {
    lock.lock()
    guard !closed else {
      lock.unlock()
      throw StoreError.shuttingDown
    }
    jobs.append(job)
    let wake = waiter
    waiter = nil
    let batch = wake == nil ? nil : takeBatch()
    lock.unlock()
    wake?.resume(returning: batch)
  }

  /// The next batch, waiting for one; nil once closed and drained.
  func next() async -> [WriteJob]? {
    await withCheckedContinuation { continuation in
      lock.lock()
      if !jobs.isEmpty {
        let batch = takeBatch()
        lock.unlock()
        continuation.resume(returning: batch)
      } else if closed {
        lock.unlock()
        continuation.resume(returning: nil)
      } else {
        waiter = continuation
        lock.unlock()
      }
    }
  }

  /// Jobs waiting for the writer.
  var count: Int {
    lock.lock()
    defer { lock.unlock() }
    return jobs.count
  }

  /// Refuses new jobs; queued ones are still handed out.
  func close() {
    lock.lock()
    closed = true
    let wake = waiter
    waiter = nil
    lock.unlock()
    wake?.resume(returning: nil)
  }

  /// Called with the lock held.
  private func takeBatch() -> [WriteJob] {
    var events = 0
    var taken = 0
    while taken < jobs.count && (taken == 0 || events + jobs[taken].work.eventCount <= maxEventsPerBatch) {
      events += jobs[taken].work.eventCount
      taken += 1
    }
    let batch = Array(jobs.prefix(taken))
    jobs.removeFirst(taken)
    return batch
  }
}
