import Foundation
import TensorCore

/// What `GRU.backward` needs from one forward pass.
public struct GRUCache {
  /// The input rows that were run, packed [B, steps, I] (the caller's x itself when steps == T).
  public let input: Tensor
  /// Time steps run (≤ T); later positions have zero output and get zero input gradient.
  public let steps: Int
  /// Gate activations r, z, n of every step run, [B, steps, 3H].
  public let gates: Tensor
  /// Recurrent part of the candidate before the reset gate, W_hn h_{t−1} + b_hn, [B, steps, H].
  public let candidateRecurrent: Tensor
  /// Hidden states h_t, [B, T, H]: the tensor `forward` returned (do not modify it before backward).
  public let hidden: Tensor
}

/// Single-layer GRU with PyTorch's convention (`torch.nn.GRU`, `batch_first=True`, gate order r, z, n):
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr)
///     z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 − z) ⊙ n + z ⊙ h,      h_{−1} = 0
///
/// The input projection of all time steps is one gemm before the time loop; each step does one gemm h·W_hhᵀ over
/// the batch (mlx-swift `GRU`). Backward through time mirrors it: one gemm per step for dW_hh and for the carried
/// dh, and one gemm each for dW_ih and dx at the end.
public final class GRU: ParameterContainer {
  public let inputSize: Int
  public let hiddenSize: Int
  /// [3H, I], rows stacked [W_ir; W_iz; W_in].
  public let weightIH: Parameter
  /// [3H, H], rows stacked [W_hr; W_hz; W_hn].
  public let weightHH: Parameter
  /// [3H] or nil for a bias-free GRU.
  public let biasIH: Parameter?
  /// [3H] or nil for a bias-free GRU.
  public let biasHH: Parameter?

  /// Parameters start at zero (models initialise them); names follow PyTorch (`<name>.weight_ih_l0`, …).
  public init(name: String, inputSize: Int, hiddenSize: Int, bias: Bool = true) {
    precondition(inputSize >= 1 && hiddenSize >= 1, "GRU \(name): sizes must be ≥ 1")
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    weightIH = Parameter(name: "\(name).weight_ih_l0", shape: [3 * hiddenSize, inputSize])
    weightHH = Parameter(name: "\(name).weight_hh_l0", shape: [3 * hiddenSize, hiddenSize])
    biasIH = bias ? Parameter(name: "\(name).bias_ih_l0", shape: [3 * hiddenSize]) : nil
    biasHH = bias ? Parameter(name: "\(name).bias_hh_l0", shape: [3 * hiddenSize]) : nil
  }

  /// A data-parallel replica: parameter values shared with `other`, private gradients.
  public init(replicaOf other: GRU) {
    inputSize = other.inputSize
    hiddenSize = other.hiddenSize
    weightIH = Parameter(sharing: other.weightIH)
    weightHH = Parameter(sharing: other.weightHH)
    biasIH = other.biasIH.map(Parameter.init(sharing:))
    biasHH = other.biasHH.map(Parameter.init(sharing:))
  }

  public var parameters: [Parameter] { [weightIH, weightHH] + [biasIH, biasHH].compactMap { $0 } }

  /// Rows per worker for the elementwise step kernels, so tiny batches stay on one thread.
  var rowsPerThread: Int { max(1, 16_384 / (3 * hiddenSize)) }

  // MARK: - Forward

