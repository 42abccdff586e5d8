import Foundation
import Hummingbird

/// The HTTP API on Hummingbird 2:
///
///     POST /v1/events                              one event {"user","item","timestamp"?,"event_id"?} or an array
///     GET  /v1/users/{user}/recommendations?k=10&exclude_seen=false
///     POST /v1/recommendations                     {"items": [raw ids], "k": 10, "exclude_seen": false}
///     GET  /healthz
///     GET  /metrics                                Prometheus text format
///
/// Every error is JSON, `{"error": {"status": 400, "message": "…"}}`, with a 4xx for anything the client sent wrong.
enum HTTPRoutes {
  static func router(engine: RecommendationEngine) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: MetricsMiddleware(metrics: engine.metrics))
    router.add(middleware: JSONErrorMiddleware())

    router.post("/v1/events") { request, _ in
      let body = try await collectBody(request, limit: engine.limits.maxBodyBytes)
      let outcome = try await engine.appendEvents(json: body)
      return json(ResponseJSON.appended(outcome))
    }

    router.get("/v1/users/:user/recommendations") { request, context in
      let raw = context.parameters.get("user") ?? ""
      let user = raw.removingPercentEncoding ?? raw
      let parameters = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
      let query = try RecommendationQuery(parameters, limits: engine.limits)
      let result = try await engine.recommendations(user: user, k: query.k, excludeSeen: query.excludeSeen)
      return json(ResponseJSON.recommendations(result, user: user, model: engine.model))
    }

    router.post("/v1/recommendations") { request, _ in
      let body = try await collectBody(request, limit: engine.limits.maxBodyBytes)
      let result = try engine.recommendations(json: body)
      return json(ResponseJSON.recommendations(result, user: nil, model: engine.model))
    }

    router.get("/healthz") { _, _ in
      json(ResponseJSON.health(model: engine.model, cachedUsers: engine.writer.cache.count))
    }

    router.get("/metrics") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(string: engine.metrics.text())))
    }
    return router
  }

  static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
  }

  /// The request body, refusing (413) a declared or actual size over `limit` before reading it all.
  static func collectBody(_ request: Request, limit: Int) async throws -> Data {
    if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
      throw APIError(413, "the body has \(declared) bytes; the limit is \(limit)")
    }
    do {
      let buffer = try await request.body.collect(upTo: limit)
      return Data(buffer.readableBytesView)
    } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
      throw APIError(413, "the body exceeds the limit of \(limit) bytes")
    }
  }
}

/// `k` and `exclude_seen` of GET /v1/users/{user}/recommendations.
struct RecommendationQuery {
  var k = 10
  var excludeSeen = false

  init(_ parameters: [(String, String)], limits: RequestLimits) throws {
    for (name, value) in parameters {
      switch name {
      case "k":
        guard let parsed = Int(value) else {
          throw APIError.badRequest("k: expected an integer between 1 and \(limits.maxK) (got \"\(value)\")")
        }
        try RequestDecoding.checkK(parsed, limits: limits)
        k = parsed
      case "exclude_seen":
        switch value.lowercased() {
        case "true", "1": excludeSeen = true
        case "false", "0": excludeSeen = false
        default: throw APIError.badRequest("exclude_seen: expected true or false (got \"\(value)\")")
        }
      default:
        throw APIError.badRequest("unknown query parameter \"\(name)\" (expected k, exclude_seen)")
      }
    }
  }
}

/// Turns every error into a JSON body with its status: the API's own errors, Hummingbird's (404 for an unknown
/// route, 413), and anything else as 503 (the state store) or 500.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    do {
      return try await next(request, context)
    } catch let error as APIError {
      return HTTPRoutes.json(
        ResponseJSON.error(status: error.status, message: error.message), status: .init(code: error.status))
    } catch let error as StoreError {
      return HTTPRoutes.json(ResponseJSON.error(status: 503, message: error.description), status: .serviceUnavailable)
    } catch let error as any HTTPResponseError {
      let message: String
      switch error.status {
      case .notFound:
        message =
          "no route \(request.method) \(request.uri.path); routes: POST /v1/events, "
          + "GET /v1/users/{user}/recommendations, POST /v1/recommendations, GET /healthz, GET /metrics"
      case .contentTooLarge: message = "the request body is too large"
      default: message = error.status.reasonPhrase
      }
      return HTTPRoutes.json(
        ResponseJSON.error(status: error.status.code, message: message), status: error.status)
    } catch {
      context.logger.error("unexpected error: \(error)")
      return HTTPRoutes.json(
        ResponseJSON.error(status: 500, message: "internal error: \(error)"), status: .internalServerError)
    }
  }
}

/// Counts requests and records latencies by route template, method and status.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
  let metrics: ServerMetrics

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    let started = ContinuousClock.now
    let response = try await next(request, context)
    let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
    metrics.recordRequest(
      route: route, method: request.method.rawValue, status: response.status.code,
      duration: ContinuousClock.now - started)
    return response
  }
}
