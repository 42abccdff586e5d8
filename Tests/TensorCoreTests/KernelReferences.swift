import Foundation

@testable import TensorCore

/// Naive reference implementations of the kernels: obvious loops, Double arithmetic. Each kernel test compares a
/// kernel against one of these.
enum KernelReference {
  static func activation(_ f: ActivationFunction, _ x: Double) -> Double {
    switch f {
    case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
    case .silu: return x / (1 + exp(-x))
    case .relu: return x > 0 ? x : 0
    case .tanh: return tanh(x)
    case .sigmoid: return 1 / (1 + exp(-x))
    case .elu: return x > 0 ? x : exp(x) - 1
    }
  }

  /// f′(x), written from the textbook formulas (not from the kernels' rearrangements).
  static func activationDerivative(_ f: ActivationFunction, _ x: Double) -> Double {
    switch f {
    case .gelu:
      let cdf = 0.5 * (1 + erf(x / 2.0.squareRoot()))
      let pdf = exp(-x * x / 2) / (2 * Double.pi).squareRoot()
      return cdf + x * pdf
    case .silu:
      let s = 1 / (1 + exp(-x))
      return s + x * s * (1 - s)
    case .relu: return x > 0 ? 1 : 0
    case .tanh: return 1 - tanh(x) * tanh(x)
    case .sigmoid:
      let s = 1 / (1 + exp(-x))
      return s * (1 - s)
    case .elu: return x > 0 ? 1 : exp(x)
    }
  }

  struct LayerNormResult {
    var out: [Double]
    var mean: [Double]
    var rstd: [Double]
    var dx: [Double]
    var dweight: [Double]
    var dbias: [Double]
  }

  /// LayerNorm forward and backward straight from the definition (backward by the chain rule through mean and
  /// variance, summing over every pair of columns: O(cols²) per row).
  static func layerNorm(
    x: [Float], weight: [Float], bias: [Float], dy: [Float], rows: Int, cols: Int, eps: Double
  ) -> LayerNormResult {
    var result = LayerNormResult(
      out: [], mean: [], rstd: [], dx: [], dweight: Array(repeating: 0, count: cols),
      dbias: Array(repeating: 0, count: cols))
    for r in 0..<rows {
      let xr = (0..<cols).map { Double(x[r * cols + $0]) }
      let mean = xr.reduce(0, +) / Double(cols)
      let variance = xr.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)
      let rstd = 1 / (variance + eps).squareRoot()
      let xhat = xr.map { ($0 - mean) * rstd }
      result.mean.append(mean)
      result.rstd.append(rstd)
      for c in 0..<cols {
        result.out.append(xhat[c] * Double(weight[c]) + Double(bias[c]))
        result.dweight[c] += Double(dy[r * cols + c]) * xhat[c]
        result.dbias[c] += Double(dy[r * cols + c])
      }
      // ∂x̂_j/∂x_i = rstd · (δ_ij − 1/n − x̂_i x̂_j / n)
      for i in 0..<cols {
        var g = 0.0
        for j in 0..<cols {
          let delta: Double = i == j ? 1 : 0
          let dxhatjdxi = rstd * (delta - 1 / Double(cols) - xhat[i] * xhat[j] / Double(cols))
          g += Double(dy[r * cols + j]) * Double(weight[j]) * dxhatjdxi
        }
        result.dx.append(g)
      }
    }
    return result
  }

  static func softmax(_ x: [Float], rows: Int, cols: Int) -> [Double] {
    var out: [Double] = []
    for r in 0..<rows {
      let row = (0..<cols).map { Double(x[r * cols + $0]) }
      let m = row.max() ?? -.infinity
      if m == -.infinity {
        out += Array(repeating: 0, count: cols)
        continue
      }
      let e = row.map { exp($0 - m) }
      let s = e.reduce(0, +)
      out += e.map { $0 / s }
    }
    return out
  }

  static func logSumExp(_ x: [Float], rows: Int, cols: Int) -> [Double] {
    (0..<rows).map { r in
      let row = (0..<cols).map { Double(x[r * cols + $0]) }
      let m = row.max() ?? -.infinity
      if m == -.infinity { return -.infinity }
      return m + log(row.map { exp($0 - m) }.reduce(0, +))
    }
  }

  /// Softmax backward by the full Jacobian: dx_i = Σ_j dy_j · y_j (δ_ij − y_i).
  static func softmaxBackward(y: [Double], dy: [Float], rows: Int, cols: Int) -> [Double] {
    var dx: [Double] = []
    for r in 0..<rows {
      for i in 0..<cols {
        var g = 0.0
        for j in 0..<cols {
          let delta: Double = i == j ? 1 : 0
          g += Double(dy[r * cols + j]) * y[r * cols + j] * (delta - y[r * cols + i])
        }
        dx.append(g)
      }
    }
    return dx
  }
}

/// Random test data.
func uniformArray(_ count: Int, _ lo: Float, _ hi: Float, seed: UInt64) -> [Float] {
  var rng = SeededRNG(seed: seed)
  return (0..<count).map { _ in rng.uniform(lo, hi) }
}

/// nil when |actual − reference| ≤ rel · max(|reference|, floor) for every entry (infinities must match exactly),
/// otherwise a description of the first entry that differs.
func firstMismatch(_ actual: [Float], _ reference: [Double], rel: Double = 1e-5, floor: Double = 1) -> String? {
  guard actual.count == reference.count else { return "\(actual.count) values vs \(reference.count) in the reference" }
  for (i, (a, r)) in zip(actual, reference).enumerated() {
    let ok = r.isInfinite ? Double(a) == r : !a.isNaN && abs(Double(a) - r) <= rel * max(abs(r), floor)
    if !ok { return "entry \(i): \(a) vs reference \(r)" }
  }
  return nil
}
