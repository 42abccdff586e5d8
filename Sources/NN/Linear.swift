import TensorCore

/// y = x · Wᵀ + b over the last dimension (PyTorch `nn.Linear`; weight [out, in], so PyTorch weights load
/// directly). Leading dimensions of x are flattened into rows, and each direction is one BLAS gemm.
public final class Linear: ParameterContainer {
  public let name: String
  public let inputSize: Int
  public let outputSize: Int
  /// [out, in]
  public let weight: Parameter
  /// [out], or nil for a bias-free projection.
  public let bias: Parameter?

  /// Parameters are named "\(name).weight" and "\(name).bias" and start at zero.
  public init(name: String, inputSize: Int, outputSize: Int, bias: Bool = true) {
    precondition(inputSize > 0 && outputSize > 0, "Linear \(name): sizes must be positive")
    self.name = name
    self.inputSize = inputSize
    self.outputSize = outputSize
    self.weight = Parameter(name: "\(name).weight", shape: [outputSize, inputSize])
    self.bias = bias ? Parameter(name: "\(name).bias", shape: [outputSize]) : nil
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  public init(replicaOf other: Linear) {
    name = other.name
    inputSize = other.inputSize
    outputSize = other.outputSize
    weight = Parameter(sharing: other.weight)
    bias = other.bias.map(Parameter.init(sharing:))
  }

  public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

  /// x [..., in] → y [..., out].
  public func forward(_ x: Tensor) -> Tensor {
    let rows = checkedRows(x)
    let y = Tensor(uninitialized: Array(x.shape.dropLast()) + [outputSize])
    if let bias {
      ElementwiseKernels.broadcastRow(y.ptr, bias.value.ptr, rows: rows, cols: outputSize)
    }
    // y (rows×out) = x (rows×in) · Wᵀ (in×out) [+ y holding the bias]
    BLAS.gemm(
      transA: false, transB: true, m: rows, n: outputSize, k: inputSize,
      a: x.ptr, lda: inputSize, b: weight.value.ptr, ldb: inputSize,
      beta: bias == nil ? 0 : 1, c: y.ptr, ldc: outputSize)
    return y
  }

  /// Accumulates dW += dyᵀ · x and db += Σ_rows dy; returns a new dx = dy · W shaped like x.
  public func backward(_ dy: Tensor, input x: Tensor) -> Tensor {
    let rows = checkedRows(x)
    precondition(dy.count == rows * outputSize, "Linear backward: dy \(dy.shape) does not match input \(x.shape)")
    // dW (out×in) += dyᵀ (out×rows) · x (rows×in)
    BLAS.gemm(
      transA: true, transB: false, m: outputSize, n: inputSize, k: rows,
      a: dy.ptr, lda: outputSize, b: x.ptr, ldb: inputSize,
      beta: 1, c: weight.grad.ptr, ldc: inputSize)
    if let bias {
      ReductionKernels.accumulateColumnSums(bias.grad.ptr, dy.ptr, rows: rows, cols: outputSize)
    }
    // dx (rows×in) = dy (rows×out) · W (out×in)
    let dx = Tensor(uninitialized: x.shape)
    BLAS.gemm(
      transA: false, transB: false, m: rows, n: inputSize, k: outputSize,
      a: dy.ptr, lda: outputSize, b: weight.value.ptr, ldb: inputSize,
      beta: 0, c: dx.ptr, ldc: inputSize)
    return dx
  }

  private func checkedRows(_ x: Tensor) -> Int {
    precondition(
      x.shape.last == inputSize, "Linear \(name): input \(x.shape) does not end in \(inputSize)")
    return x.count / inputSize
  }
}