  /// x [B, T, I] → hidden states [B, T, H]. Only the first `steps` (default T) positions are run; later outputs
  /// are 0. With h_{−1} = 0, positions before `steps` are identical to a full run.
  public func forward(_ x: Tensor, steps: Int? = nil) -> (Tensor, GRUCache) {
    precondition(
      x.rank == 3 && x.shape[2] == inputSize, "GRU: input must be [B, T, \(inputSize)], got \(x.shape)")
    let (batch, length, hidden) = (x.shape[0], x.shape[1], hiddenSize)
    let steps = steps ?? length
    precondition(steps >= 0 && steps <= length, "GRU: steps = \(steps) is outside 0...\(length)")
    let input = steps == length ? x : packPrefix(x, steps: steps)
    let gates = Tensor(zeros: [batch, steps, 3 * hidden])
    let candidateRecurrent = Tensor(zeros: [batch, steps, hidden])
    let out = Tensor(zeros: [batch, length, hidden])
    if steps == 0 {
      return (out, GRUCache(input: input, steps: 0, gates: gates, candidateRecurrent: candidateRecurrent, hidden: out))
    }
    // Input projection of every step at once: gi [B·steps, 3H] = x · W_ihᵀ + b_ih (kept in `gates`, then
    // overwritten step by step with the activations).
    projectInput(input.ptr, rows: batch * steps, into: gates.ptr)
    let recurrent = Tensor(zeros: [batch, 3 * hidden])
    let (gp, cp, hp, rp) = (gates.ptr, candidateRecurrent.ptr, out.ptr, recurrent.ptr)
    let bhh = biasHH.map { UnsafePointer($0.value.ptr) }
    let rowsPerThread = self.rowsPerThread
    for t in 0..<steps {
      // recurrent [B, 3H] = h_{t−1} · W_hhᵀ  (h_{t−1} rows are strided by T·H in `out`)
      if t > 0 {
        BLAS.gemm(
          transA: false, transB: true, m: batch, n: 3 * hidden, k: hidden,
          a: hp + (t - 1) * hidden, lda: length * hidden, b: weightHH.value.ptr, ldb: hidden,
          c: rp, ldc: 3 * hidden)
      }
      Parallel.forEachChunk(batch, minPerThread: rowsPerThread) { rows in
        for b in rows {
          let gate = gp + (b * steps + t) * 3 * hidden
          gruCell(
            inputProjection: gate, recurrent: rp + b * 3 * hidden, biasHH: bhh,
            previous: t > 0 ? UnsafePointer(hp + (b * length + t - 1) * hidden) : nil, hiddenSize: hidden,
            gates: gate, candidateRecurrent: cp + (b * steps + t) * hidden, next: hp + (b * length + t) * hidden)
        }
      }
    }
    let cache = GRUCache(
      input: input, steps: steps, gates: gates, candidateRecurrent: candidateRecurrent, hidden: out)
    return (out, cache)
  }

  /// One step for streaming inference: x [B, I], h [B, H] is replaced by the next hidden state.
  public func step(x: Tensor, h: inout Tensor) {
    let (batch, hidden) = (h.shape.first ?? 0, hiddenSize)
    precondition(x.shape == [batch, inputSize], "GRU.step: x must be [\(batch), \(inputSize)], got \(x.shape)")
    precondition(h.shape == [batch, hidden], "GRU.step: h must be [B, \(hidden)], got \(h.shape)")
    let gates = Tensor(zeros: [batch, 3 * hidden])
    let recurrent = Tensor(zeros: [batch, 3 * hidden])
    let candidateRecurrent = Tensor(zeros: [hidden])
    let next = Tensor(zeros: [batch, hidden])
    projectInput(x.ptr, rows: batch, into: gates.ptr)
    BLAS.gemm(
      transA: false, transB: true, m: batch, n: 3 * hidden, k: hidden,
      a: h.ptr, lda: hidden, b: weightHH.value.ptr, ldb: hidden, c: recurrent.ptr, ldc: 3 * hidden)
    let bhh = biasHH.map { UnsafePointer($0.value.ptr) }
    for b in 0..<batch {
      gruCell(
        inputProjection: gates.ptr + b * 3 * hidden, recurrent: recurrent.ptr + b * 3 * hidden, biasHH: bhh,
        previous: h.ptr + b * hidden, hiddenSize: hidden, gates: gates.ptr + b * 3 * hidden,
        candidateRecurrent: candidateRecurrent.ptr, next: next.ptr + b * hidden)
    }
    h = next
  }

