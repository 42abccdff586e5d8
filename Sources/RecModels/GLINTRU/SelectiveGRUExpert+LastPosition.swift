import NN
import TensorCore

/// The faithful model's shortcut through the selective GRU expert: the output Y at each row's last item only,
/// running the convolutions and the GRU on the positions that output depends on (see `GLINTRULayout`).
extension SelectiveGRUExpert {
  struct LastPositionCache {
    var layout: GLINTRULayout
    var input: Tensor
    var projected: Tensor
    var inputConv: Conv1dCache
    var gru: PackedGRUCache
    /// GRU outputs in the K window slots of each row, [B·K, d] (zero rows outside the sequence).
    var windowHidden: Tensor
    var windowProjected: Tensor
    var windowGate: Tensor
    var gateCache: GateCache
    var outputConv: Conv1dWindowCache
  }

  /// x: the embeddings of the branch rows [ΣT_b, d] → Y at each row's position n_b − 1, [B, d].
  func forwardAtLastPositions(_ x: Tensor, layout: GLINTRULayout, seed: UInt64, training: Bool) -> (
    Tensor, LastPositionCache
  ) {
    let (d, k) = (inputProjection.outputSize, outputConv.kernelSize)
    precondition(inputConv.padding == .centered, "the last-position shortcut is for the centred (faithful) model")
    let u = inputProjection.forward(x)
    let (c, inputConvCache) = inputConv.forward(u, segments: layout.branch)
    let (h, gruCache) = gru.forward(packed: layout.gru.pack(c, segments: layout.branch), layout: layout.gru)
    // The K positions Conv_b reads for the output at n − 1.
    let windowHidden = gatherRows(h, layout.windowPackedRows)
    let windowProjected = outputProjection.forward(windowHidden)
    let (windowGate, gateCache) = gate(
      gatherRows(c, layout.windowBranchRows), tokens: layout.windowTokens, seed: seed, training: training)
    let gated = Tensor(zeros: [layout.batch, k, d])
    ElementwiseKernels.multiply(gated.ptr, windowGate.ptr, windowProjected.ptr, count: gated.count)
    zeroMissingRows(gated, layout.windowBranchRows)  // Conv_b's zero padding outside 0..<L
    let (y, outputConvCache) = outputConv.forwardWindows(gated)
    let cache = LastPositionCache(
      layout: layout, input: x, projected: u, inputConv: inputConvCache, gru: gruCache, windowHidden: windowHidden,
      windowProjected: windowProjected, windowGate: windowGate, gateCache: gateCache, outputConv: outputConvCache)
    return (y, cache)
  }

  /// dY [B, d] → dx for the branch rows [ΣT_b, d] (new).
  func backwardAtLastPositions(_ dY: Tensor, _ cache: LastPositionCache) -> Tensor {
    let layout = cache.layout
    let dGated = outputConv.backwardWindows(dY, cache.outputConv)
    zeroMissingRows(dGated, layout.windowBranchRows)
    let dGate = Tensor(zeros: cache.windowGate.shape)
    let dProjected = Tensor(zeros: cache.windowGate.shape)
    ElementwiseKernels.multiply(dGate.ptr, dGated.ptr, cache.windowProjected.ptr, count: dGate.count)
    ElementwiseKernels.multiply(dProjected.ptr, dGated.ptr, cache.windowGate.ptr, count: dGate.count)
    let dWindowC = gateBackward(dGate, cache.gateCache)
    let dWindowHidden = outputProjection.backward(dProjected, input: cache.windowHidden)
    let dHidden = Tensor(zeros: cache.gru.hidden.shape)
    scatterAddRows(dWindowHidden, layout.windowPackedRows, into: dHidden)
    let dC = layout.gru.unpack(gru.backward(packed: dHidden, cache.gru), segments: layout.branch)
    scatterAddRows(dWindowC, layout.windowBranchRows, into: dC)
    let dU = inputConv.backward(dC, cache.inputConv)
    return inputProjection.backward(dU, input: cache.input)
  }
}
