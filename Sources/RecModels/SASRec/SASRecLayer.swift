import NN
import TensorCore

/// What `SASRecLayer.backward` needs from its forward.
struct SASRecLayerCache {
  /// The layer input x [B, T, d] (the input of q, k, v and the attention residual).
  let input: Tensor
  let attention: CausalSelfAttentionCache
  /// The attention output before the `dense` projection [B, T, d].
  let context: Tensor
  let outputDropout: DropoutCache
  let attentionNorm: LayerNormCache
  let feedForward: FeedForwardCache
}

/// One layer of RecBole's `TransformerEncoder` (`layers.py` `TransformerLayer`): the multi-head self-attention
/// block followed by the point-wise feed-forward block, both post-norm:
///
///     a = LayerNorm( Dropout_hidden( dense( Attention(query(x), key(x), value(x)) ) ) + x )
///     y = LayerNorm( Dropout_hidden( dense_2( act( dense_1(a) ) ) ) + a )
///
/// Attention is causal with RecBole's padding mask (keys at padding positions are masked) and its additive −10000
/// mask (`maskValue: -10000`): for every row with at least one item this is exactly a masked softmax, since
/// exp(−10000 + s) underflows to 0 in Float. Attention probabilities go through `attn_dropout_prob` dropout.
/// Parameters: "\(name).multi_head_attention.{query,key,value,dense}.{weight,bias}",
/// ".multi_head_attention.LayerNorm.{weight,bias}", ".feed_forward.{dense_1,dense_2}.{weight,bias}",
/// ".feed_forward.LayerNorm.{weight,bias}" (RecBole's state-dict names).
final class SASRecLayer: ParameterContainer {
  let query: Linear
  let key: Linear
  let value: Linear
  let attention: CausalSelfAttention
  let dense: Linear
  let outputDropout: Dropout
  let attentionNorm: LayerNorm
  let feedForward: FeedForward

  init(name: String, config: SASRecConfig) {
    let (d, attentionName) = (config.hiddenSize, "\(name).multi_head_attention")
    query = Linear(name: "\(attentionName).query", inputSize: d, outputSize: d)
    key = Linear(name: "\(attentionName).key", inputSize: d, outputSize: d)
    value = Linear(name: "\(attentionName).value", inputSize: d, outputSize: d)
    attention = CausalSelfAttention(
      heads: config.headCount, dropout: config.attentionDropoutProbability, maskValue: -10_000)
    dense = Linear(name: "\(attentionName).dense", inputSize: d, outputSize: d)
    outputDropout = Dropout(probability: config.hiddenDropoutProbability)
    attentionNorm = LayerNorm(name: "\(attentionName).LayerNorm", size: d, eps: config.layerNormEpsilon)
    feedForward = FeedForward(
      name: "\(name).feed_forward", size: d, innerSize: config.innerSize, activation: config.hiddenActivation,
      innerDropoutProbability: 0, outputDropoutProbability: config.hiddenDropoutProbability,
      eps: config.layerNormEpsilon, names: .recbole)
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  init(replicaOf other: SASRecLayer) {
    query = Linear(replicaOf: other.query)
    key = Linear(replicaOf: other.key)
    value = Linear(replicaOf: other.value)
    attention = other.attention
    dense = Linear(replicaOf: other.dense)
    outputDropout = Dropout(probability: other.outputDropout.probability)
    attentionNorm = LayerNorm(replicaOf: other.attentionNorm)
    feedForward = FeedForward(replicaOf: other.feedForward)
  }

  var parameters: [Parameter] {
    query.parameters + key.parameters + value.parameters + dense.parameters + attentionNorm.parameters
      + feedForward.parameters
  }

  /// The weights RecBole's `_init_weights` draws from N(0, initializer_range²) (every Linear weight).
  var linearWeights: [Parameter] {
    [query.weight, key.weight, value.weight, dense.weight, feedForward.w1.weight, feedForward.w2.weight]
  }

  /// x [B, T, d] → y [B, T, d]. Randomness is drawn in order: attention, output, then feed-forward dropout.
  func forward(_ x: Tensor, lengths: [Int32], training: Bool, rng: inout SeededRNG) -> (Tensor, SASRecLayerCache) {
    let (q, k, v) = (query.forward(x), key.forward(x), value.forward(x))
    let (context, attentionCache) = attention.forward(
      q: q, k: k, v: v, lengths: lengths, training: training, rng: &rng)
    let (sum, dropoutCache) = outputDropout.forward(dense.forward(context), training: training, rng: &rng)
    ElementwiseKernels.add(sum.ptr, sum.ptr, x.ptr, count: sum.count)  // residual
    let (attended, normCache) = attentionNorm.forward(sum)
    let (y, feedForwardCache) = feedForward.forward(attended, training: training, rng: &rng)
    let cache = SASRecLayerCache(
      input: x, attention: attentionCache, context: context, outputDropout: dropoutCache, attentionNorm: normCache,
      feedForward: feedForwardCache)
    return (y, cache)
  }

  /// Accumulates every parameter's gradient; returns a new dx.
  func backward(_ dy: Tensor, _ cache: SASRecLayerCache) -> Tensor {
    let dAttended = feedForward.backward(dy, cache.feedForward)
    let dSum = attentionNorm.backward(dAttended, cache.attentionNorm)
    let dContext = dense.backward(outputDropout.backward(dSum, cache.outputDropout), input: cache.context)
    let (dq, dk, dv) = attention.backward(dContext, cache.attention)
    let dx = query.backward(dq, input: cache.input)
    for dPart in [key.backward(dk, input: cache.input), value.backward(dv, input: cache.input), dSum] {
      ElementwiseKernels.add(dx.ptr, dx.ptr, dPart.ptr, count: dx.count)  // q, k, v branches and the residual
    }
    return dx
  }
}