  /// gi [rows, 3H] = x [rows, I] · W_ihᵀ + b_ih.
  func projectInput(_ x: UnsafePointer<Float>, rows: Int, into gi: UnsafeMutablePointer<Float>) {
    let width = 3 * hiddenSize
    BLAS.gemm(
      transA: false, transB: true, m: rows, n: width, k: inputSize,
      a: x, lda: inputSize, b: weightIH.value.ptr, ldb: inputSize, c: gi, ldc: width)
    if let bias = biasIH?.value.ptr {
      for r in 0..<rows {
        let row = gi + r * width
        for j in 0..<width { row[j] += bias[j] }
      }
    }
  }

  /// The first `steps` positions of x [B, T, I], packed into [B, steps, I].
  private func packPrefix(_ x: Tensor, steps: Int) -> Tensor {
    let (batch, length) = (x.shape[0], x.shape[1])
    let packed = Tensor(zeros: [batch, steps, inputSize])
    for b in 0..<batch {
      (packed.ptr + b * steps * inputSize).update(from: x.ptr + b * length * inputSize, count: steps * inputSize)
    }
    return packed
  }

  // MARK: - Backward

  /// dy [B, T, H] (rows t ≥ steps are ignored) → dx [B, T, I] (fresh; rows t ≥ steps are 0). Accumulates into
  /// every parameter's `grad`.
  public func backward(_ dy: Tensor, _ cache: GRUCache) -> Tensor {
    let out = cache.hidden
    precondition(dy.shape == out.shape, "GRU.backward: dy \(dy.shape) does not match output \(out.shape)")
    let (batch, length, hidden, steps) = (out.shape[0], out.shape[1], hiddenSize, cache.steps)
    let dx = Tensor(zeros: [batch, length, inputSize])
    if steps == 0 { return dx }
    // dGi [B, steps, 3H]: gradient of the pre-activations' input part (r, z, n); dGh [B, 3H]: of the recurrent part.
    let dInputProjection = Tensor(zeros: [batch, steps, 3 * hidden])
    let dRecurrent = Tensor(zeros: [batch, 3 * hidden])
    // Σ_t dGh per row, for the recurrent bias gradient.
    let sumRecurrent = biasHH != nil
    let dRecurrentSum = Tensor(zeros: sumRecurrent ? [batch, 3 * hidden] : [0])
    let dCarry = Tensor(zeros: [batch, hidden])
    let (gp, cp, hp, yp) = (cache.gates.ptr, cache.candidateRecurrent.ptr, out.ptr, dy.ptr)
    let (dip, drp, dsp, dcp) = (dInputProjection.ptr, dRecurrent.ptr, dRecurrentSum.ptr, dCarry.ptr)
    let rowsPerThread = self.rowsPerThread
    for t in (0..<steps).reversed() {
      Parallel.forEachChunk(batch, minPerThread: rowsPerThread) { rows in
        for b in rows {
          gruCellBackward(
            gates: gp + (b * steps + t) * 3 * hidden, candidateRecurrent: cp + (b * steps + t) * hidden,
            previous: t > 0 ? UnsafePointer(hp + (b * length + t - 1) * hidden) : nil,
            dNext: yp + (b * length + t) * hidden, carry: dcp + b * hidden, hiddenSize: hidden,
            dInputProjection: dip + (b * steps + t) * 3 * hidden, dRecurrent: drp + b * 3 * hidden)
          if sumRecurrent {
            let (sum, d) = (dsp + b * 3 * hidden, drp + b * 3 * hidden)
            for j in 0..<3 * hidden { sum[j] += d[j] }
          }
        }
      }
      if t > 0 {
        // dW_hh += dGhᵀ · h_{t−1};  carry += dGh · W_hh
        BLAS.gemm(
          transA: true, transB: false, m: 3 * hidden, n: hidden, k: batch,
          a: drp, lda: 3 * hidden, b: hp + (t - 1) * hidden, ldb: length * hidden,
          beta: 1, c: weightHH.grad.ptr, ldc: hidden)
        BLAS.gemm(
          transA: false, transB: false, m: batch, n: hidden, k: 3 * hidden,
          a: drp, lda: 3 * hidden, b: weightHH.value.ptr, ldb: hidden, beta: 1, c: dcp, ldc: hidden)
      }
    }
    // dW_ih += dGiᵀ · x;  dx = dGi · W_ih  (one gemm each over all B·steps rows)
    let rows = batch * steps
    BLAS.gemm(
      transA: true, transB: false, m: 3 * hidden, n: inputSize, k: rows,
      a: dip, lda: 3 * hidden, b: cache.input.ptr, ldb: inputSize, beta: 1, c: weightIH.grad.ptr, ldc: inputSize)
    let dInput = steps == length ? dx : Tensor(zeros: [batch, steps, inputSize])
    BLAS.gemm(
      transA: false, transB: false, m: rows, n: inputSize, k: 3 * hidden,
      a: dip, lda: 3 * hidden, b: weightIH.value.ptr, ldb: inputSize, c: dInput.ptr, ldc: inputSize)
    if steps < length {
      for b in 0..<batch {
        (dx.ptr + b * length * inputSize).update(from: dInput.ptr + b * steps * inputSize, count: steps * inputSize)
      }
    }
    if let biasIH { addColumnSums(dip, rows: rows, width: 3 * hidden, into: biasIH.grad.ptr) }
    if let biasHH { addColumnSums(dsp, rows: batch, width: 3 * hidden, into: biasHH.grad.ptr) }
    return dx
  }
}

