import TensorCore

/// What `Conv1d.backward` needs: the zero-padded input and the tap-major weights the forward used.
public struct Conv1dCache {
  /// Every segment with its zero rows around it, [segments.totalLength + segments.count·(K−1), in].
  public let paddedInput: Tensor
  /// [K, out, in]: tap k is the matrix W[:, :, k].
  public let taps: Tensor
  public let segments: SequenceSegments
}

/// What `Conv1d.backwardWindows` needs.
public struct Conv1dWindowCache {
  /// [rows, K, in]
  public let windows: Tensor
  public let taps: Tensor
}

/// Full (channel-mixing) 1-D convolution along time over each sequence, with zero padding (PyTorch `nn.Conv1d`,
/// weight [out, in, K], so PyTorch weights load directly):
///
///     y_t = b + Σ_k W[:, :, k] · x_{t + k − left}     (x outside the sequence is 0)
///
/// `.centered` pads left = (K−1)/2 on each side (odd K; PyTorch `padding = (K−1)/2`), `.causal` pads K−1 on the
/// left only, so y_t reads x_{t−K+1} … x_t. Each tap is one gemm over all sequences at once: the sequences are
/// copied into a buffer with K−1 zero rows between them, so shifting the whole buffer by one row never mixes two
/// sequences.
public final class Conv1d: ParameterContainer {
  public enum Padding: String, Sendable, Codable {
    case centered
    case causal
  }

  public let name: String
  public let inputSize: Int
  public let outputSize: Int
  public let kernelSize: Int
  public let padding: Padding
  /// [out, in, K]
  public let weight: Parameter
  /// [out]
  public let bias: Parameter

