import TensorCore

/// Initialisers. Layers create their parameters filled with zeros (LayerNorm: weight 1); each model initialises
/// its parameters as its specification says, with these helpers and its own seeded generator.
///
/// Fan-in and fan-out follow PyTorch (`torch.nn.init._calculate_fan_in_and_fan_out`): for a weight shaped
/// [out, in, k₁, …] (Linear [out, in], Conv1d [out, in, k]), fan_in = in · Πk and fan_out = out · Πk.
extension Parameter {
  /// N(mean, std²) (`nn.init.normal_`).
  public func initNormal(mean: Float = 0, std: Float, rng: inout SeededRNG) {
    value.fillNormal(mean: mean, std: std, rng: &rng)
  }

  /// U(−bound, bound) (`nn.init.uniform_(-bound, bound)`).
  public func initUniform(bound: Float, rng: inout SeededRNG) {
    value.fillUniform(-bound, bound, rng: &rng)
  }

  /// Every entry set to `constant` (`nn.init.constant_`; zeros for biases, ones for LayerNorm weights).
  public func initConstant(_ constant: Float) {
    value.fill(constant)
  }

  /// Glorot/Xavier uniform: U(−a, a), a = gain · √(6 / (fan_in + fan_out)) (`nn.init.xavier_uniform_`).
  public func initXavierUniform(gain: Float = 1, rng: inout SeededRNG) {
    let (fanIn, fanOut) = fans
    initUniform(bound: gain * (6 / Float(fanIn + fanOut)).squareRoot(), rng: &rng)
  }

  /// Glorot/Xavier normal: N(0, σ²), σ = gain · √(2 / (fan_in + fan_out)) (`nn.init.xavier_normal_`).
  public func initXavierNormal(gain: Float = 1, rng: inout SeededRNG) {
    let (fanIn, fanOut) = fans
    initNormal(std: gain * (2 / Float(fanIn + fanOut)).squareRoot(), rng: &rng)
  }

  /// (fan_in, fan_out) of a weight of rank ≥ 2 shaped [out, in, receptive field…].
  public var fans: (fanIn: Int, fanOut: Int) {
    precondition(shape.count >= 2, "fan-in/fan-out need a weight of rank ≥ 2; \(name) has shape \(shape)")
    let receptiveField = shape.dropFirst(2).reduce(1, *)
    return (shape[1] * receptiveField, shape[0] * receptiveField)
  }
}