// MARK: - Cell kernels

/// One GRU step for one batch row. `inputProjection` = W_i· x + b_i· and `recurrent` = W_h· h (no bias), each
/// [3H]; `gates` may alias `inputProjection` (it is read before it is overwritten with r, z, n).
///
/// Eight hidden units at a time, then one at a time for the rest (the in-place `gates` keeps the compiler from
/// vectorising the loop itself): one body, `gruCellUnits`, run on `FastMath.Vector` and on `Float`, so every unit's
/// result is the same bit for bit whichever width ran it.
@inline(__always)
func gruCell(
  inputProjection gi: UnsafePointer<Float>, recurrent gh: UnsafePointer<Float>, biasHH: UnsafePointer<Float>?,
  previous: UnsafePointer<Float>?, hiddenSize n: Int, gates: UnsafeMutablePointer<Float>,
  candidateRecurrent: UnsafeMutablePointer<Float>, next: UnsafeMutablePointer<Float>
) {
  var j = 0
  while j + 8 <= n {
    gruCellUnits(
      FastMath.Vector.self, at: j, inputProjection: gi, recurrent: gh, biasHH: biasHH, previous: previous,
      hiddenSize: n, gates: gates, candidateRecurrent: candidateRecurrent, next: next)
    j += 8
  }
  while j < n {
    gruCellUnits(
      Float.self, at: j, inputProjection: gi, recurrent: gh, biasHH: biasHH, previous: previous, hiddenSize: n,
      gates: gates, candidateRecurrent: candidateRecurrent, next: next)
    j += 1
  }
}

/// `gruCell` for the units j ..< j + (width of V).
@inline(__always)
func gruCellUnits<V: FastMathOperand>(
  _: V.Type, at j: Int, inputProjection gi: UnsafePointer<Float>, recurrent gh: UnsafePointer<Float>,
  biasHH: UnsafePointer<Float>?, previous: UnsafePointer<Float>?, hiddenSize n: Int,
  gates: UnsafeMutablePointer<Float>, candidateRecurrent: UnsafeMutablePointer<Float>,
  next: UnsafeMutablePointer<Float>
) {
  var hPrev = V.zero
  // h_{−1} = 0, so the recurrent product is only the bias at t = 0 (`gh` is then unused).
  var (ghR, ghZ, ghN) = (V.zero, V.zero, V.zero)
  if let biasHH {
    (ghR, ghZ, ghN) = (V(loading: biasHH + j), V(loading: biasHH + n + j), V(loading: biasHH + 2 * n + j))
  }
  if let previous {
    hPrev = V(loading: previous + j)
    ghR = ghR + V(loading: gh + j)
    ghZ = ghZ + V(loading: gh + n + j)
    ghN = ghN + V(loading: gh + 2 * n + j)
  }
  let r = FastMath.sigmoid(operand: V(loading: gi + j) + ghR)
  let z = FastMath.sigmoid(operand: V(loading: gi + n + j) + ghZ)
  let candidate = FastMath.tanh(operand: V(loading: gi + 2 * n + j) + r * ghN)
  r.store(to: gates + j)
  z.store(to: gates + n + j)
  candidate.store(to: gates + 2 * n + j)
  ghN.store(to: candidateRecurrent + j)
  ((1 - z) * candidate + z * hPrev).store(to: next + j)
}

