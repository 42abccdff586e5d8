import Testing

@testable import TensorCore

@Suite struct BLASTests {
  /// m = 1 takes the matrix-vector path.
  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)], [7, 1])
  func gemmMatchesNaiveReference(transposes: (Bool, Bool), m: Int) {
    let (transA, transB) = transposes
    var rng = SeededRNG(seed: 42)
    let (n, k) = (5, 9)
    let a = Tensor(zeros: transA ? [k, m] : [m, k])
    let b = Tensor(zeros: transB ? [n, k] : [k, n])
    a.fillUniform(-1, 1, rng: &rng)
    b.fillUniform(-1, 1, rng: &rng)
    let c = Tensor(zeros: [m, n])
    let ref = Tensor(zeros: [m, n])
    c.fillUniform(-1, 1, rng: &rng)
    ref.ptr.update(from: c.ptr, count: c.count)
    Tensor.matmul(a, transA: transA, b, transB: transB, into: c, alpha: 0.5, beta: 2)
    BLAS.naiveGemm(
      transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a.ptr, lda: transA ? m : k,
      b: b.ptr, ldb: transB ? k : n, beta: 2, c: ref.ptr, ldc: n)
    for i in 0..<c.count { #expect(abs(c[i] - ref[i]) <= 1e-5 * max(1, abs(ref[i]))) }
  }

  @Test func seededRNGIsReproducible() {
    var r1 = SeededRNG(seed: 7)
    var r2 = SeededRNG(seed: 7)
    var r3 = SeededRNG(seed: 8)
    let a = (0..<100).map { _ in r1.normal() }
    let b = (0..<100).map { _ in r2.normal() }
    let c = (0..<100).map { _ in r3.normal() }
    #expect(a == b)
    #expect(a != c)
    let mean = a.reduce(0, +) / 100
    #expect(abs(mean) < 0.3)
  }

  @Test func parallelForCoversEveryIndexOnce() {
    Parallel.configure(owner: .app, threads: 2)
    var hits = [Int](repeating: 0, count: 1000)
    hits.withUnsafeMutableBufferPointer { buf in
      let p = UnsafeSendable(buf.baseAddress!)
      Parallel.forEach(1000) { i in p.value[i] += 1 }
    }
    #expect(hits.allSatisfy { $0 == 1 })
  }
}
