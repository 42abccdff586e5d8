import NN

/// RecBLR hyper-parameters (spec §3.1); defaults are the official ML-1M config.
public struct RecBLRConfig: Codable, Sendable, Equatable {
  /// d: embedding and model width.
  public var hiddenSize = 64
  /// E: the recurrent state is H = E·d wide.
  public var expand = 2
  /// K: depthwise causal conv width.
  public var convWidth = 4
  public var layerCount = 2
  /// One probability for all four dropout sites (embedding, after the recurrent layer, inside and after the FFN).
  public var dropout: Float = 0.2
  /// L: the longest history read; also fixes the embedding padding P = nextPow2(L) − L.
  public var maxLength = 200
  public var layerNormEps: Float = 1e-12
  /// Where the P padding steps go: the official code's `beforeConv` (the published numbers) or the paper's text.
  public var padding: GatedRecurrentLayer.Padding = .beforeConv

  public init() {}

  public var stateSize: Int { expand * hiddenSize }

  /// Throws a `ModelConfigurationError` naming the first invalid field.
  public func validate() throws {
    try require(hiddenSize >= 1, "hiddenSize", "must be ≥ 1, got \(hiddenSize)")
    try require(expand >= 1, "expand", "must be ≥ 1, got \(expand)")
    try require(convWidth >= 1, "convWidth", "must be ≥ 1, got \(convWidth)")
    try require(layerCount >= 1, "layerCount", "must be ≥ 1, got \(layerCount)")
    try require((0..<1).contains(dropout), "dropout", "must be in [0, 1), got \(dropout)")
    try require(maxLength >= 1, "maxLength", "must be ≥ 1, got \(maxLength)")
    try require(layerNormEps >= 0 && layerNormEps.isFinite, "layerNormEps", "must be ≥ 0, got \(layerNormEps)")
  }

  /// Named presets (spec §3.1): the official ML-1M config and the paper's per-dataset dropout and L.
  public static let presets: [String: RecBLRConfig] = [
    "ml-1m": RecBLRConfig(),
    "beauty": .with {
      $0.dropout = 0.5; $0.maxLength = 50
    },
    "sports": .with {
      $0.dropout = 0.5; $0.maxLength = 50
    },
  ]

}

extension GatedRecurrentLayer.Padding: Codable {}