/// Backward of `gruCell` for one row. dh = dNext + carry; writes the pre-activation gradients of the input part
/// (r, z, n) and of the recurrent part (r, z, W_hn h + b_hn), and sets carry = dh ⊙ z (the direct path to h_{t−1};
/// the caller adds dGh · W_hh). Eight units at a time, then one at a time, with one body.
@inline(__always)
func gruCellBackward(
  gates: UnsafePointer<Float>, candidateRecurrent: UnsafePointer<Float>, previous: UnsafePointer<Float>?,
  dNext: UnsafePointer<Float>, carry: UnsafeMutablePointer<Float>, hiddenSize n: Int,
  dInputProjection: UnsafeMutablePointer<Float>, dRecurrent: UnsafeMutablePointer<Float>
) {
  var j = 0
  while j + 8 <= n {
    gruCellBackwardUnits(
      FastMath.Vector.self, at: j, gates: gates, candidateRecurrent: candidateRecurrent, previous: previous,
      dNext: dNext, carry: carry, hiddenSize: n, dInputProjection: dInputProjection, dRecurrent: dRecurrent)
    j += 8
  }
  while j < n {
    gruCellBackwardUnits(
      Float.self, at: j, gates: gates, candidateRecurrent: candidateRecurrent, previous: previous, dNext: dNext,
      carry: carry, hiddenSize: n, dInputProjection: dInputProjection, dRecurrent: dRecurrent)
    j += 1
  }
}

/// `gruCellBackward` for the units j ..< j + (width of V).
@inline(__always)
func gruCellBackwardUnits<V: FastMathOperand>(
  _: V.Type, at j: Int, gates: UnsafePointer<Float>, candidateRecurrent: UnsafePointer<Float>,
  previous: UnsafePointer<Float>?, dNext: UnsafePointer<Float>, carry: UnsafeMutablePointer<Float>,
  hiddenSize n: Int, dInputProjection: UnsafeMutablePointer<Float>, dRecurrent: UnsafeMutablePointer<Float>
) {
  let (r, z, candidate) = (V(loading: gates + j), V(loading: gates + n + j), V(loading: gates + 2 * n + j))
  let hPrev = previous.map { V(loading: $0 + j) } ?? V.zero
  let dh = V(loading: dNext + j) + V(loading: carry + j)
  let dPreN = dh * (1 - z) * (1 - candidate * candidate)
  let dPreZ = dh * (hPrev - candidate) * z * (1 - z)
  let dPreR = dPreN * V(loading: candidateRecurrent + j) * r * (1 - r)
  dPreR.store(to: dInputProjection + j)
  dPreZ.store(to: dInputProjection + n + j)
  dPreN.store(to: dInputProjection + 2 * n + j)
  dPreR.store(to: dRecurrent + j)
  dPreZ.store(to: dRecurrent + n + j)
  (dPreN * r).store(to: dRecurrent + 2 * n + j)
  (dh * z).store(to: carry + j)
}

/// sums[j] += Σ_r m[r, j] for a row-major [rows, width] matrix.
func addColumnSums(_ m: UnsafePointer<Float>, rows: Int, width: Int, into sums: UnsafeMutablePointer<Float>) {
  for r in 0..<rows {
    let row = m + r * width
    for j in 0..<width { sums[j] += row[j] }
  }
}
