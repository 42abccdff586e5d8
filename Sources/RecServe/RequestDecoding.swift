import Foundation

/// A client error: the HTTP status and a message that says what was wrong and where.
public struct APIError: Error, Equatable, CustomStringConvertible {
  public var status: Int
  public var message: String

  public init(_ status: Int, _ message: String) {
    self.status = status
    self.message = message
  }

  public static func badRequest(_ message: String) -> APIError { APIError(400, message) }
  public var description: String { "\(status): \(message)" }
}

/// Limits on what one request may carry.
public struct RequestLimits: Sendable {
  /// Largest accepted request body (413 beyond).
  public var maxBodyBytes = 1 << 20
  /// Most events in one POST /v1/events (413 beyond).
  public var maxEventsPerRequest = 10_000
  /// Largest k.
  public var maxK = 1_000
  /// Longest user, item or event id, in UTF-8 bytes.
  public var maxIdBytes = 256

  public init() {}
}

/// One event as a client sends it.
struct EventInput: Decodable {
  var user: String
  var item: String
  var timestamp: Double?
  var eventId: String?

  static let fields = ["user", "item", "timestamp", "event_id"]

  init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: FieldKey.self)
    try FieldKey.rejectUnknown(c, allowed: Self.fields, at: decoder.codingPath)
    user = try c.decode(String.self, forKey: FieldKey("user"))
    item = try c.decode(String.self, forKey: FieldKey("item"))
    timestamp = try c.decodeIfPresent(Double.self, forKey: FieldKey("timestamp"))
    eventId = try c.decodeIfPresent(String.self, forKey: FieldKey("event_id"))
  }
}

/// The body of POST /v1/recommendations.
struct AdHocInput: Decodable {
  var items: [String]
  var k: Int?
  var excludeSeen: Bool?

  init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: FieldKey.self)
    try FieldKey.rejectUnknown(c, allowed: ["items", "k", "exclude_seen"], at: decoder.codingPath)
    items = try c.decode([String].self, forKey: FieldKey("items"))
    k = try c.decodeIfPresent(Int.self, forKey: FieldKey("k"))
    excludeSeen = try c.decodeIfPresent(Bool.self, forKey: FieldKey("exclude_seen"))
  }
}

struct FieldKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(_ name: String) { stringValue = name }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { return nil }

  static func rejectUnknown(
    _ container: KeyedDecodingContainer<FieldKey>, allowed: [String], at path: [any CodingKey]
  ) throws {
    if let unknown = container.allKeys.first(where: { !allowed.contains($0.stringValue) }) {
      throw APIError.badRequest(
        "\(RequestDecoding.describe(path + [unknown])): unknown field (expected "
          + allowed.map { "\"\($0)\"" }.joined(separator: ", ") + ")")
    }
  }
}

/// JSON bodies to checked values, every failure an `APIError` naming the field (e.g. `[3].item`).
enum RequestDecoding {
  /// A POST /v1/events body: one event object, or an array of them (applied in array order).
  static func events(_ body: Data, model: ServedModel, limits: RequestLimits) throws -> [ValidatedEvent] {
    let inputs: [EventInput]
    let isBatch: Bool
    switch firstNonSpace(body) {
    case UInt8(ascii: "{"):
      inputs = [try decode(EventInput.self, from: body)]
      isBatch = false
    case UInt8(ascii: "["):
      inputs = try decode([EventInput].self, from: body)
      isBatch = true
      guard !inputs.isEmpty else { throw APIError.badRequest("the batch is empty: send at least one event") }
      guard inputs.count <= limits.maxEventsPerRequest else {
        throw APIError(
          413, "the batch has \(inputs.count) events; at most \(limits.maxEventsPerRequest) per request")
      }
    case nil:
      throw APIError.badRequest("the body is empty: send one event object or an array of events")
    default:
      throw APIError.badRequest("malformed JSON: expected an event object {…} or an array of events […]")
    }
    return try inputs.enumerated().map { index, input in
      let at = isBatch ? "[\(index)]." : ""
      try checkId(input.user, field: "\(at)user", limits: limits)
      try checkId(input.item, field: "\(at)item", limits: limits)
      if let eventId = input.eventId { try checkId(eventId, field: "\(at)event_id", limits: limits) }
      if let timestamp = input.timestamp, !timestamp.isFinite {
        throw APIError.badRequest("\(at)timestamp: must be a finite number")
      }
      guard let itemId = model.itemId(raw: input.item) else {
        throw APIError.badRequest(
          "\(at)item: unknown item id \"\(input.item)\" (not in the checkpoint's \(model.itemCount - 1) items)")
      }
      return ValidatedEvent(
        user: input.user, item: input.item, itemId: itemId, timestamp: input.timestamp, eventId: input.eventId)
    }
  }

