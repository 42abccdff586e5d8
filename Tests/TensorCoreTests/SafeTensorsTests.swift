import Foundation
import Testing

@testable import TensorCore

@Suite struct SafeTensorsTests {
  /// A fresh empty directory for one test.
  static func scratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("seqrec-safetensors-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// The bytes of a file with the given header JSON and data section (for hand-made and corrupt files).
  static func file(header: String, data: [UInt8] = []) -> Data {
    var out = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: Array(header.utf8))
    out.append(contentsOf: data)
    return out
  }

  @Test func roundTripKeepsNamesShapesValuesAndMetadata() throws {
    var rng = SeededRNG(seed: 3)
    let weight = Tensor(zeros: [3, 1, 4])
    weight.fillNormal(std: 1, rng: &rng)
    let scalar = Tensor(shape: [1], values: [-2.5])
    let empty = Tensor(zeros: [0, 5])
    let ids: [Int64] = [0, 7, -3, Int64.max, Int64.min, 42]
    let directory = try Self.scratchDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("model.safetensors")
    let metadata = ["format": "seqrec-1", "config": "{\"d\": 64, \"name\": \"a \\\"quoted\\\" é\"}"]
    // Writing twice checks that an existing file is replaced.
    try SafeTensorsWriter.write(tensors: [("old", scalar)], to: url)
    try SafeTensorsWriter.write(
      tensors: [("layer.0.conv1d.weight", weight), ("scalar", scalar), ("empty", empty)],
      int64: [("item_seq", ids, [2, 3])], metadata: metadata, to: url)

    let file = try SafeTensorsFile(contentsOf: url)
    #expect(file.names == ["layer.0.conv1d.weight", "scalar", "empty", "item_seq"])
    #expect(file.metadata == metadata)
    #expect(try file.tensor(named: "layer.0.conv1d.weight").shape == [3, 1, 4])
    #expect(try file.tensor(named: "layer.0.conv1d.weight").array == weight.array)
    #expect(try file.tensor(named: "scalar").array == [-2.5])
    #expect(try file.tensor(named: "empty").shape == [0, 5])
    #expect(try file.int64s(named: "item_seq") == ids)
    #expect(try file.entry(named: "item_seq").shape == [2, 3])
    #expect(!file.contains("old"))
    // Only the final file is left: the temporary file was renamed.
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
    // The data section starts 8-byte aligned.
    let bytes = try Data(contentsOf: url)
    let headerLength = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    #expect(headerLength % 8 == 0)
  }

