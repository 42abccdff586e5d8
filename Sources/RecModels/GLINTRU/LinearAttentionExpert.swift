import NN
import TensorCore

/// GLINT-RU's attention expert (spec §1.3; official class `MultiHeadAttention`, names `linearattention.*`):
///
///     q, k, v = Lin_q(X_q), Lin_k(X_k), Lin_v(X_k)
///     o = ELU-norm linear attention (global: every key of the sequence, padding included; or causal)
///     A = LayerNorm( Dropout(Lin_o(o)) + X_q )
///
/// Queries and keys may come from different rows (the faithful model asks one query per sequence, at its last
/// item, against every key of the sequence).
public final class LinearAttentionExpert: ParameterContainer {
  public let query: Linear
  public let key: Linear
  public let value: Linear
  /// `dense`: the output projection.
  public let output: Linear
  public let layerNorm: LayerNorm
  public let core: ELULinearAttention
  public let dropout: PositionalDropout

  init(config: GLINTRUConfig) {
    let d = config.hiddenSize
    query = Linear(name: "linearattention.query", inputSize: d, outputSize: d)
    key = Linear(name: "linearattention.key", inputSize: d, outputSize: d)
    value = Linear(name: "linearattention.value", inputSize: d, outputSize: d)
    output = Linear(name: "linearattention.dense", inputSize: d, outputSize: d)
    layerNorm = LayerNorm(name: "linearattention.LayerNorm", size: d, eps: config.layerNormEps)
    core = ELULinearAttention(headCount: config.headCount, dimension: d)
    dropout = PositionalDropout(probability: config.attentionDropout, site: GLINTRUDropoutSite.attentionOutput.rawValue)
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  init(replicaOf other: LinearAttentionExpert) {
    query = Linear(replicaOf: other.query)
    key = Linear(replicaOf: other.key)
    value = Linear(replicaOf: other.value)
    output = Linear(replicaOf: other.output)
    layerNorm = LayerNorm(replicaOf: other.layerNorm)
    core = other.core  // stateless
    dropout = other.dropout  // stateless
  }

  public var parameters: [Parameter] {
    query.parameters + key.parameters + value.parameters + output.parameters + layerNorm.parameters
  }

  var linears: [Linear] { [query, key, value, output] }

  struct Cache {
    var queryInput: Tensor
    var keyInput: Tensor
    var core: ELULinearAttentionCache
    var attended: Tensor
    var dropout: DropoutCache
    var layerNorm: LayerNormCache
  }

  /// queryInput [queries, d] (its rows at `queryTokens`), keyInput [keys, d] → A [queries, d].
  func forward(
    queryInput: Tensor, keyInput: Tensor, context: ELULinearAttention.Context, queryTokens: [TokenPosition],
    seed: UInt64, training: Bool
  ) -> (Tensor, Cache) {
    let q = query.forward(queryInput)
    let k = key.forward(keyInput)
    let v = value.forward(keyInput)
    let (attended, coreCache) = core.forward(queries: q, keys: k, values: v, context: context)
    let (sum, dropCache) = dropout.forward(
      output.forward(attended), at: queryTokens, seed: seed, training: training)
    ElementwiseKernels.add(sum.ptr, sum.ptr, queryInput.ptr, count: sum.count)  // residual
    let (a, normCache) = layerNorm.forward(sum)
    let cache = Cache(
      queryInput: queryInput, keyInput: keyInput, core: coreCache, attended: attended, dropout: dropCache,
      layerNorm: normCache)
    return (a, cache)
  }

  /// dA → (dQueryInput, dKeyInput) (new tensors; for self-attention the caller adds them).
  func backward(_ dA: Tensor, _ cache: Cache) -> (Tensor, Tensor) {
    let dSum = layerNorm.backward(dA, cache.layerNorm)
    let dAttended = output.backward(dropout.backward(dSum, cache.dropout), input: cache.attended)
    let (dq, dk, dv) = core.backward(dAttended, cache.core)
    let dQueryInput = query.backward(dq, input: cache.queryInput)
    ElementwiseKernels.add(dQueryInput.ptr, dQueryInput.ptr, dSum.ptr, count: dSum.count)  // residual
    let dKeyInput = key.backward(dk, input: cache.keyInput)
    let dFromValues = value.backward(dv, input: cache.keyInput)
    ElementwiseKernels.add(dKeyInput.ptr, dKeyInput.ptr, dFromValues.ptr, count: dKeyInput.count)
    return (dQueryInput, dKeyInput)
  }

  /// One causal streaming step (eval mode): x [1, d] → A [1, d]; `state` holds the per-head d_h × d_h sums.
  func step(_ x: Tensor, state: inout [Float]) -> Tensor {
    let o = core.step(
      query: query.forward(x).array, key: key.forward(x).array, value: value.forward(x).array, state: &state)
    let sum = output.forward(Tensor(shape: [1, core.dimension], values: o))
    ElementwiseKernels.add(sum.ptr, sum.ptr, x.ptr, count: sum.count)
    return layerNorm.forward(sum).0
  }
}
