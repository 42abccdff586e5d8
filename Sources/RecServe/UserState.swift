import Foundation
import RecModels

/// What the server keeps per user between events: the model's recurrent state (O(1) per event) for models with a
/// streaming form, else the last L internal item ids (the window the model re-reads on every recommendation).
public enum UserState: Equatable, Sendable {
  case stream(StreamState)
  /// The last ≤ L items, oldest first, and how many items were consumed in all.
  case window(items: [Int32], consumed: Int)

  /// Items consumed so far (0 = no history: the user gets the most popular items).
  public var itemCount: Int {
    switch self {
    case .stream(let state): return state.itemCount
    case .window(_, let consumed): return consumed
    }
  }
}

/// The binary form of a `UserState` stored in the `user_state` table (little-endian):
///
///     magic "SQS1" | form (UInt8: 1 stream, 2 window) | 3 zero bytes | items consumed (Int64) | n (Int64) | n values
///
/// where values are Float32 (stream) or Int32 item ids (window). Decoding checks every length, so a truncated or
/// foreign blob is reported as unreadable and the state is rebuilt from the event log.
public enum UserStateBlob {
  static let magic: [UInt8] = Array("SQS1".utf8)
  static let headerSize = 24

  public static func encode(_ state: UserState) -> Data {
    switch state {
    case .stream(let stream):
      return stream.values.withUnsafeBytes { encode(form: 1, consumed: stream.itemCount, payload: $0) }
    case .window(let items, let consumed):
      return items.withUnsafeBytes { encode(form: 2, consumed: consumed, payload: $0) }
    }
  }

  /// The state in `data`, or nil when the blob is not one this encoder wrote.
  public static func decode(_ data: Data) -> UserState? {
    guard data.count >= headerSize, Array(data.prefix(4)) == magic else { return nil }
    return data.withUnsafeBytes { raw -> UserState? in
      let form = raw[4]
      let consumed = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: Int64.self)))
      let count = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: Int64.self)))
      guard consumed >= 0, count >= 0, raw.count == headerSize + 4 * count else { return nil }
      let payload = UnsafeRawBufferPointer(rebasing: raw[headerSize...])
      switch form {
      case 1:
        let values = (0..<count).map {
          Float(bitPattern: UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
        }
        return .stream(StreamState(values: values, itemCount: consumed))
      case 2:
        let items = (0..<count).map {
          Int32(littleEndian: payload.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))
        }
        return .window(items: items, consumed: consumed)
      default:
        return nil
      }
    }
  }

  private static func encode(form: UInt8, consumed: Int, payload: UnsafeRawBufferPointer) -> Data {
    var data = Data(capacity: headerSize + payload.count)
    data.append(contentsOf: magic)
    data.append(contentsOf: [form, 0, 0, 0])
    withUnsafeBytes(of: Int64(consumed).littleEndian) { data.append(contentsOf: $0) }
    withUnsafeBytes(of: Int64(payload.count / 4).littleEndian) { data.append(contentsOf: $0) }
    #if _endian(little)
      data.append(contentsOf: payload)
    #else
      for offset in stride(from: 0, to: payload.count, by: 4) {
        withUnsafeBytes(of: payload.loadUnaligned(fromByteOffset: offset, as: UInt32.self).byteSwapped) {
          data.append(contentsOf: $0)
        }
      }
    #endif
    return data
  }
}
