import TensorCore

/// Finite-difference gradient checking for layers and models.
///
/// The scalar checked is `loss = Σ dy ⊙ y` for a fixed random `dy`, accumulated in Double. Analytic gradients come
/// from one call of `backward(dy)`, which must accumulate into every `Parameter.grad` and into the `grad` tensor of
/// every checked input. Numeric gradients are central differences with step `h` on a sample of entries.
public enum GradCheck {
  public struct Input {
    public let name: String
    public let value: Tensor
    public let grad: Tensor
    public init(_ name: String, value: Tensor, grad: Tensor) {
      self.name = name
      self.value = value
      self.grad = grad
    }
  }

  public struct Mismatch: CustomStringConvertible, Sendable {
    public let tensor: String
    public let index: Int
    public let analytic: Double
    public let numeric: Double
    public var description: String { "\(tensor)[\(index)]: analytic \(analytic) vs numeric \(numeric)" }
  }

  public struct Report: CustomStringConvertible, Sendable {
    public var checked = 0
    public var mismatches: [Mismatch] = []
    public var maxRelativeError = 0.0
    /// Largest |analytic| seen (a check where every gradient is 0 proves nothing; tests assert it is > 0).
    public var maxAbsGradient = 0.0
    public var passed: Bool { mismatches.isEmpty && checked > 0 }
    public var description: String {
      "checked \(checked) entries, max rel err \(maxRelativeError), max |grad| \(maxAbsGradient)"
        + (mismatches.isEmpty ? "" : "; mismatches: " + mismatches.prefix(5).map(\.description).joined(separator: "; "))
    }
  }

  /// Runs the check. `forward` recomputes the output from the current values of parameters and inputs.
  public static func check(
    inputs: [Input] = [], parameters: [Parameter], seed: UInt64 = 1,
    h: Float = 1e-2, relativeTolerance: Double = 1e-2, absoluteTolerance: Double = 1e-3,
    entriesPerTensor: Int = 24,
    forward: () -> Tensor, backward: (Tensor) -> Void
  ) -> Report {
    var rng = SeededRNG(seed: seed)
    let y0 = forward()
    let dy = Tensor(zeros: y0.shape)
    dy.fillUniform(-1, 1, rng: &rng)
    for p in parameters { p.zeroGrad() }
    for i in inputs { i.grad.zero() }
    _ = forward()
    backward(dy)

    func loss() -> Double {
      let y = forward()
      precondition(y.count == dy.count, "forward changed its output shape")
      var s = 0.0
      for i in 0..<y.count { s += Double(y[i]) * Double(dy[i]) }
      return s
    }

    var report = Report()
    var targets: [(String, Tensor, [Float])] = inputs.map { ($0.name, $0.value, $0.grad.array) }
    targets += parameters.map { ($0.name, $0.value, $0.grad.array) }
    for (name, value, analytic) in targets {
      let n = value.count
      let picks: [Int] = n <= entriesPerTensor ? Array(0..<n) : (0..<entriesPerTensor).map { _ in rng.int(below: n) }
      for i in picks {
        let v = value[i]
        value[i] = v + h
        let lp = loss()
        value[i] = v - h
        let lm = loss()
        value[i] = v
        let numeric = (lp - lm) / (2 * Double(h))
        let a = Double(analytic[i])
        let err = abs(a - numeric)
        let scale = max(abs(a), abs(numeric))
        report.checked += 1
        report.maxAbsGradient = max(report.maxAbsGradient, abs(a))
        if scale > absoluteTolerance { report.maxRelativeError = max(report.maxRelativeError, err / scale) }
        if err > absoluteTolerance + relativeTolerance * scale {
          report.mismatches.append(Mismatch(tensor: name, index: i, analytic: a, numeric: numeric))
        }
      }
    }
    _ = forward()
    return report
  }
}
