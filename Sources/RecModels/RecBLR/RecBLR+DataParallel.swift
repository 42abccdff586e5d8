import NN
import TensorCore

extension RecBLR: ReplicableRecommender {
  /// A data-parallel replica: same config, every parameter value shared with this model, private gradients and
  /// layer buffers.
  public func replica() -> RecBLR { RecBLR(replicaOf: self) }
}

extension RecBLR: FLOPCounting {
  /// Per position and layer (d = hiddenSize, H = stateSize, K = convWidth):
  /// input projection 2·d·2H + conv 2·K·H + gates 2·H·2H + recurrence 2·H + output 2·H·d + FFN 2·(2·d·4d);
  /// per scored row the tied logits 2·d·N. For ML-1M (d 64, H 128, K 4, N 3417): 181,504 per layer-position
  /// and 437,376 per scored row, so one all-positions training target costs 3·(2·181,504 + 437,376) ≈ 2.40 MFLOP.
  public func forwardFLOPs(positions: Int, scoredRows: Int) -> Double {
    let (d, h, k) = (Double(config.hiddenSize), Double(config.stateSize), Double(config.convWidth))
    let perLayer = 2 * d * 2 * h + 2 * k * h + 2 * h * 2 * h + 2 * h + 2 * h * d + 2 * (2 * d * 4 * d)
    let encoder = Double(config.layerCount) * perLayer * Double(positions)
    return encoder + 2 * d * Double(itemCount) * Double(scoredRows)
  }
}

extension RecBLRBlock {
  convenience init(replicaOf other: RecBLRBlock) {
    self.init(
      recurrent: GatedRecurrentLayer(replicaOf: other.recurrent),
      dropout: Dropout(probability: other.dropout.probability),
      layerNorm: LayerNorm(replicaOf: other.layerNorm), feedForward: FeedForward(replicaOf: other.feedForward))
  }
}
