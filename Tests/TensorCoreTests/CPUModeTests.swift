import Foundation
import Testing

@testable import TensorCore

/// The calling thread's denormal mode, carried into `Parallel`'s workers, and OpenBLAS's kernel choice.
@Suite struct CPUModeTests {
  /// a ⊙ b over `count` entries with the elementwise kernel (split over `Parallel`'s workers when it has several).
  static func products(_ a: Float, _ b: Float, count: Int = 1 << 17) -> [Float] {
    let x = Tensor(zeros: [count])
    let y = Tensor(zeros: [count])
    let out = Tensor(zeros: [count])
    x.ptr.update(repeating: a, count: count)
    y.ptr.update(repeating: b, count: count)
    ElementwiseKernels.multiply(out.ptr, x.ptr, y.ptr, count: count)
    return out.array
  }

  @Test(.enabled(if: DenormalMode.isSupported)) func flushingZeroesDenormalResultsAndOperandsOnEveryWorker() {
    let smallestNormal = Float.leastNormalMagnitude
    let denormal = Float.leastNormalMagnitude / 4  // exact: 2^-128
    DenormalMode.withFlushing(true) {
      #expect(DenormalMode.isFlushingOnCurrentThread)
      #expect(Self.products(smallestNormal, 0.5).allSatisfy { $0 == 0 })  // FTZ: a denormal result is 0
      #expect(Self.products(denormal, 0x1p30).allSatisfy { $0 == 0 })  // DAZ: a denormal operand reads as 0
    }
    DenormalMode.withFlushing(false) {
      #expect(!DenormalMode.isFlushingOnCurrentThread)
      #expect(Self.products(smallestNormal, 0.5).allSatisfy { $0 == smallestNormal / 2 && $0 > 0 })
      #expect(Self.products(denormal, 0x1p30).allSatisfy { $0 == 0x1p-98 })
    }
  }

  @Test func withFlushingRestoresTheThreadsMode() {
    let before = DenormalMode.isFlushingOnCurrentThread
    DenormalMode.withFlushing(!before) {}
    #expect(DenormalMode.isFlushingOnCurrentThread == before)
  }

  @Test func onlyOpenBLASsPrescottFallbackOnAnAVX2CPUIsReplaced() {
    typealias Case = (chosen: String, set: Bool, avx2: Bool, avx512: Bool, expected: String?)
    let cases: [Case] = [
      ("Prescott", false, true, true, "SkylakeX"),
      ("Prescott", false, true, false, "Haswell"),
      ("Prescott", true, true, true, nil),  // the user chose
      ("Prescott", false, false, false, nil),  // a CPU without AVX2: Prescott may be right
      ("Haswell", false, true, true, nil),  // OpenBLAS's own choice on a CPU it knows
      ("Zen", false, true, true, nil),
    ]
    for c in cases {
      let got = BLAS.coreTypeReplacing(chosen: c.chosen, coreTypeSet: c.set, avx2FMA: c.avx2, avx512: c.avx512)
      #expect(got == c.expected, "\(c)")
    }
  }

  /// On a CPU with AVX2 + FMA the products never run OpenBLAS's SSE3 fallback (unless the user asked for it).
  @Test func productsRunVectorKernelsOnAnAVX2CPU() {
    let one = Tensor(zeros: [2, 2])
    Tensor.matmul(one, one, into: Tensor(zeros: [2, 2]))  // the first product settles the kernels
    let userChoice = BLAS.replacedCore == nil ? ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] : nil
    if BLAS.cpuSupportsAVX2FMA && userChoice == nil {
      #expect(BLAS.coreName != "Prescott")
    }
    if let replaced = BLAS.replacedCore {
      #expect(replaced.chosen == "Prescott")
      #expect(replaced.running == (BLAS.cpuSupportsAVX512 ? "SkylakeX" : "Haswell"))
      #expect(BLAS.configuration.contains(replaced.running))
    }
  }
}
