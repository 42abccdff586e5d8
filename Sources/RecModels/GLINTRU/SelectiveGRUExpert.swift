import NN
import TensorCore

/// GLINT-RU's dense selective GRU expert (spec §1.4, the "Mixed Temporal Block"):
///
///     U = Lin_1(X);  C = Conv_a(U);  H = GRU(C)            (bias-free GRU, h_{−1} = 0)
///     G = Dropout( Lin_g2( SiLU( Lin_g1(C) ) ) )           (selective gate, d → d/2 → d, no sigmoid)
///     Y = Conv_b( G ⊙ Lin_p(H) )
///
/// The faithful model uses centred convolutions (each output reads one step ahead); the causal variant reads
/// K−1 steps back. This file has the all-positions form and the streaming step; the faithful model's shortcut,
/// which runs only the positions its last output depends on, is in `SelectiveGRUExpert+LastPosition.swift`.
public final class SelectiveGRUExpert: ParameterContainer {
  /// `dense1`
  public let inputProjection: Linear
  /// `conv1d` (Conv_a)
  public let inputConv: Conv1d
  /// `gru_layers`
  public let gru: GRU
  /// `projection` (Lin_p, channel crossing)
  public let outputProjection: Linear
  /// `selective_gate.0` and `.2`
  public let gateDown: Linear
  public let gateUp: Linear
  public let gateActivation = Activation(.silu)
  public let gateDropout: PositionalDropout
  /// `conv1dforgru` (Conv_b)
  public let outputConv: Conv1d