  @Test func readsF64AndI32AndChecksDTypeKind() throws {
    var data: [UInt8] = []
    for v in [1.5, -0.25] { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 } }
    for v: Int32 in [-7, 9, 11] { withUnsafeBytes(of: v.littleEndian) { data += $0 } }
    let header = """
      {"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"i":{"dtype":"I32","shape":[3],"data_offsets":[16,28]}}
      """
    let file = try SafeTensorsFile(data: Self.file(header: header, data: data), source: "hand.safetensors")
    #expect(try file.tensor(named: "d").array == [1.5, -0.25])
    #expect(try file.doubles(named: "d") == [1.5, -0.25])
    #expect(try file.int64s(named: "i") == [-7, 9, 11])
    #expect(try file.ints(named: "i") == [-7, 9, 11])
    #expect(
      throws: SafeTensorsError.wrongDType(file: "hand.safetensors", tensor: "i", expected: "F32 or F64", found: "I32")
    ) { _ = try file.tensor(named: "i") }
    #expect(
      throws: SafeTensorsError.wrongDType(file: "hand.safetensors", tensor: "d", expected: "I64 or I32", found: "F64")
    ) { _ = try file.int64s(named: "d") }
    #expect(throws: SafeTensorsError.missingTensor(file: "hand.safetensors", tensor: "x")) {
      _ = try file.tensor(named: "x")
    }
  }

  @Test func corruptFilesGiveClearErrors() throws {
    let good = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    func open(_ bytes: Data) throws { _ = try SafeTensorsFile(data: bytes, source: "bad.safetensors") }
    // Shorter than the 8-byte length field.
    #expect(
      throws: SafeTensorsError.truncated(file: "bad.safetensors", detail: "5 bytes, need 8 for the header length")
    ) { try open(Data([1, 2, 3, 4, 5])) }
    // Header length past the end of the file.
    let full = Self.file(header: good, data: [UInt8](repeating: 0, count: 8))
    do {
      try open(full.prefix(20))
      Issue.record("a truncated header was accepted")
    } catch let error as SafeTensorsError {
      guard case .truncated = error else { Issue.record("unexpected \(error)"); return }
      #expect(error.description.contains("bad.safetensors"))
    }
    // Data section shorter than the offsets say.
    expectError(.offsetsOutOfRange, try open(full.prefix(full.count - 1)))
    expectError(.badHeader, try open(Self.file(header: "{\"w\": [1, 2", data: [])))
    expectError(.badHeader, try open(Self.file(header: "[1, 2]", data: [])))
    expectError(.badHeader, try open(Self.file(header: #"{"__metadata__": {"a": 1}}"#)))
    expectError(
      .badHeader, try open(Self.file(header: #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: [])))
    #expect(
      throws: SafeTensorsError.unknownDType(file: "bad.safetensors", tensor: "w", dtype: "Q7")
    ) {
      try open(
        Self.file(
          header: #"{"w":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)))
    }
    // Offsets that are reversed, or that disagree with dtype × shape.
    expectError(
      .offsetsOutOfRange,
      try open(
        Self.file(
          header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: [UInt8](repeating: 0, count: 8))))
    expectError(
      .offsetsOutOfRange,
      try open(
        Self.file(
          header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 12))))
  }

  enum Kind { case truncated, badHeader, offsetsOutOfRange }

  func expectError(
    _ kind: Kind, _ body: @autoclosure () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    do {
      try body()
      Issue.record("no error thrown, expected \(kind)", sourceLocation: sourceLocation)
    } catch let error as SafeTensorsError {
      let matches: Bool
      switch (kind, error) {
      case (.truncated, .truncated), (.badHeader, .badHeader), (.offsetsOutOfRange, .offsetsOutOfRange): matches = true
      default: matches = false
      }
      #expect(matches, "expected \(kind), got \(error)", sourceLocation: sourceLocation)
      #expect(error.description.hasPrefix("bad.safetensors: "), sourceLocation: sourceLocation)
    } catch {
      Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
  }

  @Test func writerRejectsBadTensorsAndUnwritablePaths() throws {
    #expect(throws: SafeTensorsError.invalidTensor(tensor: "x", detail: "duplicate name")) {
      _ = try SafeTensorsWriter.encode(tensors: [("x", Tensor(zeros: [1])), ("x", Tensor(zeros: [1]))])
    }
    #expect(throws: SafeTensorsError.invalidTensor(tensor: "ids", detail: "shape [2, 2] does not hold 3 values")) {
      _ = try SafeTensorsWriter.encode(tensors: [], int64: [("ids", [1, 2, 3], [2, 2])])
    }
    let missingDirectory = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/m.safetensors")
    #expect(throws: SafeTensorsError.self) { try SafeTensorsWriter.write(tensors: [], to: missingDirectory) }
  }

  static let goldenWeights = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
      "shared/golden/recblr_seed7_weights.safetensors")
  static let goldenIO = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
      "shared/golden/recblr_seed7_io.safetensors")

  @Test(.enabled(if: FileManager.default.fileExists(atPath: goldenWeights.path)))
  func readsTheRecBLRGoldenFiles() throws {
    let weights = try SafeTensorsFile(contentsOf: Self.goldenWeights)
    #expect(try weights.entry(named: "item_embedding.weight").shape == [40, 64])
    let layer = "recurrent_layers.1.behavior_modeling"
    let expected: [String: [Int]] = [
      "\(layer).input.weight": [256, 64], "\(layer).conv1d.weight": [128, 1, 4], "\(layer).conv1d.bias": [128],
      "\(layer).gates.weight": [256, 128], "\(layer).gates.bias": [256], "\(layer).Lambda": [128],
      "\(layer).output.weight": [64, 128], "recurrent_layers.0.ffn.w_1.weight": [256, 64],
    ]
    for (name, shape) in expected { #expect(try weights.tensor(named: name).shape == shape, "\(name)") }
    #expect(weights.names.count == 33)
    let io = try SafeTensorsFile(contentsOf: Self.goldenIO)
    #expect(try io.ints(named: "item_seq_len") == [1, 5, 12, 20, 17])
    let items = try io.ints(named: "item_seq")
    #expect(items.count == 100 && items.allSatisfy { (0..<40).contains($0) })
    // Left-aligned: sequence 0 has one item, then padding.
    #expect(items[0] != 0 && items[1..<20].allSatisfy { $0 == 0 })
    #expect(try io.tensor(named: "layer1_out").shape == [5, 20, 64])
  }
}
