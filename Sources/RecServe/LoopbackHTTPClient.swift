import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A minimal HTTP/1.1 client over one keep-alive TCP connection with blocking POSIX sockets: what the load
/// generator and the integration tests use. It only connects to loopback addresses (127.0.0.0/8).
public final class LoopbackHTTPClient {
  public struct Response: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
  }

  public let port: Int
  private let address: in_addr
  private let timeoutSeconds: Int
  private var socket: Int32 = -1
  private var pending: [UInt8] = []

  /// `host` must be a 127.x.y.z address or "localhost"; the connection opens on the first request.
  public init(host: String = "127.0.0.1", port: Int, timeoutSeconds: Int = 30) throws {
    var address = in_addr()
    let dotted = host == "localhost" ? "127.0.0.1" : host
    guard inet_pton(AF_INET, dotted, &address) == 1, UInt32(bigEndian: address.s_addr) >> 24 == 127 else {
      throw ClientError.notLoopback(host)
    }
    self.address = address
    self.port = port
    self.timeoutSeconds = timeoutSeconds
  }

  deinit { close() }

  public enum ClientError: Error, CustomStringConvertible {
    case notLoopback(String)
    case connection(String)
    case malformedResponse(String)

    public var description: String {
      switch self {
      case .notLoopback(let host): return "\(host) is not a loopback address (127.0.0.0/8): refusing to connect"
      case .connection(let why): return "connection failed: \(why)"
      case .malformedResponse(let why): return "malformed HTTP response: \(why)"
      }
    }
  }

  /// Sends one request and reads its response. A failure closes the connection; the next request reconnects.
  public func request(
    _ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json"
  ) throws -> Response {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
    if let body { head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n" }
    return try send(Array((head + "\r\n").utf8) + (body ?? []))
  }

  /// Sends `bytes` as they are (a whole request, possibly malformed) and reads one response.
  public func send(_ bytes: [UInt8]) throws -> Response {
    do {
      if socket < 0 { try connect() }
      try writeAll(bytes)
      return try readResponse()
    } catch {
      close()
      throw error
    }
  }

  public func close() {
    if socket >= 0 { _ = systemClose(socket) }
    socket = -1
    pending = []
  }

  private func connect() throws {
    #if canImport(Glibc)
      let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
      let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw ClientError.connection("socket(): errno \(errno)") }
    var on: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var target = sockaddr_in()
    target.sin_family = sa_family_t(AF_INET)
    target.sin_port = in_port_t(UInt16(port).bigEndian)
    target.sin_addr = address
    let result = withUnsafePointer(to: &target) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        systemConnect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard result == 0 else {
      let code = errno
      _ = systemClose(fd)
      throw ClientError.connection("connect to 127.0.0.1:\(port): \(String(cString: strerror(code)))")
    }
    socket = fd
  }

  private func writeAll(_ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
      let sent = bytes.withUnsafeBytes { raw in
        systemSend(socket, raw.baseAddress! + offset, bytes.count - offset, noSignalFlag)
      }
      guard sent > 0 else { throw ClientError.connection("send: \(String(cString: strerror(errno)))") }
      offset += sent
    }
  }

  /// Reads more bytes into `pending`; throws when the peer closed or the read timed out.
  private func fill() throws {
    var chunk = [UInt8](repeating: 0, count: 65_536)
    let received = chunk.withUnsafeMutableBytes { systemRecv(socket, $0.baseAddress!, $0.count, 0) }
    guard received > 0 else {
      throw ClientError.connection(received == 0 ? "closed by the server" : String(cString: strerror(errno)))
    }
    pending.append(contentsOf: chunk[0..<received])
  }

  private func readResponse() throws -> Response {
    let separator: [UInt8] = [13, 10, 13, 10]
    var headerEnd: Int?
    while headerEnd == nil {
      try fill()
      headerEnd = Self.find(separator, in: pending)
    }
    let headerText = String(decoding: pending[0..<headerEnd!], as: UTF8.self)
    pending.removeFirst(headerEnd! + 4)
    var lines = headerText.components(separatedBy: "\r\n")
    let statusLine = lines.removeFirst().split(separator: " ")
    guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
      throw ClientError.malformedResponse("status line '\(statusLine.joined(separator: " "))'")
    }
    var contentLength: Int?
    var chunked = false
    var closeAfter = false
    for line in lines {
      let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      guard parts.count == 2 else { continue }
      switch parts[0].lowercased() {
      case "content-length": contentLength = Int(parts[1])
      case "transfer-encoding": chunked = parts[1].lowercased().contains("chunked")
      case "connection": closeAfter = parts[1].lowercased() == "close"
      default: break
      }
    }
    let body = chunked ? try readChunkedBody() : try readBody(count: contentLength ?? 0)
    if closeAfter { close() }
    return Response(status: status, body: body)
  }

  private func readBody(count: Int) throws -> [UInt8] {
    while pending.count < count { try fill() }
    let body = Array(pending[0..<count])
    pending.removeFirst(count)
    return body
  }

  private func readChunkedBody() throws -> [UInt8] {
    var body: [UInt8] = []
    while true {
      var lineEnd = Self.find([13, 10], in: pending)
      while lineEnd == nil {
        try fill()
        lineEnd = Self.find([13, 10], in: pending)
      }
      let sizeText = String(decoding: pending[0..<lineEnd!], as: UTF8.self).split(separator: ";").first ?? ""
      guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
        throw ClientError.malformedResponse("chunk size '\(sizeText)'")
      }
      pending.removeFirst(lineEnd! + 2)
      let chunk = try readBody(count: size + 2)
      if size == 0 { return body }
      body.append(contentsOf: chunk[0..<size])
    }
  }

  private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    return haystack.withUnsafeBufferPointer { h in
      needle.withUnsafeBufferPointer { n in
        for start in 0...(h.count - n.count) {
          var matched = 0
          while matched < n.count && h[start + matched] == n[matched] { matched += 1 }
          if matched == n.count { return start }
        }
        return nil
      }
    }
  }
}

#if canImport(Glibc)
  private let noSignalFlag = Int32(MSG_NOSIGNAL)
#else
  private let noSignalFlag: Int32 = 0
#endif

private func systemClose(_ fd: Int32) -> Int32 {
  #if canImport(Glibc)
    Glibc.close(fd)
  #else
    Darwin.close(fd)
  #endif
}

private func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
  #if canImport(Glibc)
    Glibc.connect(fd, address, length)
  #else
    Darwin.connect(fd, address, length)
  #endif
}

private func systemSend(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
  #if canImport(Glibc)
    Glibc.send(fd, bytes, count, flags)
  #else
    Darwin.send(fd, bytes, count, flags)
  #endif
}

private func systemRecv(_ fd: Int32, _ bytes: UnsafeMutableRawPointer, _ count: Int, _ flags: Int32) -> Int {
  #if canImport(Glibc)
    Glibc.recv(fd, bytes, count, flags)
  #else
    Darwin.recv(fd, bytes, count, flags)
  #endif
}
