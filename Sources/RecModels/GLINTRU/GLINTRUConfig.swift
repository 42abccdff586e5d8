import NN

/// GLINT-RU hyper-parameters (spec `glintru.md` §1.1, §1.9, §2.3). Defaults are the official code at HEAD with
/// ML-1M's sequence length: d = 128, 8 heads, L = 200, kernel 3, embedding dropout 0.3 (GRU4Rec's default; the
/// model yaml was not published), hidden dropout 0.2, the three hard-coded dropouts 0.3, LayerNorm eps 1e-12.
public struct GLINTRUConfig: Codable, Sendable, Equatable {
  /// d: embedding size = hidden size.
  public var hiddenSize = 128
  /// H: attention heads (d_h = d/H).
  public var headCount = 8
  /// L = MAX_ITEM_LIST_LENGTH. The faithful model's output depends on L itself (every padding slot is a key).
  public var maxLength = 200
  /// Width of both temporal convolutions (the code hard-codes 3; the paper keeps k symbolic). Odd.
  public var kernelSize = 3
  /// `dropout_prob`: on the item embeddings, at every position including padding.
  public var embeddingDropout: Float = 0.3
  /// `hidden_dropout_prob`: on the attention expert's output projection, before its residual.
  public var attentionDropout: Float = 0.2
  /// At the end of the selective gate.
  public var gateDropout: Float = 0.3
  /// After the mixing projection (`dropmix`), before the residual to the embeddings.
  public var mixDropout: Float = 0.3
  /// After the gated MLP (`dropdense`), before its residual.
  public var outputDropout: Float = 0.3
  public var layerNormEps: Float = 1e-12
  /// How, in training, the padding tokens that only the attention keys see get their embedding-dropout masks.
  public var paddingKeyDropout: PaddingKeyDropout = .perToken

  /// The padding tokens of a row beyond the positions its last output needs from the convolution/GRU branch
  /// (spec §1.11) enter only the attention state, as L − T_b keys.
  public enum PaddingKeyDropout: String, Codable, Sendable, CaseIterable {
    /// Exact (the official computation): each padding token has its own mask, so each is a key of its own; costs
    /// two projections per padding token, which dominates training on short-history data.
    case perToken
    /// Approximation: the row's padding tokens share one mask, so one key of weight L − T_b stands for them (the
    /// eval-mode form). Same expectation per token, correlated across the row's padding.
    case sharedPerRow
  }

  public init() {}

  public var headSize: Int { hiddenSize / headCount }
  /// The selective gate's bottleneck (d/2, hard-coded in the code).
  public var gateSize: Int { hiddenSize / 2 }

  /// Throws a `ModelConfigurationError` naming the first field this configuration cannot be built with.
  public func validate() throws {
    try require(hiddenSize >= 2 && hiddenSize % 2 == 0, "hiddenSize", "must be even and ≥ 2, got \(hiddenSize)")
    try require(
      headCount >= 1 && hiddenSize % headCount == 0, "headCount",
      "must divide hiddenSize \(hiddenSize), got \(headCount)")
    try require(maxLength >= 1, "maxLength", "must be ≥ 1, got \(maxLength)")
    try require(kernelSize >= 1 && kernelSize % 2 == 1, "kernelSize", "must be odd and ≥ 1, got \(kernelSize)")
    for (name, p) in [
      ("embeddingDropout", embeddingDropout), ("attentionDropout", attentionDropout), ("gateDropout", gateDropout),
      ("mixDropout", mixDropout), ("outputDropout", outputDropout),
    ] {
      try require((0..<1).contains(p), name, "must be in [0, 1), got \(p)")
    }
    try require(layerNormEps >= 0 && layerNormEps.isFinite, "layerNormEps", "must be ≥ 0, got \(layerNormEps)")
  }

  /// The same configuration with every dropout off (eval-mode training, as the golden outputs were made).
  public var withoutDropout: GLINTRUConfig {
    var c = self
    (c.embeddingDropout, c.attentionDropout, c.gateDropout, c.mixDropout, c.outputDropout) = (0, 0, 0, 0, 0)
    return c
  }

  /// Named presets. "code" = HEAD `run.py` (d 128, 8 heads) with L = 200; per dataset: "ml-1m" (L 200),
  /// "beauty" and "video-games" (L 100, the HEAD yamls); the "-d64" variants use the first upload's d 64, 4 heads.
  public static let presets: [String: GLINTRUConfig] = {
    var presets: [String: GLINTRUConfig] = ["code": GLINTRUConfig()]
    for (dataset, length) in [("ml-1m", 200), ("beauty", 100), ("video-games", 100)] {
      presets[dataset] = .with { $0.maxLength = length }
      presets["\(dataset)-d64"] = .with {
        $0.maxLength = length
        $0.hiddenSize = 64
        $0.headCount = 4
      }
    }
    return presets
  }()

  static func with(_ edit: (inout GLINTRUConfig) -> Void) -> GLINTRUConfig {
    var c = GLINTRUConfig()
    edit(&c)
    return c
  }
}

/// The dropout layers of GLINT-RU, told apart in `PositionalDropout` mask streams.
enum GLINTRUDropoutSite: UInt64 {
  case embedding = 1
  case attentionOutput
  case selectiveGate
  case mix
  case output
}
