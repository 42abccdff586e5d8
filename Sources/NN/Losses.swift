import TensorCore

/// Losses with their gradients, computed in one fused pass. Every loss is the **mean** over its rows/entries,
/// accumulated in Double; `scale` multiplies the returned gradient (not the loss), e.g. by an upstream dL or a
/// micro-batch weight. Everything is computed in logit space (log-sum-exp, softplus), never as log(softmax) or
/// log(σ), so large logits cannot overflow into inf/NaN.
public enum Losses {
  // MARK: Softmax cross-entropy over all columns

  /// Mean over rows of logsumexp(logits[r]) − logits[r, targets[r]] for logits [B, N], with
  /// dlogits = (softmax(logits) − onehot(targets)) · scale / B written into `gradient` ([B, N]; it may be `logits`
  /// itself, which saves a B × N buffer). A row whose entries are all −∞ has loss +∞ and a zero gradient.
  public static func softmaxCrossEntropy(
    logits: Tensor, targets: [Int32], scale: Float = 1, gradientInto gradient: Tensor
  ) -> Float {
    let (rows, cols) = logits.matrixShape
    precondition(targets.count == rows, "softmaxCrossEntropy: \(targets.count) targets for \(rows) rows of logits")
    precondition(gradient.count == logits.count, "softmaxCrossEntropy: gradient \(gradient.shape) for \(logits.shape)")
    for (row, t) in targets.enumerated() {
      precondition(t >= 0 && Int(t) < cols, "softmaxCrossEntropy: target \(t) of row \(row) is outside 0..<\(cols)")
    }
    let rowLoss = UnsafeMutablePointer<Double>.allocate(capacity: max(rows, 1))
    defer { rowLoss.deallocate() }
    let k = scale / Float(max(rows, 1))
    let x = logits.ptr
    let g = gradient.ptr
    targets.withUnsafeBufferPointer { targets in
      let minRows = max(1, ElementwiseKernels.parallelThreshold / 2 / max(cols, 1))
      Parallel.forEachChunk(rows, minPerThread: minRows) { range in
        for r in range {
          rowLoss[r] = SoftmaxKernels.crossEntropyRow(
            g + r * cols, x + r * cols, count: cols, target: Int(targets[r]), gradientScale: k)
        }
      }
    }
    var total = 0.0
    for r in 0..<rows { total += rowLoss[r] }
    return Float(total / Double(max(rows, 1)))
  }

  /// As `softmaxCrossEntropy(logits:targets:scale:gradientInto:)`, returning a new gradient tensor.
  public static func softmaxCrossEntropy(
    logits: Tensor, targets: [Int32], scale: Float = 1
  ) -> (loss: Float, dlogits: Tensor) {
    let dlogits = Tensor(zeros: logits.shape)
    let loss = softmaxCrossEntropy(logits: logits, targets: targets, scale: scale, gradientInto: dlogits)
    return (loss, dlogits)
  }

  // MARK: BPR

  /// Mean of −log σ(pos − neg) = softplus(neg − pos) over paired scores of equal shape, with
  /// dpositive = −σ(neg − pos) · scale / n and dnegative = −dpositive.
  public static func bpr(
    positive: Tensor, negative: Tensor, scale: Float = 1
  ) -> (loss: Float, dpositive: Tensor, dnegative: Tensor) {
    precondition(positive.count == negative.count, "bpr: \(positive.shape) positive vs \(negative.shape) negative")
    let n = positive.count
    let k = scale / Float(max(n, 1))
    let dpositive = Tensor(zeros: positive.shape)
    let dnegative = Tensor(zeros: negative.shape)
    let (p, q, dp, dq) = (positive.ptr, negative.ptr, dpositive.ptr, dnegative.ptr)
    var total = 0.0
    for i in 0..<n {
      let margin = q[i] - p[i]
      total += Double(ActivationKernels.softplus(margin))
      let g = k * ActivationKernels.sigmoid(margin)
      dp[i] = -g
      dq[i] = g
    }
    return (Float(total / Double(max(n, 1))), dpositive, dnegative)
  }

  // MARK: Binary cross-entropy with logits

  /// Mean of logAddExp(0, x) − t·x = softplus(x) − t·x (= −t log σ(x) − (1 − t) log(1 − σ(x))) over logits x and
  /// targets t in [0, 1] of equal shape, with dlogits = (σ(x) − t) · scale / n.
  public static func binaryCrossEntropyWithLogits(
    logits: Tensor, targets: Tensor, scale: Float = 1
  ) -> (loss: Float, dlogits: Tensor) {
    precondition(logits.count == targets.count, "bce: \(logits.shape) logits vs \(targets.shape) targets")
    let n = logits.count
    let k = scale / Float(max(n, 1))
    let dlogits = Tensor(zeros: logits.shape)
    let (x, t, dx) = (logits.ptr, targets.ptr, dlogits.ptr)
    var total = 0.0
    for i in 0..<n {
      total += Double(ActivationKernels.softplus(x[i])) - Double(t[i]) * Double(x[i])
      dx[i] = k * (ActivationKernels.sigmoid(x[i]) - t[i])
    }
    return (Float(total / Double(max(n, 1))), dlogits)
  }
}
