import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes safetensors files (format described at `SafeTensorsDType`). F32 tensors and I64 arrays are supported.
/// The file is written to a temporary file in the destination directory and renamed over the destination, so a
/// reader never sees a half-written file.
public enum SafeTensorsWriter {
  /// Writes `tensors` (F32) then `int64` arrays (I64, with their shapes) in the given order.
  public static func write(
    tensors: [(String, Tensor)], int64: [(String, [Int64], [Int])] = [], metadata: [String: String] = [:],
    to url: URL
  ) throws {
    try writeAtomically(encode(tensors: tensors, int64: int64, metadata: metadata), to: url)
  }

  /// The bytes of a safetensors file holding the given tensors.
  public static func encode(
    tensors: [(String, Tensor)], int64: [(String, [Int64], [Int])] = [], metadata: [String: String] = [:]
  ) throws -> Data {
    var header: [String: Any] = [:]
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var offset = 0
    func addEntry(_ name: String, dtype: SafeTensorsDType, shape: [Int], count: Int) throws {
      guard name != "__metadata__", !name.isEmpty else {
        throw SafeTensorsError.invalidTensor(tensor: name, detail: "reserved or empty name")
      }
      guard header[name] == nil else { throw SafeTensorsError.invalidTensor(tensor: name, detail: "duplicate name") }
      guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == count else {
        throw SafeTensorsError.invalidTensor(tensor: name, detail: "shape \(shape) does not hold \(count) values")
      }
      let bytes = count * dtype.byteSize
      header[name] = ["dtype": dtype.rawValue, "shape": shape, "data_offsets": [offset, offset + bytes]]
      offset += bytes
    }
    for (name, t) in tensors { try addEntry(name, dtype: .f32, shape: t.shape, count: t.count) }
    for (name, values, shape) in int64 { try addEntry(name, dtype: .i64, shape: shape, count: values.count) }

    var headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    // Pad with spaces so the data section starts 8-byte aligned (as the reference implementation does).
    let padding = (8 - headerBytes.count % 8) % 8
    headerBytes.append(contentsOf: [UInt8](repeating: 0x20, count: padding))

    let dataStart = 8 + headerBytes.count
    var out = Data(count: dataStart + offset)
    out.withUnsafeMutableBytes { raw in
      let base = raw.baseAddress!
      base.storeBytes(of: UInt64(headerBytes.count).littleEndian, as: UInt64.self)
      headerBytes.withUnsafeBytes { base.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
      var p = base + dataStart
      for (_, t) in tensors {
        for i in 0..<t.count { (p + 4 * i).storeBytes(of: t.ptr[i].bitPattern.littleEndian, as: UInt32.self) }
        p += 4 * t.count
      }
      for (_, values, _) in int64 {
        for (i, v) in values.enumerated() { (p + 8 * i).storeBytes(of: v.littleEndian, as: Int64.self) }
        p += 8 * values.count
      }
    }
    return out
  }

  /// Writes `bytes` to a temporary file next to `url`, then renames it over `url`.
  static func writeAtomically(_ bytes: Data, to url: URL) throws {
    let directory = url.deletingLastPathComponent()
    let temporary = directory.appendingPathComponent(
      ".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
    do {
      try bytes.write(to: temporary)
    } catch {
      throw SafeTensorsError.writeFailed(file: url.path, reason: error.localizedDescription)
    }
    if rename(temporary.path, url.path) != 0 {
      let reason = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: temporary)
      throw SafeTensorsError.writeFailed(file: url.path, reason: "rename failed: \(reason)")
    }
  }
}