  init(config: GLINTRUConfig, padding: Conv1d.Padding) {
    let (d, k) = (config.hiddenSize, config.kernelSize)
    inputProjection = Linear(name: "dense1", inputSize: d, outputSize: d)
    inputConv = Conv1d(name: "conv1d", inputSize: d, outputSize: d, kernelSize: k, padding: padding)
    gru = GRU(name: "gru_layers", inputSize: d, hiddenSize: d, bias: false)
    outputProjection = Linear(name: "projection", inputSize: d, outputSize: d)
    gateDown = Linear(name: "selective_gate.0", inputSize: d, outputSize: config.gateSize)
    gateUp = Linear(name: "selective_gate.2", inputSize: config.gateSize, outputSize: d)
    gateDropout = PositionalDropout(probability: config.gateDropout, site: GLINTRUDropoutSite.selectiveGate.rawValue)
    outputConv = Conv1d(name: "conv1dforgru", inputSize: d, outputSize: d, kernelSize: k, padding: padding)
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  init(replicaOf other: SelectiveGRUExpert) {
    inputProjection = Linear(replicaOf: other.inputProjection)
    inputConv = Conv1d(replicaOf: other.inputConv)
    gru = GRU(replicaOf: other.gru)
    outputProjection = Linear(replicaOf: other.outputProjection)
    gateDown = Linear(replicaOf: other.gateDown)
    gateUp = Linear(replicaOf: other.gateUp)
    gateDropout = other.gateDropout  // stateless
    outputConv = Conv1d(replicaOf: other.outputConv)
  }

  public var parameters: [Parameter] {
    inputProjection.parameters + inputConv.parameters + gru.parameters + outputProjection.parameters
      + gateDown.parameters + gateUp.parameters + outputConv.parameters
  }

  var linears: [Linear] { [inputProjection, outputProjection, gateDown, gateUp] }
  var convolutions: [Conv1d] { [inputConv, outputConv] }

  // MARK: - Selective gate

  struct GateCache {
    var input: Tensor
    var bottleneck: Tensor
    var activation: ActivationCache
    var dropout: DropoutCache
  }

  /// C [rows, d] at `tokens` → G [rows, d].
  func gate(_ c: Tensor, tokens: [TokenPosition], seed: UInt64, training: Bool) -> (Tensor, GateCache) {
    let (activated, activationCache) = gateActivation.forward(gateDown.forward(c))
    let (g, dropCache) = gateDropout.forward(gateUp.forward(activated), at: tokens, seed: seed, training: training)
    return (g, GateCache(input: c, bottleneck: activated, activation: activationCache, dropout: dropCache))
  }

  func gateBackward(_ dG: Tensor, _ cache: GateCache) -> Tensor {
    let dActivated = gateUp.backward(gateDropout.backward(dG, cache.dropout), input: cache.bottleneck)
    return gateDown.backward(gateActivation.backward(dActivated, cache.activation), input: cache.input)
  }

  // MARK: - All positions

  struct Cache {
    var input: Tensor
    var projected: Tensor
    var inputConv: Conv1dCache
    var gru: GRUCache
    var hidden: Tensor
    var projectedHidden: Tensor
    var gate: Tensor
    var gateCache: GateCache
    var outputConv: Conv1dCache
  }

  /// x [batch·steps, d] (sequences of `steps` positions, tokens row-major) → Y [batch·steps, d].
  func forward(_ x: Tensor, batch: Int, steps: Int, tokens: [TokenPosition], seed: UInt64, training: Bool) -> (
    Tensor, Cache
  ) {
    let d = inputProjection.outputSize
    let segments = SequenceSegments.uniform(count: batch, length: steps)
    let u = inputProjection.forward(x)
    let (c, inputConvCache) = inputConv.forward(u, segments: segments)
    let (h, gruCache) = gru.forward(c.reshaped([batch, steps, d]))
    let p = outputProjection.forward(h)
    let (g, gateCache) = gate(c, tokens: tokens, seed: seed, training: training)
    let gated = Tensor(zeros: [batch * steps, d])
    ElementwiseKernels.multiply(gated.ptr, g.ptr, p.ptr, count: gated.count)
    let (y, outputConvCache) = outputConv.forward(gated, segments: segments)
    let cache = Cache(
      input: x, projected: u, inputConv: inputConvCache, gru: gruCache, hidden: h, projectedHidden: p, gate: g,
      gateCache: gateCache, outputConv: outputConvCache)
    return (y, cache)
  }

  /// dY [batch·steps, d] → dx (new).
  func backward(_ dY: Tensor, _ cache: Cache) -> Tensor {
    let dGated = outputConv.backward(dY, cache.outputConv)
    let dGate = Tensor(zeros: dGated.shape)
    let dProjected = Tensor(zeros: dGated.shape)
    ElementwiseKernels.multiply(dGate.ptr, dGated.ptr, cache.projectedHidden.ptr, count: dGated.count)
    ElementwiseKernels.multiply(dProjected.ptr, dGated.ptr, cache.gate.ptr, count: dGated.count)
    let dC = gateBackward(dGate, cache.gateCache)
    let dHidden = outputProjection.backward(dProjected, input: cache.hidden)
    let dCFromGRU = gru.backward(dHidden.reshaped(cache.hidden.shape), cache.gru)
    ElementwiseKernels.add(dC.ptr, dC.ptr, dCFromGRU.ptr, count: dC.count)
    let dU = inputConv.backward(dC, cache.inputConv)
    return inputProjection.backward(dU, input: cache.input)
  }

  // MARK: - Streaming (causal convolutions only)

  /// What one user's stream carries between items: the last K−1 inputs of each convolution and the GRU state.
  public struct StreamingState: Codable, Sendable, Equatable {
    /// Lin_1 outputs of the previous K−1 items, oldest first, [(K−1)·d] (zeros before the first item).
    public var inputWindow: [Float]
    /// G ⊙ Lin_p(H) of the previous K−1 items, [(K−1)·d].
    public var gatedWindow: [Float]
    /// h_{t−1}, [d].
    public var hidden: [Float]
  }

  func initialStreamingState() -> StreamingState {
    let (d, k) = (inputProjection.outputSize, inputConv.kernelSize)
    let zeros = [Float](repeating: 0, count: (k - 1) * d)
    return StreamingState(inputWindow: zeros, gatedWindow: zeros, hidden: [Float](repeating: 0, count: d))
  }

  /// x [1, d] → Y [1, d] for the next position, in O(1) (eval mode).
  func step(_ x: Tensor, state: inout StreamingState) -> Tensor {
    precondition(inputConv.padding == .causal, "streaming needs causal convolutions")
    let d = inputProjection.outputSize
    let u = inputProjection.forward(x)
    let c = Self.slide(&state.inputWindow, adding: u, conv: inputConv)
    var h = Tensor(shape: [1, d], values: state.hidden)
    gru.step(x: c, h: &h)
    state.hidden = h.array
    let (g, _) = gate(c, tokens: [TokenPosition(row: 0, position: 0)], seed: 0, training: false)
    let gated = outputProjection.forward(h)
    ElementwiseKernels.multiply(gated.ptr, gated.ptr, g.ptr, count: d)
    return Self.slide(&state.gatedWindow, adding: gated, conv: outputConv)
  }

  /// Runs `conv` on [window, newest] and drops the oldest entry from the window.
  private static func slide(_ window: inout [Float], adding newest: Tensor, conv: Conv1d) -> Tensor {
    let full = Tensor(shape: [1, conv.kernelSize, conv.inputSize], values: window + newest.array)
    let (y, _) = conv.forwardWindows(full)
    window = Array(full.array.dropFirst(conv.inputSize))
    return y
  }
}
