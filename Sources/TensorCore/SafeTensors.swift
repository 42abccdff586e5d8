import Foundation

/// The safetensors file format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of
/// JSON mapping each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the
/// first byte after the header) plus an optional `"__metadata__"` string→string map, then the raw little-endian
/// tensor bytes.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
  case f32 = "F32"
  case f64 = "F64"
  case i64 = "I64"
  case i32 = "I32"

  public var byteSize: Int {
    switch self {
    case .f32, .i32: return 4
    case .f64, .i64: return 8
    }
  }
}

public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
  case unreadable(file: String, reason: String)
  case truncated(file: String, detail: String)
  case badHeader(file: String, detail: String)
  case unknownDType(file: String, tensor: String, dtype: String)
  case offsetsOutOfRange(file: String, tensor: String, detail: String)
  case missingTensor(file: String, tensor: String)
  case wrongDType(file: String, tensor: String, expected: String, found: String)
  case invalidTensor(tensor: String, detail: String)
  case writeFailed(file: String, reason: String)

  public var description: String {
    switch self {
    case .unreadable(let f, let r): return "\(f): cannot read safetensors file: \(r)"
    case .truncated(let f, let d): return "\(f): truncated safetensors file: \(d)"
    case .badHeader(let f, let d): return "\(f): bad safetensors header: \(d)"
    case .unknownDType(let f, let t, let d):
      return "\(f): tensor '\(t)' has unsupported dtype '\(d)' (supported: F32, F64, I64, I32)"
    case .offsetsOutOfRange(let f, let t, let d): return "\(f): tensor '\(t)' has bad data_offsets: \(d)"
    case .missingTensor(let f, let t): return "\(f): no tensor named '\(t)'"
    case .wrongDType(let f, let t, let e, let found): return "\(f): tensor '\(t)' is \(found), expected \(e)"
    case .invalidTensor(let t, let d): return "cannot write tensor '\(t)': \(d)"
    case .writeFailed(let f, let r): return "\(f): cannot write safetensors file: \(r)"
    }
  }
}

/// A safetensors file read fully into memory. Every entry's dtype and byte range are validated when the file is
/// opened, so the accessors only fail for a missing name or a dtype of the wrong kind.
public struct SafeTensorsFile: Sendable {
  public struct Entry: Sendable, Equatable {
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range inside the data section.
    public let byteRange: Range<Int>
    public var count: Int { shape.reduce(1, *) }
  }

  /// Where the bytes came from (a path, for error messages).
  public let source: String
  public let entries: [String: Entry]
  /// Tensor names in data order.
  public let names: [String]
  public let metadata: [String: String]
  private let data: Data
  private let dataStart: Int

  public init(contentsOf url: URL) throws {
    let bytes: Data
    do {
      bytes = try Data(contentsOf: url, options: .mappedIfSafe)
    } catch {
      throw SafeTensorsError.unreadable(file: url.path, reason: error.localizedDescription)
    }
    try self.init(data: bytes, source: url.path)
  }

