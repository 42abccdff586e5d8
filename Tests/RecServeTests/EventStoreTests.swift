import Foundation
import GRDB
import RecData
import RecEval
import RecModels
import RecTrain
import Testing

@testable import RecServe

/// The state store without HTTP: durability settings, group commit, per-user order, idempotency, rebuilds.
@Suite struct EventStoreTests {
  static func servedModel(fingerprint: String? = nil) throws -> ServedModel {
    let dir = try TinyCheckpoint.directory()
    let loaded = try ServedModel(directory: dir)
    guard let fingerprint else { return loaded }
    let meta = try Checkpoint.read(from: dir)
    return ServedModel(checkpoint: meta, model: try meta.loadModel(from: dir), fingerprint: fingerprint)
  }

  static func event(_ user: String, _ item: Int, id: String? = nil) -> ValidatedEvent {
    ValidatedEvent(user: user, item: "item-\(item)", itemId: Int32(item), eventId: id)
  }

  /// Runs the writer until `body` returns, then shuts it down (it drains and closes the store).
  static func withWriter<T>(
    _ engine: RecommendationEngine, _ body: () async throws -> T
  ) async throws -> T {
    let writer = Task { try await engine.writer.run() }
    do {
      let result = try await body()
      writer.cancel()
      try await writer.value
      return result
    } catch {
      writer.cancel()
      _ = try? await writer.value
      throw error
    }
  }

  @Test func blobsRoundTripAndForeignBlobsAreRejected() {
    let stream = UserState.stream(StreamState(values: [1.5, -2, .pi, 0], itemCount: 9))
    let window = UserState.window(items: [4, 2, 7], consumed: 12)
    #expect(UserStateBlob.decode(UserStateBlob.encode(stream)) == stream)
    #expect(UserStateBlob.decode(UserStateBlob.encode(window)) == window)
    let blob = UserStateBlob.encode(stream)
    #expect(UserStateBlob.decode(blob.dropLast()) == nil)
    #expect(UserStateBlob.decode(Data("SQS2".utf8) + blob.dropFirst(4)) == nil)
    #expect(UserStateBlob.decode(Data()) == nil)
  }

