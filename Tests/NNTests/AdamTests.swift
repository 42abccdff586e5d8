import Testing

@testable import NN
@testable import TensorCore

/// Adam against a Double transcription of torch.optim.Adam / AdamW on the quadratic f(θ) = ½ Σ aᵢ (θᵢ − cᵢ)².
@Suite struct AdamTests {
  static let curvature: [Double] = [1, 4, 0.5, 10]
  static let center: [Double] = [0.3, -0.2, 1.5, 0]
  static let start: [Float] = [1, 1, -1, 0.05]

  /// ∇f = a ⊙ (θ − c), written into the parameter's gradient.
  static func setQuadraticGradient(_ p: Parameter) {
    for i in 0..<p.count { p.grad[i] = Float(curvature[i] * (Double(p.value[i]) - center[i])) }
  }

  /// torch.optim.Adam(W), step by step, in Double.
  static func referenceTrajectory(
    steps: Int, lr: Double, weightDecay: Double = 0, decoupled: Bool = false, maxNorm: Double? = nil
  ) -> [[Double]] {
    let (b1, b2, eps) = (0.9, 0.999, 1e-8)
    var theta = start.map(Double.init)
    var m = [Double](repeating: 0, count: theta.count)
    var v = m
    var trajectory: [[Double]] = []
    for t in 1...steps {
      var g = (0..<theta.count).map { curvature[$0] * (theta[$0] - center[$0]) }
      if let maxNorm {
        let norm = g.map { $0 * $0 }.reduce(0, +).squareRoot()
        let coefficient = min(1, maxNorm / (norm + 1e-6))
        g = g.map { $0 * coefficient }
      }
      for i in 0..<theta.count {
        if decoupled { theta[i] *= 1 - lr * weightDecay } else { g[i] += weightDecay * theta[i] }
        m[i] = b1 * m[i] + (1 - b1) * g[i]
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
        let mHat = m[i] / (1 - pow(b1, Double(t)))
        let vHat = v[i] / (1 - pow(b2, Double(t)))
        theta[i] -= lr * mHat / (vHat.squareRoot() + eps)
      }
      trajectory.append(theta)
    }
    return trajectory
  }

  static func pow(_ x: Double, _ n: Double) -> Double { (0..<Int(n)).reduce(1) { r, _ in r * x } }

  static func run(_ configuration: Adam.Configuration, steps: Int) -> (trajectory: [[Float]], norms: [Float?]) {
    let p = Parameter(name: "theta", shape: [start.count])
    for i in 0..<start.count { p.value[i] = start[i] }
    let adam = Adam(parameters: [p], configuration: configuration)
    var trajectory: [[Float]] = []
    var norms: [Float?] = []
    for _ in 0..<steps {
      p.zeroGrad()
      setQuadraticGradient(p)
      norms.append(adam.step())
      trajectory.append(p.value.array)
    }
    #expect(adam.stepCount == steps)
    return (trajectory, norms)
  }

  static func expectClose(_ actual: [[Float]], _ reference: [[Double]]) {
    #expect(actual.count == reference.count)
    for (a, r) in zip(actual, reference) {
      for (x, y) in zip(a, r) { #expect(abs(Double(x) - y) <= 1e-5 * max(1, abs(y)), "\(a) vs \(r)") }
    }
  }

  @Test func firstStepMovesEachCoordinateByTheLearningRate() {
    // Step 1 by hand: m̂ = g, v̂ = g², so θ₁ = θ₀ − lr · g / (|g| + ε) = θ₀ − lr · sign(g) (up to ε).
    let (trajectory, norms) = AdamTests.run(Adam.Configuration(learningRate: 0.1), steps: 1)
    for (actual, expected) in zip(trajectory[0], [0.9, 0.9, -0.9, -0.05]) {
      #expect(abs(Double(actual) - expected) <= 1e-6)
    }
    #expect(norms == [nil])
  }

  @Test func threeStepsMatchTorchAdam() {
    let (trajectory, _) = AdamTests.run(Adam.Configuration(learningRate: 0.1), steps: 3)
    AdamTests.expectClose(trajectory, AdamTests.referenceTrajectory(steps: 3, lr: 0.1))
  }

  @Test func defaultsAreTorchDefaults() {
    let c = Adam.Configuration()
    #expect(c.learningRate == 1e-3 && c.beta1 == 0.9 && c.beta2 == 0.999 && c.epsilon == 1e-8)
    #expect(c.weightDecay == 0 && !c.decoupledWeightDecay && c.maxGradientNorm == nil)
  }

  @Test func l2WeightDecayMatchesTorchAdam() {
    let (trajectory, _) = AdamTests.run(Adam.Configuration(learningRate: 0.05, weightDecay: 0.5), steps: 3)
    AdamTests.expectClose(trajectory, AdamTests.referenceTrajectory(steps: 3, lr: 0.05, weightDecay: 0.5))
  }

  @Test func decoupledWeightDecayMatchesTorchAdamW() {
    let configuration = Adam.Configuration(learningRate: 0.05, weightDecay: 0.5, decoupledWeightDecay: true)
    let (trajectory, _) = AdamTests.run(configuration, steps: 3)
    AdamTests.expectClose(
      trajectory, AdamTests.referenceTrajectory(steps: 3, lr: 0.05, weightDecay: 0.5, decoupled: true))
  }

  @Test func gradientClippingMatchesTorchAndReportsTheNorm() {
    let (trajectory, norms) = AdamTests.run(Adam.Configuration(learningRate: 0.1, maxGradientNorm: 0.5), steps: 3)
    AdamTests.expectClose(trajectory, AdamTests.referenceTrajectory(steps: 3, lr: 0.1, maxNorm: 0.5))
    // Norm of the first gradient a ⊙ (θ₀ − c) = [0.7, 4.8, −1.25, 0.5].
    let firstNorm = (0.49 + 23.04 + 1.5625 + 0.25).squareRoot()
    #expect(abs(Double(norms[0]!) - firstNorm) <= 1e-5 * firstNorm)
  }

  @Test func clippingLeavesSmallGradientsAlone() {
    let p = Parameter(name: "p", shape: [2])
    p.grad[0] = 0.3
    p.grad[1] = -0.4
    #expect(abs(Adam.clipGradientNorm([p], maxNorm: 1) - 0.5) < 1e-6)
    #expect(p.grad.array == [0.3, -0.4])
    #expect(abs(Adam.clipGradientNorm([p], maxNorm: 0.25) - 0.5) < 1e-6)
    #expect(abs(p.grad[0] - 0.15) < 1e-6 && abs(p.grad[1] + 0.2) < 1e-6)
  }
}
