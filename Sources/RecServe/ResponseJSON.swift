import Foundation

/// The JSON bodies the server answers with, written directly (no reflection, escaping per RFC 8259).
enum ResponseJSON {
  static func recommendations(_ result: Recommendations, user: String?, model: ServedModel) -> String {
    var json = "{"
    if let user { json += "\"user\":\(string(user))," }
    json += "\"source\":\"\(result.source.rawValue)\",\"history_length\":\(result.historyLength),\"items\":["
    for (index, entry) in result.entries.enumerated() {
      if index > 0 { json += "," }
      json += "{\"item\":\(string(model.rawItemId(entry.item))),\"score\":\(number(entry.score))}"
    }
    return json + "]}"
  }

  static func appended(_ outcome: AppendOutcome) -> String {
    "{\"applied\":\(outcome.applied),\"duplicates\":\(outcome.duplicates)}"
  }

  static func error(status: Int, message: String) -> String {
    "{\"error\":{\"status\":\(status),\"message\":\(string(message))}}"
  }

  static func health(model: ServedModel, cachedUsers: Int) -> String {
    "{\"status\":\"ok\",\"model\":\(string(model.name)),\"streaming\":\(model.isStreaming),"
      + "\"items\":\(model.itemCount - 1),\"fingerprint\":\(string(model.fingerprint)),"
      + "\"cached_users\":\(cachedUsers)}"
  }

  /// A JSON number, or null for a non-finite score (JSON has no infinities).
  static func number(_ value: Float) -> String { value.isFinite ? "\(value)" : "null" }

  /// A JSON string literal.
  static func string(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
