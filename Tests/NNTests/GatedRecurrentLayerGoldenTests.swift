import Foundation
import NN
import TensorCore
import Testing

/// Loads the official RecBLR golden weights (../shared/golden beside the package, README there) into `GatedRecurrentLayer`s.
/// The golden io holds only whole-layer outputs (after the residual LayerNorms and the FFN), so the check below
/// wraps the layers in a plain Double transcription of the embedding LayerNorm, residuals and FFN (spec §1.2–1.3).
enum RecBLRGolden {
  static let weightsURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
      "shared/golden/recblr_seed7_weights.safetensors")
  static let ioURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
      "shared/golden/recblr_seed7_io.safetensors")
  static var available: Bool {
    FileManager.default.fileExists(atPath: weightsURL.path) && FileManager.default.fileExists(atPath: ioURL.path)
  }
  static let (modelDim, stateDim, maxLength, layerCount) = (64, 128, 20, 2)

  /// Gated recurrent layer `index` of the golden model, weights loaded (shapes checked against the file).
  static func layer(_ index: Int, from weights: SafeTensorsFile) throws -> GatedRecurrentLayer {
    let layer = GatedRecurrentLayer(
      name: "recurrent_layers.\(index).behavior_modeling", modelDim: modelDim, stateDim: stateDim, kernelSize: 4,
      maxLength: maxLength)
    try layer.loadParameters(from: weights)
    return layer
  }
}

@Suite(.enabled(if: RecBLRGolden.available)) struct GatedRecurrentLayerGoldenTests {
  typealias Rows = [[Double]]

  static func layerNorm(_ x: Rows, _ weights: SafeTensorsFile, _ name: String) throws -> Rows {
    let (gamma, beta) = (try weights.doubles(named: "\(name).weight"), try weights.doubles(named: "\(name).bias"))
    return x.map { row in
      let mean = row.reduce(0, +) / Double(row.count)
      let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(row.count)
      let scale = 1 / (variance + 1e-12).squareRoot()
      return row.indices.map { (row[$0] - mean) * scale * gamma[$0] + beta[$0] }
    }
  }

  /// y = x·Wᵀ + b with W [out, in].
  static func linear(_ x: Rows, _ weights: SafeTensorsFile, _ name: String) throws -> Rows {
    let w = try weights.doubles(named: "\(name).weight")
    let b = try weights.doubles(named: "\(name).bias")
    return x.map { row in
      (0..<b.count).map { o -> Double in
        var sum = b[o]
        for i in row.indices { sum += w[o * row.count + i] * row[i] }
        return sum
      }
    }
  }

  static func add(_ a: Rows, _ b: Rows) -> Rows { zip(a, b).map { zip($0, $1).map(+) } }

  @Test func layerOutputsMatchTheOfficialCode() throws {
    let weights = try SafeTensorsFile(contentsOf: RecBLRGolden.weightsURL)
    let io = try SafeTensorsFile(contentsOf: RecBLRGolden.ioURL)
    let items = try io.ints(named: "item_seq")
    let (batch, steps, d) = (5, RecBLRGolden.maxLength, RecBLRGolden.modelDim)
    #expect(items.count == batch * steps)
    let table = try weights.doubles(named: "item_embedding.weight")
    // Embedding, then LayerNorm (eval mode: no dropout). Positions past each length use the padding row, as the
    // official code does, so every position is compared.
    var x: Rows = items.map { Array(table[($0 * d)..<($0 * d + d)]) }
    x = try Self.layerNorm(x, weights, "layer_norm")
    for index in 0..<RecBLRGolden.layerCount {
      let prefix = "recurrent_layers.\(index)"
      let layer = try RecBLRGolden.layer(index, from: weights)
      let g = layer.forward(Tensor(shape: [batch, steps, d], values: x.flatMap { $0.map(Float.init) })).array
      let gated: Rows = (0..<(batch * steps)).map { r in (0..<d).map { Double(g[r * d + $0]) } }
      let y = try Self.layerNorm(Self.add(gated, x), weights, "\(prefix).layer_norm")
      let hidden = try Self.linear(y, weights, "\(prefix).ffn.w_1").map { $0.map { $0 / (1 + exp(-$0)) } }
      let f = try Self.linear(hidden, weights, "\(prefix).ffn.w_2")
      x = try Self.layerNorm(Self.add(f, y), weights, "\(prefix).ffn.layer_norm")

      let expected = try io.tensor(named: "layer\(index)_out").array
      var worst = 0.0
      for r in 0..<(batch * steps) {
        for c in 0..<d { worst = max(worst, abs(x[r][c] - Double(expected[r * d + c])) / max(1, abs(x[r][c]))) }
      }
      #expect(worst < 2e-4, "layer \(index): worst error \(worst)")
    }
  }

  @Test func streamingReproducesTheGoldenLayerZeroBeforeNormalisation() throws {
    // The streaming form on the golden weights equals the batch forward at every real position.
    let weights = try SafeTensorsFile(contentsOf: RecBLRGolden.weightsURL)
    let layer = try RecBLRGolden.layer(0, from: weights)
    let (steps, d) = (RecBLRGolden.maxLength, RecBLRGolden.modelDim)
    var rng = SeededRNG(seed: 71)
    let x = Tensor(zeros: [1, steps, d])
    x.fillNormal(std: 1, rng: &rng)
    let y = layer.forward(x).array
    var state = layer.initialState()
    var worst: Float = 0
    for t in 0..<steps {
      let out = layer.step(Array(x.array[(t * d)..<(t * d + d)]), state: &state)
      for o in 0..<d { worst = max(worst, abs(out[o] - y[t * d + o]) / max(abs(y[t * d + o]), 1e-3)) }
    }
    #expect(worst < 1e-4, "worst relative error \(worst)")
  }
}