  /// Parameters are named "\(name).weight" and "\(name).bias" and start at zero.
  public init(name: String, inputSize: Int, outputSize: Int, kernelSize: Int, padding: Padding) {
    precondition(inputSize > 0 && outputSize > 0 && kernelSize > 0, "Conv1d \(name): sizes must be positive")
    precondition(
      padding == .causal || kernelSize % 2 == 1, "Conv1d \(name): a centred kernel needs an odd size, not \(kernelSize)"
    )
    self.name = name
    self.inputSize = inputSize
    self.outputSize = outputSize
    self.kernelSize = kernelSize
    self.padding = padding
    weight = Parameter(name: "\(name).weight", shape: [outputSize, inputSize, kernelSize])
    bias = Parameter(name: "\(name).bias", shape: [outputSize])
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  public init(replicaOf other: Conv1d) {
    name = other.name
    inputSize = other.inputSize
    outputSize = other.outputSize
    kernelSize = other.kernelSize
    padding = other.padding
    weight = Parameter(sharing: other.weight)
    bias = Parameter(sharing: other.bias)
  }

  public var parameters: [Parameter] { [weight, bias] }

  /// Zero rows before each sequence (the rest of the K−1 go after it).
  public var leftPadding: Int { padding == .causal ? kernelSize - 1 : (kernelSize - 1) / 2 }

  /// PyTorch's default initialisation (`reset_parameters`): weight and bias U(±1/√(in·K)).
  public func initializeDefault(rng: inout SeededRNG) {
    let bound = 1 / Float(inputSize * kernelSize).squareRoot()
    weight.initUniform(bound: bound, rng: &rng)
    bias.initUniform(bound: bound, rng: &rng)
  }

  /// W rearranged to [K, out, in], so each tap is a contiguous matrix for gemm.
  func tapMajorWeights() -> Tensor {
    let (out, inp, k) = (outputSize, inputSize, kernelSize)
    let taps = Tensor(zeros: [k, out, inp])
    let (w, t) = (weight.value.ptr, taps.ptr)
    for o in 0..<out {
      for i in 0..<inp {
        for j in 0..<k { t[(j * out + o) * inp + i] = w[(o * inp + i) * k + j] }
      }
    }
    return taps
  }

  /// weight.grad[o, i, k] += tapGrads[k, o, i].
  func accumulateTapGradients(_ tapGrads: Tensor) {
    let (out, inp, k) = (outputSize, inputSize, kernelSize)
    let (g, t) = (weight.grad.ptr, tapGrads.ptr)
    for o in 0..<out {
      for i in 0..<inp {
        for j in 0..<k { g[(o * inp + i) * k + j] += t[(j * out + o) * inp + i] }
      }
    }
  }

  // MARK: - Forward and backward over whole sequences

  /// x [segments.totalLength, in] (or [B, T, in] with uniform segments) → y of the same rows, [.., out].
  public func forward(_ x: Tensor, segments: SequenceSegments) -> (Tensor, Conv1dCache) {
    precondition(
      x.shape.last == inputSize && x.count == segments.totalLength * inputSize,
      "Conv1d \(name): input \(x.shape) is not [\(segments.totalLength), \(inputSize)]")
    let (gap, left, inp, out) = (kernelSize - 1, leftPadding, inputSize, outputSize)
    let paddedRows = segments.totalLength + segments.count * gap
    let padded = Tensor(zeros: [paddedRows, inp])
    // Sequence b starts at padded row offsets[b] + left + b·gap.
    for b in 0..<segments.count {
      let r = segments.range(b)
      (padded.ptr + (r.lowerBound + left + b * gap) * inp).update(
        from: x.ptr + r.lowerBound * inp, count: r.count * inp)
    }
    let taps = tapMajorWeights()
    // Output row j of `full` belongs to padded row left + j: y = b + Σ_k padded[j + k] · W_kᵀ.
    let fullRows = paddedRows - gap
    let full = Tensor(zeros: [max(fullRows, 0), out])
    if fullRows > 0 {
      ElementwiseKernels.broadcastRow(full.ptr, bias.value.ptr, rows: fullRows, cols: out)
      for k in 0..<kernelSize {
        BLAS.gemm(
          transA: false, transB: true, m: fullRows, n: out, k: inp, a: padded.ptr + k * inp, lda: inp,
          b: taps.ptr + k * out * inp, ldb: inp, beta: 1, c: full.ptr, ldc: out)
      }
    }
    let y = Tensor(zeros: Array(x.shape.dropLast()) + [out])
    for b in 0..<segments.count {
      let r = segments.range(b)
      (y.ptr + r.lowerBound * out).update(from: full.ptr + (r.lowerBound + b * gap) * out, count: r.count * out)
    }
    return (y, Conv1dCache(paddedInput: padded, taps: taps, segments: segments))
  }

  /// Accumulates dW, db; returns a new dx shaped like the input.
  public func backward(_ dy: Tensor, _ cache: Conv1dCache) -> Tensor {
    let segments = cache.segments
    precondition(
      dy.count == segments.totalLength * outputSize, "Conv1d \(name): dy \(dy.shape) for \(segments.totalLength) rows")
    let (gap, left, inp, out) = (kernelSize - 1, leftPadding, inputSize, outputSize)
    let paddedRows = cache.paddedInput.shape[0]
    let fullRows = paddedRows - gap
    let dx = Tensor(zeros: Array(dy.shape.dropLast()) + [inp])
    if fullRows <= 0 { return dx }
    // dfull: dy in the padded layout, zero in the rows between sequences (so they contribute nothing).
    let dfull = Tensor(zeros: [fullRows, out])
    for b in 0..<segments.count {
      let r = segments.range(b)
      (dfull.ptr + (r.lowerBound + b * gap) * out).update(from: dy.ptr + r.lowerBound * out, count: r.count * out)
    }
    ReductionKernels.accumulateColumnSums(bias.grad.ptr, dy.ptr, rows: segments.totalLength, cols: out)
    let tapGrads = Tensor(zeros: [kernelSize, out, inp])
    let dpadded = Tensor(zeros: [paddedRows, inp])
    for k in 0..<kernelSize {
      // dW_k (out×in) += dfullᵀ · padded[k ..< k + fullRows];  dpadded[k ..< k + fullRows] += dfull · W_k
      BLAS.gemm(
        transA: true, transB: false, m: out, n: inp, k: fullRows, a: dfull.ptr, lda: out,
        b: cache.paddedInput.ptr + k * inp, ldb: inp, beta: 0, c: tapGrads.ptr + k * out * inp, ldc: inp)
      BLAS.gemm(
        transA: false, transB: false, m: fullRows, n: inp, k: out, a: dfull.ptr, lda: out,
        b: cache.taps.ptr + k * out * inp, ldb: inp, beta: 1, c: dpadded.ptr + k * inp, ldc: inp)
    }
    accumulateTapGradients(tapGrads)
    for b in 0..<segments.count {
      let r = segments.range(b)
      (dx.ptr + r.lowerBound * inp).update(
        from: dpadded.ptr + (r.lowerBound + left + b * gap) * inp, count: r.count * inp)
    }
    return dx
  }

  // MARK: - One output per window

  /// The output at one position per row, given the K inputs it reads: windows [rows, K, in] (window slot k holds
  /// x_{t+k−left}, zeros where that is outside the sequence) → y [rows, out]. Used where only a few positions of a
  /// sequence are needed, and by streaming steps.
  public func forwardWindows(_ windows: Tensor) -> (Tensor, Conv1dWindowCache) {
    let (k, inp, out) = (kernelSize, inputSize, outputSize)
    precondition(
      windows.count % (k * inp) == 0, "Conv1d \(name): windows \(windows.shape) are not [rows, \(k), \(inp)]")
    let rows = windows.count / (k * inp)
    let taps = tapMajorWeights()
    let y = Tensor(zeros: [rows, out])
    ElementwiseKernels.broadcastRow(y.ptr, bias.value.ptr, rows: rows, cols: out)
    for j in 0..<k {
      BLAS.gemm(
        transA: false, transB: true, m: rows, n: out, k: inp, a: windows.ptr + j * inp, lda: k * inp,
        b: taps.ptr + j * out * inp, ldb: inp, beta: 1, c: y.ptr, ldc: out)
    }
    return (y, Conv1dWindowCache(windows: windows, taps: taps))
  }

  /// Accumulates dW, db; returns dwindows [rows, K, in].
  public func backwardWindows(_ dy: Tensor, _ cache: Conv1dWindowCache) -> Tensor {
    let (k, inp, out) = (kernelSize, inputSize, outputSize)
    let rows = cache.windows.count / (k * inp)
    precondition(dy.count == rows * out, "Conv1d \(name): dy \(dy.shape) for \(rows) windows")
    ReductionKernels.accumulateColumnSums(bias.grad.ptr, dy.ptr, rows: rows, cols: out)
    let tapGrads = Tensor(zeros: [k, out, inp])
    let dwindows = Tensor(zeros: cache.windows.shape)
    for j in 0..<k {
      BLAS.gemm(
        transA: true, transB: false, m: out, n: inp, k: rows, a: dy.ptr, lda: out,
        b: cache.windows.ptr + j * inp, ldb: k * inp, beta: 0, c: tapGrads.ptr + j * out * inp, ldc: inp)
      BLAS.gemm(
        transA: false, transB: false, m: rows, n: inp, k: out, a: dy.ptr, lda: out,
        b: cache.taps.ptr + j * out * inp, ldb: inp, beta: 0, c: dwindows.ptr + j * inp, ldc: k * inp)
    }
    accumulateTapGradients(tapGrads)
    return dwindows
  }
}