  @Test func storeIsWALWithFullSync() throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    let store = try EventStore(path: path)
    let pragmas = try store.pragmas()
    #expect(pragmas.journalMode == "wal")
    #expect(pragmas.synchronous == 2)  // FULL
    try store.close()
  }

  @Test func concurrentRequestsShareTransactionsAndEachUserKeepsArrivalOrder() async throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    let model = try Self.servedModel()
    var options = RecommendationEngine.Options()
    options.maxEventsPerTransaction = 64
    let engine = try RecommendationEngine(model: model, statePath: path, options: options)
    // 10 users × 20 events, each user's events sent one after another by its own task; queued before the writer
    // starts, so the group commit is deterministic: 200 single-event requests in ⌈200 / 64⌉ = 4 transactions.
    let histories = (0..<10).map { u in (0..<20).map { 1 + (u * 7 + $0 * 3) % TinyCheckpoint.items } }
    let outcomes = try await withThrowingTaskGroup(of: Int.self) { group in
      for (u, history) in histories.enumerated() {
        group.addTask {
          var applied = 0
          for (i, item) in history.enumerated() {
            applied += try await engine.writer.append([Self.event("user\(u)", item, id: "u\(u)-\(i)")]).applied
          }
          return applied
        }
      }
      // Sequential per user: only the first event of each user is queued before the writer runs.
      while engine.writer.queue.count < histories.count { try await Task.sleep(for: .milliseconds(1)) }
      return try await Self.withWriter(engine) {
        try await group.reduce(0, +)
      }
    }
    #expect(outcomes == 200)
    let reopened = try RecommendationEngine(model: model, statePath: path)
    let report = try StateVerifier.verify(
      store: reopened.store, model: model,
      acknowledgedEventIds: (0..<10).flatMap { u in (0..<20).map { "u\(u)-\($0)" } })
    #expect(report.passed, "\(report.summary)")
    #expect(report.users == 10 && report.events == 200 && report.lost == 0)
    // Each user's log is in the order the user sent its events.
    let store = reopened.store
    let logged = try await store.pool.read { db in
      try (0..<10).map { u in try store.events(of: "user\(u)", in: db).map(\.item) }
    }
    #expect(logged == histories.map { $0.map { "item-\($0)" } })
    try reopened.store.close()
  }

  @Test func groupCommitTakesEveryQueuedRequestIntoOneTransaction() async throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    let model = try Self.servedModel()
    var options = RecommendationEngine.Options()
    options.maxEventsPerTransaction = 64
    let engine = try RecommendationEngine(model: model, statePath: path, options: options)
    let applied = try await withThrowingTaskGroup(of: Int.self) { group in
      for i in 0..<200 {
        group.addTask { try await engine.writer.append([Self.event("u\(i % 13)", 1 + i % 29)]).applied }
      }
      while engine.writer.queue.count < 200 { try await Task.sleep(for: .milliseconds(1)) }
      return try await Self.withWriter(engine) { try await group.reduce(0, +) }
    }
    #expect(applied == 200)
    let metrics = engine.metrics.text()
    #expect(metrics.contains("seqrec_commit_batch_events_count 4"), "\(metrics)")
    #expect(metrics.contains("seqrec_events_applied_total 200"))
  }

  @Test func statesAreRebuiltFromTheLogForAnotherModelOrWhenMissing() async throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    let first = try Self.servedModel(fingerprint: "model-A")
    let history = [3, 4, 5, 6, 9]
    let engine = try RecommendationEngine(model: first, statePath: path)
    try await Self.withWriter(engine) {
      for item in history { _ = try await engine.writer.append([Self.event("erin", item)]) }
    }
    // The same weights under another fingerprint: the stored state is not trusted, it is replayed from the log.
    let second = try Self.servedModel(fingerprint: "model-B")
    let expected = second.replay(history.map(Int32.init))
    let reopened = try RecommendationEngine(model: second, statePath: path)
    let rebuilt = try await Self.withWriter(reopened) { try await reopened.writer.state(of: "erin") }
    #expect(rebuilt == expected)
    #expect(reopened.metrics.text().contains("seqrec_state_rebuilds_total 1"))
    let verified = try StateVerifier.verify(store: try EventStore(path: path), model: second)
    #expect(verified.passed, "\(verified.summary)")  // the rebuilt state was stored with the new tag

    // A missing state is rebuilt too, then events continue from it.
    let store = try EventStore(path: path)
    _ = try await store.pool.write { try $0.execute(sql: "DELETE FROM user_state") }
    try store.close()
    let third = try RecommendationEngine(model: second, statePath: path)
    let continued = try await Self.withWriter(third) {
      _ = try await third.writer.append([Self.event("erin", 10)])
      return try await third.writer.state(of: "erin")
    }
    #expect(continued == second.replay((history + [10]).map(Int32.init)))
    #expect(third.metrics.text().contains("seqrec_state_rebuilds_total 1"))
  }

  @Test func statesAreStoredEveryFewEventsAndLaterEventsAreReplayedOnLoad() async throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    let model = try Self.servedModel()
    var options = RecommendationEngine.Options()
    options.stateSaveInterval = 4
    options.saveStatesAtShutdown = false  // what a crash leaves: the newest events only in the log
    let history = [3, 4, 5, 6, 9, 2, 7, 8, 1, 11]
    let engine = try RecommendationEngine(model: model, statePath: path, options: options)
    try await Self.withWriter(engine) {
      for (i, item) in history.enumerated() {
        _ = try await engine.writer.append([Self.event("erin", item, id: "e\(i)")])
      }
    }
    #expect(engine.metrics.text().contains("seqrec_states_saved_total 2"))
    let store = try EventStore(path: path)
    let stored = try await store.pool.read { db in
      try store.storedState(of: "erin", fingerprint: model.fingerprint, in: db)
    }
    // Stored after the 4th and the 8th event.
    #expect(stored?.0 == model.replay(history.prefix(8).map(Int32.init)))
    let report = try StateVerifier.verify(store: store, model: model)
    #expect(report.passed && report.storedStates == 1 && report.eventsAfterStoredStates == 2, "\(report.summary)")
    try store.close()

    // A restart serves the stored state plus the two later events: the replay of the whole log.
    let reopened = try RecommendationEngine(model: model, statePath: path)
    let loaded = try await Self.withWriter(reopened) { try await reopened.writer.state(of: "erin") }
    #expect(loaded == model.replay(history.map(Int32.init)))
    let metrics = reopened.metrics.text()
    #expect(metrics.contains("seqrec_events_replayed_on_load_total 2"), "\(metrics)")
    #expect(!metrics.contains("seqrec_state_rebuilds_total 1"))
    // Its graceful shutdown stored the state: nothing is left to replay.
    let final = try StateVerifier.verify(store: try EventStore(path: path), model: model)
    #expect(final.passed && final.eventsAfterStoredStates == 0, "\(final.summary)")
  }

  @Test func modelsWithoutAStreamingFormRecomputeFromTheLastLItems() async throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    let items = 25
    let data = SequenceDataset(
      name: "window", sequences: [[1, 2, 3]], rawUserIds: ["u"],
      rawItemIds: ["[PAD]"] + (1...items).map { "item-\($0)" })
    let spec = try ModelSpec.resolve(
      model: "sasrec", preset: nil, overrides: ["hiddenSize=8", "innerSize=16", "maxLength=4", "layerCount=1"])
    let sasrec = spec.make(itemCount: data.itemCount, seed: 3)
    let meta = Checkpoint(model: spec, seed: 3, training: nil, dataset: data, source: "memory")
    let model = ServedModel(checkpoint: meta, model: sasrec, fingerprint: "sasrec-test")
    #expect(!model.isStreaming)
    let engine = try RecommendationEngine(model: model, statePath: path)
    let history = [5, 9, 2, 17, 3, 3, 21]
    let answer = try await Self.withWriter(engine) {
      _ = try await engine.writer.append(history.map { Self.event("w", $0) })
      return try await engine.recommendations(user: "w", k: 6, excludeSeen: true)
    }
    #expect(answer.source == .model && answer.historyLength == history.count)
    #expect(
      answer.entries == Recommender.topK(model: sasrec, history: history.map(Int32.init), k: 6, excludeSeen: true))
    let report = try StateVerifier.verify(store: try EventStore(path: path), model: model)
    #expect(report.passed, "\(report.summary)")
  }
}
