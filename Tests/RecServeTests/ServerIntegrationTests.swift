import Foundation
import RecEval
import RecModels
import RecTrain
import Testing

@testable import RecServe

/// The HTTP API end to end: a real server on a loopback port, real HTTP requests.
@Suite struct ServerIntegrationTests {
  /// What `seqrec recommend` prints for the same history: `Recommender.topK` on the checkpoint's model.
  static func expected(history: [String], k: Int, excludeSeen: Bool) throws -> [RecommendationResponse.Entry] {
    let dir = try TinyCheckpoint.directory()
    let meta = try Checkpoint.read(from: dir)
    let model = try meta.loadModel(from: dir)
    let ids = history.map { meta.itemId(raw: $0)! }
    return Recommender.topK(model: model, history: ids, k: k, excludeSeen: excludeSeen).map {
      RecommendationResponse.Entry(item: meta.rawItemIds[Int($0.item)], score: $0.score)
    }
  }

  static func event(_ user: String, _ item: String, id: String? = nil) -> String {
    "{\"user\":\"\(user)\",\"item\":\"\(item)\"" + (id.map { ",\"event_id\":\"\($0)\"" } ?? "") + "}"
  }

  @Test func recommendationsAfterEventsEqualRecommenderTopKAndSurviveARestart() async throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    let alice = ["item-3", "item-4", "item-5", "item-9", "item-4"]
    let bob = ["item-20", "item-21"]
    var server = try await RunningServer.start(statePath: path)
    // Alice's first two events one by one, the rest interleaved with Bob's in one batch (array order = order).
    for item in alice.prefix(2) {
      let response = try await server.request("POST", "/v1/events", body: Self.event("alice", item))
      #expect(response.status == 200, "\(response.text)")
      #expect(response.text == "{\"applied\":1,\"duplicates\":0}")
    }
    let batch =
      "["
      + [
        Self.event("alice", alice[2]), Self.event("bob", bob[0]), Self.event("alice", alice[3]),
        Self.event("bob", bob[1]), Self.event("alice", alice[4]),
      ].joined(separator: ",") + "]"
    let appended = try await server.request("POST", "/v1/events", body: batch)
    #expect(appended.text == "{\"applied\":5,\"duplicates\":0}")

    var answers: [String: RecommendationResponse] = [:]
    for (user, history) in [("alice", alice), ("bob", bob)] {
      for excludeSeen in [false, true] {
        let path = "/v1/users/\(user)/recommendations?k=7&exclude_seen=\(excludeSeen)"
        let answer = try await server.request("GET", path).decoded(RecommendationResponse.self)
        #expect(answer.source == "model")
        #expect(answer.user == user)
        #expect(answer.history_length == history.count)
        #expect(answer.items == (try Self.expected(history: history, k: 7, excludeSeen: excludeSeen)), "\(path)")
        if excludeSeen { #expect(answer.items.allSatisfy { !history.contains($0.item) }) }
        answers[path] = answer
      }
    }
    // An ad-hoc history gives the same list as the stored user with that history; nothing is stored.
    let adHoc = try await server.request(
      "POST", "/v1/recommendations", body: "{\"items\": [\"item-20\", \"item-21\"], \"k\": 7}")
    #expect(
      try adHoc.decoded(RecommendationResponse.self).items
        == answers["/v1/users/bob/recommendations?k=7&exclude_seen=false"]?.items)
    #expect(try server.engine.store.eventCount() == 7)

    // Restart on the same store: the same answers (states from the store, not recomputed).
    try await server.stop()
    server = try await RunningServer.start(statePath: path)
    for (path, answer) in answers {
      #expect(try await server.request("GET", path).decoded(RecommendationResponse.self) == answer, "\(path)")
    }
    // And the stream continues where it stopped.
    _ = try await server.request("POST", "/v1/events", body: Self.event("bob", "item-22"))
    let after = try await server.request("GET", "/v1/users/bob/recommendations?k=4").decoded(
      RecommendationResponse.self)
    #expect(after.items == (try Self.expected(history: bob + ["item-22"], k: 4, excludeSeen: false)))
    try await server.stop()
  }

  @Test func retriedEventIdsAreAcknowledgedButAppliedOnce() async throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    let server = try await RunningServer.start(statePath: path)
    let first = try await server.request("POST", "/v1/events", body: Self.event("carol", "item-1", id: "e-1"))
    #expect(first.text == "{\"applied\":1,\"duplicates\":0}")
    let retry = try await server.request("POST", "/v1/events", body: Self.event("carol", "item-1", id: "e-1"))
    #expect(retry.status == 200)
    #expect(retry.text == "{\"applied\":0,\"duplicates\":1}")
    // Within one batch too.
    let batch = "[\(Self.event("carol", "item-2", id: "e-2")),\(Self.event("carol", "item-2", id: "e-2"))]"
    #expect(try await server.request("POST", "/v1/events", body: batch).text == "{\"applied\":1,\"duplicates\":1}")
    let answer = try await server.request("GET", "/v1/users/carol/recommendations?k=3")
      .decoded(RecommendationResponse.self)
    #expect(answer.history_length == 2)
    #expect(answer.items == (try Self.expected(history: ["item-1", "item-2"], k: 3, excludeSeen: false)))
    try await server.stop()
  }

  @Test func usersWithoutHistoryGetTheMostPopularItemsMarkedAsSuch() async throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    let server = try await RunningServer.start(statePath: path)
    let events = ["item-7", "item-7", "item-7", "item-2", "item-2", "item-5"].enumerated().map {
      Self.event("pop-\($0.offset)", $0.element)
    }
    _ = try await server.request("POST", "/v1/events", body: "[" + events.joined(separator: ",") + "]")
    let answer = try await server.request("GET", "/v1/users/nobody/recommendations?k=5")
      .decoded(RecommendationResponse.self)
    #expect(answer.source == "most_popular")
    #expect(answer.history_length == 0)
    #expect(answer.items.map(\.item) == ["item-7", "item-2", "item-5"])
    #expect(answer.items.map(\.score) == [3, 2, 1])
    let empty = try await server.request("POST", "/v1/recommendations", body: "{\"items\": [], \"k\": 2}")
      .decoded(RecommendationResponse.self)
    #expect(empty.source == "most_popular" && empty.items.map(\.item) == ["item-7", "item-2"])
    try await server.stop()
  }

  @Test func healthAndPrometheusMetrics() async throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    let server = try await RunningServer.start(statePath: path)
    let health = try await server.request("GET", "/healthz")
    #expect(
      health.status == 200 && health.text.contains("\"status\":\"ok\"") && health.text.contains("\"streaming\":true"))
    _ = try await server.request("POST", "/v1/events", body: Self.event("dave", "item-1"))
    _ = try await server.request("GET", "/v1/users/dave/recommendations")
    _ = try await server.request("GET", "/nope")
    let metrics = try await server.request("GET", "/metrics")
    #expect(metrics.status == 200)
    for line in [
      "seqrec_events_applied_total 1",
      #"seqrec_http_requests_total{route="/v1/events",method="POST",status="200"} 1"#,
      #"seqrec_http_requests_total{route="/v1/users/{user}/recommendations",method="GET",status="200"} 1"#,
      #"seqrec_http_requests_total{route="unmatched",method="GET",status="404"} 1"#,
      #"seqrec_recommendations_total{source="model"} 1"#,
      "seqrec_http_request_duration_seconds_bucket", "seqrec_commit_duration_seconds_count",
    ] {
      #expect(metrics.text.contains(line), "missing: \(line)")
    }
    try await server.stop()
  }
}
