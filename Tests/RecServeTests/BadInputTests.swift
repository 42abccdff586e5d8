import Foundation
import Testing

@testable import RecServe

/// Every bad input the API lists gets a 4xx with a JSON error saying what was wrong; nothing is applied and the
/// server keeps serving.
@Suite struct BadInputTests {
  struct Case: Sendable, CustomStringConvertible {
    var method: String
    var path: String
    var body: String?
    var status: Int
    /// A piece of the error message.
    var says: String
    var description: String { "\(method) \(path) \(body?.prefix(60) ?? "") → \(status)" }
  }

  static let cases: [Case] = [
    // Malformed JSON.
    Case(method: "POST", path: "/v1/events", body: "{\"user\": \"a\", \"item\": ", status: 400, says: "malformed JSON"),
    Case(method: "POST", path: "/v1/events", body: "not json", status: 400, says: "malformed JSON"),
    Case(method: "POST", path: "/v1/events", body: "", status: 400, says: "the body is empty"),
    Case(method: "POST", path: "/v1/recommendations", body: "[1, 2", status: 400, says: "malformed JSON"),
    // Wrong types.
    Case(
      method: "POST", path: "/v1/events", body: #"{"user": 5, "item": "item-1"}"#, status: 400,
      says: "user: expected a string"),
    Case(
      method: "POST", path: "/v1/events", body: #"{"user": "a", "item": ["item-1"]}"#, status: 400,
      says: "item: expected a string"),
    Case(
      method: "POST", path: "/v1/events", body: #"{"user": "a", "item": "item-1", "timestamp": "yesterday"}"#,
      status: 400, says: "timestamp: expected a number"),
    Case(
      method: "POST", path: "/v1/events", body: #"{"user": "a", "item": "item-1", "event_id": 17}"#, status: 400,
      says: "event_id: expected a string"),
    Case(
      method: "POST", path: "/v1/events", body: #"[{"user": "a", "item": "item-1"}, {"user": "b", "item": null}]"#,
      status: 400, says: "[1].item: must be a string, not null"),
    Case(
      method: "POST", path: "/v1/recommendations", body: #"{"items": "item-1"}"#, status: 400,
      says: "items: expected an array"),
    Case(
      method: "POST", path: "/v1/recommendations", body: #"{"items": [], "k": "ten"}"#, status: 400,
      says: "k: expected an integer"),
    // Missing fields, unknown fields, empty ids.
    Case(
      method: "POST", path: "/v1/events", body: #"{"item": "item-1"}"#, status: 400,
      says: "user: required field is missing"),
    Case(
      method: "POST", path: "/v1/events", body: #"[{"user": "a", "item": "item-1"}, {"user": "b"}]"#, status: 400,
      says: "[1].item: required field is missing"),
    Case(
      method: "POST", path: "/v1/events", body: #"{"user": "a", "itme": "item-1"}"#, status: 400,
      says: "itme: unknown field"),
    Case(
      method: "POST", path: "/v1/events", body: #"{"user": "", "item": "item-1"}"#, status: 400,
      says: "user: must not be empty"),
    Case(
      method: "POST", path: "/v1/recommendations", body: #"{"k": 3}"#, status: 400,
      says: "items: required field is missing"),
    Case(method: "POST", path: "/v1/events", body: "[]", status: 400, says: "the batch is empty"),
    // Unknown item ids.
    Case(
      method: "POST", path: "/v1/events", body: #"{"user": "a", "item": "item-999"}"#, status: 400,
      says: "unknown item id \"item-999\""),
    Case(
      method: "POST", path: "/v1/events", body: #"[{"user": "a", "item": "item-1"}, {"user": "a", "item": "nope"}]"#,
      status: 400, says: "[1].item: unknown item id"),
    Case(
      method: "POST", path: "/v1/recommendations", body: #"{"items": ["item-1", "x"]}"#, status: 400,
      says: "items[1]: unknown item id \"x\""),
    // k out of range, bad query parameters.
    Case(
      method: "GET", path: "/v1/users/a/recommendations?k=0", body: nil, status: 400,
      says: "k: must be between 1 and 50"),
    Case(
      method: "GET", path: "/v1/users/a/recommendations?k=51", body: nil, status: 400,
      says: "k: must be between 1 and 50"),
    Case(
      method: "GET", path: "/v1/users/a/recommendations?k=ten", body: nil, status: 400, says: "k: expected an integer"),
    Case(
      method: "POST", path: "/v1/recommendations", body: #"{"items": [], "k": -1}"#, status: 400,
      says: "k: must be between"),
    Case(
      method: "GET", path: "/v1/users/a/recommendations?exclude_seen=maybe", body: nil, status: 400,
      says: "exclude_seen: expected true or false"),
    Case(
      method: "GET", path: "/v1/users/a/recommendations?kk=3", body: nil, status: 400,
      says: "unknown query parameter \"kk\""),
    // Oversized bodies and batches (limits set small below).
    Case(
      method: "POST", path: "/v1/events",
      body: "[" + String(repeating: #"{"user": "a", "item": "item-1"},"#, count: 200) + "]",
      status: 413, says: "the limit is 4096"),
    Case(
      method: "POST", path: "/v1/events",
      body: "[" + Array(repeating: #"{"user":"a","item":"item-1"}"#, count: 21).joined(separator: ",") + "]",
      status: 413, says: "at most 20 per request"),
    // Unknown routes and methods.
    Case(method: "GET", path: "/v1/nothing", body: nil, status: 404, says: "no route GET /v1/nothing"),
    Case(method: "DELETE", path: "/v1/events", body: nil, status: 404, says: "no route DELETE /v1/events"),
    Case(method: "GET", path: "/v1/events", body: nil, status: 404, says: "routes: POST /v1/events"),
  ]

  @Test func everyBadInputIsA4xxJSONErrorAndNothingIsApplied() async throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    var options = RecommendationEngine.Options()
    options.limits.maxBodyBytes = 4096
    options.limits.maxEventsPerRequest = 20
    options.limits.maxK = 50
    let server = try await RunningServer.start(statePath: path, options: options)
    for bad in Self.cases {
      let response = try await server.request(bad.method, bad.path, body: bad.body)
      #expect(response.status == bad.status, "\(bad): \(response.text)")
      let error = try? response.decoded(ErrorResponse.self)
      #expect(error?.error.status == bad.status, "\(bad): \(response.text)")
      #expect(error?.error.message.contains(bad.says) == true, "\(bad): \(response.text)")
    }
    #expect(try server.engine.store.eventCount() == 0)
    // Still serving: a good event is applied.
    let good = try await server.request("POST", "/v1/events", body: #"{"user": "a", "item": "item-1"}"#)
    #expect(good.status == 200 && good.text == "{\"applied\":1,\"duplicates\":0}")
    #expect(try server.engine.store.eventCount() == 1)
    try await server.stop()
  }

  @Test func aBodyLargerThanItsDeclaredLimitIsRefusedWhileStreaming() async throws {
    let path = temporaryStatePath()
    defer { removeStore(path) }
    var options = RecommendationEngine.Options()
    options.limits.maxBodyBytes = 1024
    let server = try await RunningServer.start(statePath: path, options: options)
    // Chunked transfer: no Content-Length to check up front, the limit applies while reading.
    let chunk = String(repeating: " ", count: 900)
    let raw =
      "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      + "Transfer-Encoding: chunked\r\n\r\n"
      + "\(String(chunk.utf8.count, radix: 16))\r\n\(chunk)\r\n\(String(chunk.utf8.count, radix: 16))\r\n\(chunk)\r\n0\r\n\r\n"
    let response = try await server.send(raw: Array(raw.utf8))
    #expect(response.status == 413, "\(response.text)")
    #expect((try? response.decoded(ErrorResponse.self))?.error.message.contains("limit of 1024 bytes") == true)
    #expect(try await server.request("GET", "/healthz").status == 200)
    try await server.stop()
  }
}
