import Foundation
import NN
import TensorCore

/// A literal, serial, Double-precision transcription of spec §1.4 for one layer, used as the oracle for the
/// optimised `GatedRecurrentLayer`: every sequence is run over an explicit [P zero steps] + [its T inputs] main
/// branch (no prefix sharing, no scan kernel, no BLAS).
enum GatedRecurrentReference {
  static func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
  static func silu(_ v: Double) -> Double { v * sigmoid(v) }
  static func softplus(_ v: Double) -> Double { log1p(exp(v)) }

  /// y [B, T, d] for x [B, T, d] (flattened).
  static func forward(_ layer: GatedRecurrentLayer, x: [Float], batch: Int, steps: Int) -> [Double] {
    let (d, h, k) = (layer.modelDim, layer.stateDim, layer.kernelSize)
    let p = layer.padding == .beforeConv ? layer.paddingSteps : 0
    let wIn = layer.inputWeight.value.array.map(Double.init)  // [2H, d]
    let wConv = layer.convWeight.value.array.map(Double.init)  // [H, 1, K]
    let cConv = layer.convBias.value.array.map(Double.init)
    let wGate = layer.gateWeight.value.array.map(Double.init)  // [2H, H]
    let bGate = layer.gateBias.value.array.map(Double.init)
    let lambda = layer.lambda.value.array.map(Double.init)
    let wOut = layer.outputWeight.value.array.map(Double.init)  // [d, H]
    var y = [Double](repeating: 0, count: batch * steps * d)
    for s in 0..<batch {
      let lp = p + steps
      // Projection; the main branch gets P zero rows in front.
      var main = [[Double]](repeating: [Double](repeating: 0, count: h), count: lp)
      var gate = [[Double]](repeating: [Double](repeating: 0, count: h), count: steps)
      for t in 0..<steps {
        for j in 0..<(2 * h) {
          var sum = 0.0
          for i in 0..<d { sum += wIn[j * d + i] * Double(x[(s * steps + t) * d + i]) }
          if j < h { main[p + t][j] = sum } else { gate[t][j - h] = sum }
        }
      }
      var state = [Double](repeating: 0, count: h)
      for t in 0..<lp {
        var u = [Double](repeating: 0, count: h)
        for j in 0..<h {
          var v = cConv[j]
          for tap in 0..<k where t - (k - 1) + tap >= 0 { v += wConv[j * k + tap] * main[t - (k - 1) + tap][j] }
          u[j] = silu(v)
        }
        for j in 0..<h {
          var rho = bGate[j]
          var iota = bGate[h + j]
          for i in 0..<h {
            rho += wGate[j * h + i] * u[i]
            iota += wGate[(h + j) * h + i] * u[i]
          }
          let a = exp(-softplus(lambda[j]) * sigmoid(rho))
          let beta = (1 - a * a + 1e-8).squareRoot() * sigmoid(iota)
          state[j] = a * state[j] + beta * u[j]
        }
        guard t >= p else { continue }
        let merged = (0..<h).map { silu(gate[t - p][$0]) * state[$0] }
        for o in 0..<d {
          var sum = 0.0
          for j in 0..<h { sum += wOut[o * h + j] * merged[j] }
          y[(s * steps + t - p) * d + o] = sum
        }
      }
    }
    return y
  }

  /// Parameters drawn large enough that every path (gates, decay, prefix) matters, for gradient and equality
  /// checks; Λ spans fast and slow channels.
  static func randomize(_ layer: GatedRecurrentLayer, rng: inout SeededRNG) {
    layer.inputWeight.value.fillNormal(std: 0.6, rng: &rng)
    layer.convWeight.value.fillUniform(-0.8, 0.8, rng: &rng)
    layer.convBias.value.fillUniform(-1, 1, rng: &rng)
    layer.gateWeight.value.fillNormal(std: 0.6, rng: &rng)
    layer.gateBias.value.fillUniform(-1, 1, rng: &rng)
    layer.lambda.value.fillUniform(-4, 1, rng: &rng)
    layer.outputWeight.value.fillNormal(std: 0.6, rng: &rng)
  }
}
