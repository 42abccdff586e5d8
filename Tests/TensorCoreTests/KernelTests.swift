import Foundation
import Testing

@testable import TensorCore

/// Every kernel against its naive Double reference (KernelReferences.swift), at 1e-5 relative. Sizes include one
/// above `ElementwiseKernels.parallelThreshold` so the multi-threaded split is exercised too.
@Suite struct KernelTests {
  init() { Parallel.configure(owner: .app, threads: 2) }

  @Test(arguments: [37, 70_001])
  func elementwiseMatchReference(count: Int) {
    let a = uniformArray(count, -2, 2, seed: 1)
    let b = uniformArray(count, -2, 2, seed: 2)
    var out = [Float](repeating: 0, count: count)
    let alpha: Float = -0.75
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        out.withUnsafeMutableBufferPointer { po in
          let (x, y, o) = (pa.baseAddress!, pb.baseAddress!, po.baseAddress!)
          ElementwiseKernels.add(o, x, y, count: count)
          #expect(firstMismatch(Array(po), (0..<count).map { Double(a[$0]) + Double(b[$0]) }) == nil)
          ElementwiseKernels.subtract(o, x, y, count: count)
          #expect(firstMismatch(Array(po), (0..<count).map { Double(a[$0]) - Double(b[$0]) }) == nil)
          ElementwiseKernels.multiply(o, x, y, count: count)
          #expect(firstMismatch(Array(po), (0..<count).map { Double(a[$0]) * Double(b[$0]) }) == nil)
          ElementwiseKernels.scale(o, x, by: alpha, count: count)
          #expect(firstMismatch(Array(po), (0..<count).map { Double(alpha) * Double(a[$0]) }) == nil)
          o.update(from: y, count: count)
          ElementwiseKernels.axpy(o, alpha: alpha, x, count: count)
          #expect(firstMismatch(Array(po), (0..<count).map { Double(b[$0]) + Double(alpha) * Double(a[$0]) }) == nil)
        }
      }
    }
  }

  @Test func rowVectorBroadcastAndColumnSums() {
    let (rows, cols) = (5, 7)
    let m = uniformArray(rows * cols, -1, 1, seed: 3)
    let v = uniformArray(cols, -1, 1, seed: 4)
    var out = m
    var sums = [Float](repeating: 0.5, count: cols)
    out.withUnsafeMutableBufferPointer { po in
      ElementwiseKernels.addRowVector(po.baseAddress!, v, rows: rows, cols: cols)
    }
    sums.withUnsafeMutableBufferPointer { ps in
      ReductionKernels.accumulateColumnSums(ps.baseAddress!, m, rows: rows, cols: cols)
    }
    #expect(firstMismatch(out, (0..<rows * cols).map { Double(m[$0]) + Double(v[$0 % cols]) }) == nil)
    let refSums = (0..<cols).map { c in 0.5 + (0..<rows).reduce(0.0) { $0 + Double(m[$1 * cols + c]) } }
    #expect(firstMismatch(sums, refSums) == nil)
  }

  @Test func parallelColumnSumsMatchReferenceWithTheSameBitsOnAnyThreadCount() {
    // Enough rows for several chunks at 16 rows per chunk; outputs accumulate onto 0.5.
    let (rows, cols) = (1_003, 9)
    let m = uniformArray(rows * cols, -1, 1, seed: 13)
    func columnSums(threads: Int) -> [Float] {
      Parallel.configure(owner: .app, threads: threads)
      var sums = [Float](repeating: 0.5, count: cols)
      sums.withUnsafeMutableBufferPointer { ps in
        ReductionKernels.accumulateColumnSumsInParallel(ps.baseAddress!, m, rows: rows, cols: cols, minRowsPerChunk: 16)
      }
      return sums
    }
    let sums = columnSums(threads: 2)
    let refSums = (0..<cols).map { c in 0.5 + (0..<rows).reduce(0.0) { $0 + Double(m[$1 * cols + c]) } }
    #expect(firstMismatch(sums, refSums, rel: 1e-4) == nil)
    // The chunks depend on the rows only: 1 and 3 threads give the same bits as 2.
    #expect(columnSums(threads: 1) == sums)
    #expect(columnSums(threads: 3) == sums)
    Parallel.configure(owner: .app, threads: 2)
  }

  @Test(arguments: [1, 9, 1000, 100_003])
  func reductionsMatchReference(count: Int) {
    let a = uniformArray(count, -1, 1, seed: 5)
    let b = uniformArray(count, -1, 1, seed: 6)
    let absTotal = a.reduce(0.0) { $0 + Double(abs($1)) }
    let refSum = a.reduce(0.0) { $0 + Double($1) }
    let refSquares = a.reduce(0.0) { $0 + Double($1) * Double($1) }
    let refDot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let sum = ReductionKernels.sum(a, count: count)
    let squares = ReductionKernels.sumOfSquares(a, count: count)
    let dot = ReductionKernels.dot(a, b, count: count)
    // Relative to Σ|terms|: the sum itself may cancel to ~0.
    #expect(abs(Double(sum) - refSum) <= 1e-5 * absTotal)
    #expect(abs(Double(squares) - refSquares) <= 1e-5 * refSquares)
    #expect(abs(Double(dot) - refDot) <= 1e-5 * absTotal)
    #expect(ReductionKernels.max(a, count: count) == a.max())
  }

  @Test(arguments: ActivationFunction.allCases)
  func activationsMatchReference(function: ActivationFunction) {
    for count in [101, 70_001] {
      // Avoid |x| < 1e-3 so ReLU/ELU are not evaluated on their kink.
      let x = uniformArray(count, -4, 4, seed: 7).map { abs($0) < 1e-3 ? 0.5 : $0 }
      let dy = uniformArray(count, -1, 1, seed: 8)
      var y = [Float](repeating: 0, count: count)
      var dx = [Float](repeating: 0, count: count)
      y.withUnsafeMutableBufferPointer { py in
        ActivationKernels.forward(function, py.baseAddress!, x, count: count)
      }
      dx.withUnsafeMutableBufferPointer { pdx in
        ActivationKernels.backward(function, pdx.baseAddress!, x: x, y: y, dy: dy, count: count)
      }
      let refY = x.map { KernelReference.activation(function, Double($0)) }
      let refDx = (0..<count).map { KernelReference.activationDerivative(function, Double(x[$0])) * Double(dy[$0]) }
      #expect(firstMismatch(y, refY) == nil, "\(function) forward, n = \(count)")
      #expect(firstMismatch(dx, refDx) == nil, "\(function) backward, n = \(count)")
    }
  }

  @Test func scalarSigmoidAndSoftplusAreStableAtExtremes() {
    for x: Float in [-200, -30, -1, 0, 1, 30, 200] {
      let ref = 1 / (1 + exp(-Double(x)))
      #expect(abs(Double(ActivationKernels.sigmoid(x)) - ref) <= 1e-6 * max(ref, 1e-30))
      let sp = Double(ActivationKernels.softplus(x))
      let refSp = max(Double(x), 0) + log1p(exp(-abs(Double(x))))
      #expect(abs(sp - refSp) <= 1e-6 * max(refSp, 1e-30))
    }
  }

  @Test(arguments: [(3, 8), (1100, 64)])
  func layerNormMatchesReference(rows: Int, cols: Int) {
    let n = rows * cols
    // Rows with an offset and a non-unit spread, so mean and variance both matter.
    let x = uniformArray(n, -2, 2, seed: 9).enumerated().map { $1 * Float(1 + $0 / cols % 3) + 0.5 }
    let weight = uniformArray(cols, 0.5, 1.5, seed: 10)
    let bias = uniformArray(cols, -0.5, 0.5, seed: 11)
    let dy = uniformArray(n, -1, 1, seed: 12)
    let eps: Float = 1e-5
    var out = [Float](repeating: 0, count: n)
    var mean = [Float](repeating: 0, count: rows)
    var rstd = [Float](repeating: 0, count: rows)
    var dx = [Float](repeating: 0, count: n)
    var dweight = [Float](repeating: 0.25, count: cols)  // accumulates onto existing values
    var dbias = [Float](repeating: -0.25, count: cols)
    LayerNormKernels.forward(
      &out, mean: &mean, rstd: &rstd, x, weight: weight, bias: bias, rows: rows, cols: cols, eps: eps)
    LayerNormKernels.backward(
      &dx, dweight: &dweight, dbias: &dbias, dy: dy, x: x, weight: weight, mean: mean, rstd: rstd, rows: rows,
      cols: cols)
    let ref = KernelReference.layerNorm(
      x: x, weight: weight, bias: bias, dy: dy, rows: rows, cols: cols, eps: Double(eps))
    #expect(firstMismatch(out, ref.out) == nil)
    #expect(firstMismatch(mean, ref.mean) == nil)
    #expect(firstMismatch(rstd, ref.rstd) == nil)
    #expect(firstMismatch(dx, ref.dx) == nil)
    // Column sums over up to 1100 rows: compare relative to the number of terms.
    let floor = Double(rows) / 10
    #expect(firstMismatch(dweight, ref.dweight.map { $0 + 0.25 }, floor: floor) == nil)
    #expect(firstMismatch(dbias, ref.dbias.map { $0 - 0.25 }, floor: floor) == nil)
  }

  @Test(arguments: [(4, 9), (200, 400)])
  func softmaxAndLogSumExpMatchReference(rows: Int, cols: Int) {
    var x = uniformArray(rows * cols, -6, 6, seed: 13)
    // Row 1: partly masked; row 2: fully masked (must give zeros and −∞, never NaN).
    for c in 0..<cols where c % 3 == 0 { x[cols + c] = -.infinity }
    for c in 0..<cols { x[2 * cols + c] = -.infinity }
    let dy = uniformArray(rows * cols, -1, 1, seed: 14)
    var y = [Float](repeating: 0, count: rows * cols)
    var lse = [Float](repeating: 0, count: rows)
    var dx = [Float](repeating: 0, count: rows * cols)
    SoftmaxKernels.forward(&y, x, rows: rows, cols: cols)
    SoftmaxKernels.logSumExp(&lse, x, rows: rows, cols: cols)
    SoftmaxKernels.backward(&dx, y: y, dy: dy, rows: rows, cols: cols)
    let refY = KernelReference.softmax(x, rows: rows, cols: cols)
    #expect(firstMismatch(y, refY, floor: 1e-3) == nil)
    #expect(firstMismatch(lse, KernelReference.logSumExp(x, rows: rows, cols: cols)) == nil)
    #expect(
      firstMismatch(dx, KernelReference.softmaxBackward(y: refY, dy: dy, rows: rows, cols: cols), floor: 1e-3) == nil)
    #expect(!y.contains { $0.isNaN } && !dx.contains { $0.isNaN })
    #expect(y[(2 * cols)..<(3 * cols)].allSatisfy { $0 == 0 })
    #expect(lse[2] == -.infinity)
  }

  @Test func softmaxIsInPlaceSafe() {
    let x = uniformArray(3 * 5, -3, 3, seed: 15)
    var inPlace = x
    inPlace.withUnsafeMutableBufferPointer { p in
      SoftmaxKernels.forward(p.baseAddress!, UnsafePointer(p.baseAddress!), rows: 3, cols: 5)
    }
    #expect(firstMismatch(inPlace, KernelReference.softmax(x, rows: 3, cols: 5)) == nil)
  }
}
