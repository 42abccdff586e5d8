import TensorCore

/// Recurrent (streaming) inference, spec §1.9: one new item per call in O(1) time and memory, giving the same
/// output as the parallel `forward` at that position.
extension GatedRecurrentLayer {
  /// What one user's sequence leaves behind: the last K−1 projected main-branch vectors and the recurrent state.
  public struct State: Sendable, Equatable {
    /// [(K−1)·H], oldest step first; zeros before the first item (the padded steps are zero too).
    public var convHistory: [Float]
    /// h [H].
    public var recurrentState: [Float]
    /// Items consumed so far.
    public var position: Int
  }

  /// The state before the first item: h = h_init (the state after the P padded steps), zero conv history.
  public func initialState() -> State {
    let h = computePrefix().map { $0.finalState.array } ?? [Float](repeating: 0, count: stateDim)
    return State(
      convHistory: [Float](repeating: 0, count: (kernelSize - 1) * stateDim), recurrentState: h, position: 0)
  }

  /// The layer's output [d] for one new input vector x [d], updating `state`.
  public func step(_ x: [Float], state: inout State) -> [Float] {
    precondition(x.count == modelDim, "step input has \(x.count) values, expected \(modelDim)")
    precondition(
      state.recurrentState.count == stateDim && state.convHistory.count == (kernelSize - 1) * stateDim,
      "state does not belong to a layer with H = \(stateDim), K = \(kernelSize)")
    let (d, h, k) = (modelDim, stateDim, kernelSize)
    var output = [Float](repeating: 0, count: d)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * h) { buffer in
      let projection = buffer.baseAddress!  // [2H]: X_x | Z
      let activated = projection + 2 * h  // [H]: conv output, then U = SiLU(·)
      let gateLogits = activated + h  // [2H]
      let decay = gateLogits + 2 * h  // [H]
      let input = decay + h  // [H]: b, then SiLU(Z) ⊙ h
      x.withUnsafeBufferPointer { xb in
        BLAS.gemv(trans: false, m: 2 * h, n: d, a: inputWeight.value.ptr, lda: d, x: xb.baseAddress!, y: projection)
      }
      state.convHistory.withUnsafeMutableBufferPointer { historyBuffer in
        let history = historyBuffer.baseAddress
        let (w, c) = (convWeight.value.ptr, convBias.value.ptr)
        for j in 0..<h {
          var sum = c[j] + w[j * k + k - 1] * projection[j]
          for tap in 0..<(k - 1) { sum += w[j * k + tap] * history![tap * h + j] }
          activated[j] = sum
        }
        if k > 1 {
          // Shift the window by one step and append the current main-branch vector.
          let history = history!
          if k > 2 { history.update(from: history + h, count: (k - 2) * h) }
          (history + (k - 2) * h).update(from: projection, count: h)
        }
      }
      ActivationKernels.siluForward(activated, activated, count: h)
      gateLogits.update(from: gateBias.value.ptr, count: 2 * h)
      BLAS.gemv(
        trans: false, m: 2 * h, n: h, a: gateWeight.value.ptr, lda: h, x: activated, beta: 1, y: gateLogits)
      BDLRUCoefficients.forward(
        decay: decay, input: input, recurrenceLogits: gateLogits, inputLogits: gateLogits + h, logitStride: 2 * h,
        lambda: lambda.value.ptr, u: activated, rows: 1, channels: h)
      state.recurrentState.withUnsafeMutableBufferPointer { hb in
        let hState = hb.baseAddress!
        for j in 0..<h { hState[j] = decay[j] * hState[j] + input[j] }
        Elementwise.gatedMerge(input, state: hState, gate: projection + h, gateStride: h, rows: 1, width: h)
      }
      output.withUnsafeMutableBufferPointer { ob in
        BLAS.gemv(trans: false, m: d, n: h, a: outputWeight.value.ptr, lda: h, x: input, y: ob.baseAddress!)
      }
    }
    state.position += 1
    return output
  }
}