  public init(data: Data, source: String = "<memory>") throws {
    self.source = source
    self.data = data
    guard data.count >= 8 else {
      throw SafeTensorsError.truncated(file: source, detail: "\(data.count) bytes, need 8 for the header length")
    }
    let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    guard headerLength <= UInt64(data.count - 8) else {
      throw SafeTensorsError.truncated(
        file: source, detail: "header length \(headerLength) exceeds the \(data.count - 8) bytes after it")
    }
    dataStart = 8 + Int(headerLength)
    let headerBytes = data.subdata(in: data.startIndex + 8..<data.startIndex + dataStart)
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: headerBytes)
    } catch {
      throw SafeTensorsError.badHeader(file: source, detail: "not valid JSON (\(error.localizedDescription))")
    }
    guard let header = json as? [String: Any] else {
      throw SafeTensorsError.badHeader(file: source, detail: "the header is not a JSON object")
    }
    var metadata: [String: String] = [:]
    var entries: [String: Entry] = [:]
    let dataSize = data.count - dataStart
    for (name, value) in header {
      if name == "__metadata__" {
        guard let map = value as? [String: String] else {
          throw SafeTensorsError.badHeader(file: source, detail: "__metadata__ is not a string-to-string map")
        }
        metadata = map
        continue
      }
      entries[name] = try Self.parseEntry(name: name, value: value, dataSize: dataSize, source: source)
    }
    self.metadata = metadata
    self.entries = entries
    names = entries.keys.sorted { (entries[$0]!.byteRange.lowerBound, $0) < (entries[$1]!.byteRange.lowerBound, $1) }
  }

  private static func parseEntry(name: String, value: Any, dataSize: Int, source: String) throws -> Entry {
    guard let fields = value as? [String: Any] else {
      throw SafeTensorsError.badHeader(file: source, detail: "entry '\(name)' is not an object")
    }
    guard let dtypeName = fields["dtype"] as? String else {
      throw SafeTensorsError.badHeader(file: source, detail: "entry '\(name)' has no string 'dtype'")
    }
    guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
      throw SafeTensorsError.unknownDType(file: source, tensor: name, dtype: dtypeName)
    }
    guard let shapeValues = fields["shape"] as? [Any], let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 })
    else {
      throw SafeTensorsError.badHeader(file: source, detail: "entry '\(name)' has no non-negative integer 'shape'")
    }
    guard let offsetValues = fields["data_offsets"] as? [Any], let offsets = integers(offsetValues),
      offsets.count == 2
    else {
      throw SafeTensorsError.badHeader(file: source, detail: "entry '\(name)' has no [begin, end] 'data_offsets'")
    }
    let (begin, end) = (offsets[0], offsets[1])
    guard begin >= 0, begin <= end else {
      throw SafeTensorsError.offsetsOutOfRange(file: source, tensor: name, detail: "[\(begin), \(end)] is not a range")
    }
    guard end <= dataSize else {
      throw SafeTensorsError.offsetsOutOfRange(
        file: source, tensor: name, detail: "end \(end) is past the \(dataSize)-byte data section")
    }
    var count = 1
    var overflow = false
    for d in shape {
      let (p, o) = count.multipliedReportingOverflow(by: d)
      (count, overflow) = (p, overflow || o)
    }
    let (byteCount, o) = count.multipliedReportingOverflow(by: dtype.byteSize)
    guard !overflow, !o, end - begin == byteCount else {
      throw SafeTensorsError.offsetsOutOfRange(
        file: source, tensor: name,
        detail: "[\(begin), \(end)] holds \(end - begin) bytes but \(dtypeName) \(shape) needs \(byteCount)")
    }
    return Entry(dtype: dtype, shape: shape, byteRange: begin..<end)
  }

  /// JSON numbers as Ints (nil if any is not a non-fractional number).
  private static func integers(_ values: [Any]) -> [Int]? {
    var out: [Int] = []
    for v in values {
      guard let n = v as? NSNumber, let i = Int(exactly: n.doubleValue) else { return nil }
      out.append(i)
    }
    return out
  }

  public func contains(_ name: String) -> Bool { entries[name] != nil }

  public func entry(named name: String) throws -> Entry {
    guard let e = entries[name] else { throw SafeTensorsError.missingTensor(file: source, tensor: name) }
    return e
  }

  /// An F32 tensor, or an F64 tensor converted to Float.
  public func tensor(named name: String) throws -> Tensor {
    let e = try entry(named: name)
    let out = Tensor(zeros: e.shape)
    switch e.dtype {
    case .f32: forEachWord(e, UInt32.self) { i, w in out.ptr[i] = Float(bitPattern: w) }
    case .f64: forEachWord(e, UInt64.self) { i, w in out.ptr[i] = Float(Double(bitPattern: w)) }
    case .i64, .i32:
      throw SafeTensorsError.wrongDType(file: source, tensor: name, expected: "F32 or F64", found: e.dtype.rawValue)
    }
    return out
  }

  /// An F64 (or F32, widened) tensor as Doubles.
  public func doubles(named name: String) throws -> [Double] {
    let e = try entry(named: name)
    var out = [Double](repeating: 0, count: e.count)
    switch e.dtype {
    case .f64: forEachWord(e, UInt64.self) { i, w in out[i] = Double(bitPattern: w) }
    case .f32: forEachWord(e, UInt32.self) { i, w in out[i] = Double(Float(bitPattern: w)) }
    case .i64, .i32:
      throw SafeTensorsError.wrongDType(file: source, tensor: name, expected: "F32 or F64", found: e.dtype.rawValue)
    }
    return out
  }

  /// An I64 (or I32, widened) tensor.
  public func int64s(named name: String) throws -> [Int64] {
    let e = try entry(named: name)
    var out = [Int64](repeating: 0, count: e.count)
    switch e.dtype {
    case .i64: forEachWord(e, UInt64.self) { i, w in out[i] = Int64(bitPattern: w) }
    case .i32: forEachWord(e, UInt32.self) { i, w in out[i] = Int64(Int32(bitPattern: w)) }
    case .f32, .f64:
      throw SafeTensorsError.wrongDType(file: source, tensor: name, expected: "I64 or I32", found: e.dtype.rawValue)
    }
    return out
  }

  /// An integer tensor as Ints.
  public func ints(named name: String) throws -> [Int] { try int64s(named: name).map { Int($0) } }

  /// Calls `body(index, word)` for each little-endian word of the entry's bytes.
  private func forEachWord<W: FixedWidthInteger>(_ e: Entry, _: W.Type, _ body: (Int, W) -> Void) {
    data.withUnsafeBytes { raw in
      let base = raw.baseAddress! + dataStart + e.byteRange.lowerBound
      for i in 0..<e.count {
        body(i, W(littleEndian: (base + i * MemoryLayout<W>.size).loadUnaligned(as: W.self)))
      }
    }
  }
}
