import Foundation

/// The binary file that caches a processed `SequenceDataset` (little-endian throughout):
///
///     "SEQRECDS"  UInt32 format version
///     key, layout description, dataset name   (each UInt64 byte count + UTF-8)
///     UInt64 users U, item ids I (padding included), interactions N
///     UInt64 × (U+1) sequence offsets, Int32 × N item ids
///     raw user ids, raw item ids               (each UInt64 × (count+1) offsets, UInt64 byte count, bytes)
///     UInt64 checksum (StableHash.content of everything before it)
///
/// Decoding checks every length, offset and id and throws `CacheFileError` instead of trapping, so a truncated or
/// corrupt file is simply rebuilt.
enum DatasetCacheFile {
  static let magic = Array("SEQRECDS".utf8)
  static let formatVersion: UInt32 = 1

  struct Contents {
    var key: String
    var layoutDescription: String
    var dataset: SequenceDataset
  }

  struct CacheFileError: Error, CustomStringConvertible {
    var description: String
  }

  static func encode(_ contents: Contents) -> [UInt8] {
    let dataset = contents.dataset
    var out = BinaryWriter()
    out.bytes.append(contentsOf: magic)
    out.append(UInt32(formatVersion))
    out.append(contents.key)
    out.append(contents.layoutDescription)
    out.append(dataset.name)
    out.append(UInt64(dataset.userCount))
    out.append(UInt64(dataset.itemCount))
    out.append(UInt64(dataset.interactionCount))
    var offset: UInt64 = 0
    out.append(offset)
    for sequence in dataset.sequences {
      offset += UInt64(sequence.count)
      out.append(offset)
    }
    out.bytes.reserveCapacity(out.bytes.count + dataset.interactionCount * 4 + 64)
    for sequence in dataset.sequences {
      for item in sequence { out.append(UInt32(bitPattern: item)) }
    }
    out.append(idTable: dataset.rawUserIds)
    out.append(idTable: dataset.rawItemIds)
    let checksum = out.bytes.withUnsafeBytes { StableHash.content($0) }
    out.append(checksum)
    return out.bytes
  }

  static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Contents {
    guard bytes.count >= magic.count + 12 else { throw CacheFileError(description: "file too short") }
    let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 8)])
    let storedChecksum = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self))
    guard StableHash.content(body) == storedChecksum else { throw CacheFileError(description: "checksum mismatch") }
    var input = BinaryReader(bytes: body)
    guard try input.bytes(magic.count).elementsEqual(magic) else { throw CacheFileError(description: "not a cache") }
    let version = try input.uint32()
    guard version == formatVersion else { throw CacheFileError(description: "format version \(version)") }
    let key = try input.string()
    let layoutDescription = try input.string()
    let name = try input.string()
    let userCount = try input.count(elementSize: 8)
    let itemCount = try input.count(elementSize: 1)
    let interactionCount = try input.count(elementSize: 4)
    let offsets = try (0...userCount).map { _ in try input.count(elementSize: 0) }
    guard offsets.first == 0, offsets.last == interactionCount, zip(offsets, offsets.dropFirst()).allSatisfy(<=)
    else { throw CacheFileError(description: "bad sequence offsets") }
    let items = try input.bytes(interactionCount * 4)
    var sequences: [[Int32]] = []
    sequences.reserveCapacity(userCount)
    for user in 0..<userCount {
      let start = offsets[user]
      let sequence = [Int32](unsafeUninitializedCapacity: offsets[user + 1] - start) { buffer, initialized in
        for j in 0..<buffer.count {
          buffer[j] = Int32(
            bitPattern: UInt32(littleEndian: items.loadUnaligned(fromByteOffset: (start + j) * 4, as: UInt32.self)))
        }
        initialized = buffer.count
      }
      guard sequence.allSatisfy({ $0 >= 1 && Int($0) < itemCount }) else {
        throw CacheFileError(description: "item id out of range")
      }
      sequences.append(sequence)
    }
    let rawUserIds = try input.idTable(count: userCount)
    let rawItemIds = try input.idTable(count: itemCount)
    guard rawItemIds.first == SequenceDataset.paddingRawId, input.isAtEnd else {
      throw CacheFileError(description: "bad id tables")
    }
    let dataset = SequenceDataset(name: name, sequences: sequences, rawUserIds: rawUserIds, rawItemIds: rawItemIds)
    return Contents(key: key, layoutDescription: layoutDescription, dataset: dataset)
  }
}

private struct BinaryWriter {
  var bytes: [UInt8] = []

  mutating func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
  mutating func append(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }

  mutating func append(_ string: String) {
    let utf8 = Array(string.utf8)
    append(UInt64(utf8.count))
    bytes.append(contentsOf: utf8)
  }

  mutating func append(idTable ids: [String]) {
    var offset: UInt64 = 0
    append(offset)
    for id in ids {
      offset += UInt64(id.utf8.count)
      append(offset)
    }
    append(offset)
    for id in ids { bytes.append(contentsOf: id.utf8) }
  }
}

private struct BinaryReader {
  let bytes: UnsafeRawBufferPointer
  var position = 0

  var isAtEnd: Bool { position == bytes.count }

  mutating func bytes(_ count: Int) throws -> UnsafeRawBufferPointer {
    guard count >= 0, count <= bytes.count - position else {
      throw DatasetCacheFile.CacheFileError(description: "truncated")
    }
    defer { position += count }
    return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
  }

  mutating func uint32() throws -> UInt32 {
    UInt32(littleEndian: try bytes(4).loadUnaligned(as: UInt32.self))
  }

  mutating func uint64() throws -> UInt64 {
    UInt64(littleEndian: try bytes(8).loadUnaligned(as: UInt64.self))
  }

  /// A count or offset, rejected when `count × elementSize` could not fit in what is left of the file.
  mutating func count(elementSize: Int) throws -> Int {
    let value = try uint64()
    let limit = UInt64(bytes.count - position)
    guard value <= UInt64(Int32.max) * 64, elementSize == 0 || value <= limit / UInt64(elementSize) + 1 else {
      throw DatasetCacheFile.CacheFileError(description: "implausible count \(value)")
    }
    return Int(value)
  }

  mutating func string() throws -> String {
    let length = try count(elementSize: 1)
    return String(decoding: try bytes(length), as: UTF8.self)
  }

  mutating func idTable(count: Int) throws -> [String] {
    let offsets = try (0...count).map { _ in try self.count(elementSize: 0) }
    let byteCount = try self.count(elementSize: 1)
    guard offsets.first == 0, offsets.last == byteCount, zip(offsets, offsets.dropFirst()).allSatisfy(<=) else {
      throw DatasetCacheFile.CacheFileError(description: "bad id table offsets")
    }
    let blob = try bytes(byteCount)
    return (0..<count).map { String(decoding: blob[offsets[$0]..<offsets[$0 + 1]], as: UTF8.self) }
  }
}