  /// A POST /v1/recommendations body: internal ids of the history, k and exclude_seen.
  static func adHoc(_ body: Data, model: ServedModel, limits: RequestLimits) throws -> (
    items: [Int32], k: Int, excludeSeen: Bool
  ) {
    guard firstNonSpace(body) == UInt8(ascii: "{") else {
      throw APIError.badRequest(
        firstNonSpace(body) == nil
          ? "the body is empty: send {\"items\": [raw item ids], \"k\": 10}"
          : "malformed JSON: expected an object {\"items\": [raw item ids], \"k\": 10}")
    }
    let input = try decode(AdHocInput.self, from: body)
    let k = input.k ?? 10
    try checkK(k, limits: limits)
    let items = try input.items.enumerated().map { index, raw in
      guard let id = model.itemId(raw: raw) else {
        throw APIError.badRequest("items[\(index)]: unknown item id \"\(raw)\"")
      }
      return id
    }
    return (items, k, input.excludeSeen ?? false)
  }

  static func checkK(_ k: Int, limits: RequestLimits) throws {
    guard (1...limits.maxK).contains(k) else {
      throw APIError.badRequest("k: must be between 1 and \(limits.maxK) (got \(k))")
    }
  }

  static func checkId(_ id: String, field: String, limits: RequestLimits) throws {
    if id.isEmpty { throw APIError.badRequest("\(field): must not be empty") }
    if id.utf8.count > limits.maxIdBytes {
      throw APIError.badRequest("\(field): longer than \(limits.maxIdBytes) bytes")
    }
  }

  /// Decodes with Foundation and turns its errors into messages that name the field.
  static func decode<T: Decodable>(_ type: T.Type, from body: Data) throws -> T {
    do {
      return try JSONDecoder().decode(type, from: body)
    } catch let error as APIError {
      throw error
    } catch DecodingError.dataCorrupted(let context) {
      if context.codingPath.isEmpty {
        let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
        throw APIError.badRequest("malformed JSON: \(detail ?? context.debugDescription)")
      }
      throw APIError.badRequest("\(describe(context.codingPath)): \(context.debugDescription)")
    } catch DecodingError.keyNotFound(let key, let context) {
      throw APIError.badRequest("\(describe(context.codingPath + [key])): required field is missing")
    } catch DecodingError.valueNotFound(let expected, let context) {
      throw APIError.badRequest("\(describe(context.codingPath)): must be \(article(expected)), not null")
    } catch DecodingError.typeMismatch(let expected, let context) {
      throw APIError.badRequest("\(describe(context.codingPath)): expected \(article(expected))")
    } catch {
      throw APIError.badRequest("malformed JSON: \(error)")
    }
  }

  /// A coding path as `[3].item`, `items[2]` or `body`.
  static func describe(_ path: [any CodingKey]) -> String {
    var text = ""
    for key in path {
      if let index = key.intValue {
        text += "[\(index)]"
      } else {
        text += (text.isEmpty ? "" : ".") + key.stringValue
      }
    }
    return text.isEmpty ? "body" : text
  }

  private static func article(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: return "a string"
    case is Double.Type: return "a number"
    case is Int.Type: return "an integer"
    case is Bool.Type: return "true or false"
    default: return String(describing: type).hasPrefix("Array") ? "an array" : "an object"
    }
  }

  private static func firstNonSpace(_ body: Data) -> UInt8? {
    body.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
  }
}
