import Foundation
import TensorCore

/// What `SoftmaxMixing.backward` needs: the mixed inputs and the mixing weights used.
public struct SoftmaxMixingCache {
  public let inputs: [Tensor]
  public let weights: [Float]
}

/// A learned convex combination of same-shaped inputs (GLINT-RU's expert mixing, spec §1.5):
///
///     w = softmax(ω),  y = Σ_i w_i x_i
///
/// ω is the raw parameter (one logit per input); the softmax is recomputed at every forward.
public final class SoftmaxMixing: ParameterContainer {
  /// ω [inputCount]
  public let logits: Parameter

  /// The parameter is named `parameterName` exactly (GLINT-RU: "weights") and starts at zero (equal weights).
  public init(parameterName: String, inputCount: Int) {
    precondition(inputCount >= 1, "SoftmaxMixing \(parameterName): needs at least one input")
    logits = Parameter(name: parameterName, shape: [inputCount])
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  public init(replicaOf other: SoftmaxMixing) {
    logits = Parameter(sharing: other.logits)
  }

  public var parameters: [Parameter] { [logits] }

  /// softmax(ω), computed in Double.
  public var mixingWeights: [Float] {
    let omega = logits.value.array.map(Double.init)
    let m = omega.max() ?? 0
    let e = omega.map { Foundation.exp($0 - m) }
    let total = e.reduce(0, +)
    return e.map { Float($0 / total) }
  }

  public func forward(_ inputs: [Tensor]) -> (Tensor, SoftmaxMixingCache) {
    precondition(inputs.count == logits.count, "SoftmaxMixing: \(inputs.count) inputs for \(logits.count) weights")
    let w = mixingWeights
    let y = Tensor(zeros: inputs[0].shape)
    for (i, x) in inputs.enumerated() {
      precondition(x.count == y.count, "SoftmaxMixing: input \(i) is \(x.shape), input 0 is \(y.shape)")
      ElementwiseKernels.axpy(y.ptr, alpha: w[i], x.ptr, count: y.count)
    }
    return (y, SoftmaxMixingCache(inputs: inputs, weights: w))
  }

  /// dx_i = w_i dy; with g_i = Σ dy ⊙ x_i, dω_j += w_j (g_j − Σ_i w_i g_i) (the softmax Jacobian).
  public func backward(_ dy: Tensor, _ cache: SoftmaxMixingCache) -> [Tensor] {
    let w = cache.weights
    var g: [Double] = []
    var dx: [Tensor] = []
    for (i, x) in cache.inputs.enumerated() {
      precondition(x.count == dy.count, "SoftmaxMixing backward: dy \(dy.shape) for input \(x.shape)")
      g.append(Double(ReductionKernels.dot(dy.ptr, x.ptr, count: dy.count)))
      let d = Tensor(zeros: x.shape)
      ElementwiseKernels.scale(d.ptr, dy.ptr, by: w[i], count: dy.count)
      dx.append(d)
    }
    let mean = zip(w, g).reduce(0.0) { $0 + Double($1.0) * $1.1 }
    for j in 0..<w.count { logits.grad[j] += Float(Double(w[j]) * (g[j] - mean)) }
    return dx
  }
}
