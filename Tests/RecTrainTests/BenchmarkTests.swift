import RecModels
import Testing

@testable import RecTrain

@Suite struct BenchmarkTests {
  @Test func benchmarkRunsEveryMeasurementOnATinyDataset() throws {
    var options = Benchmark.Options()
    options.modelOverrides = ["hiddenSize=8", "maxLength=6"]
    options.batches = 2
    options.prefixBatches = 1
    options.batchSize = 8
    options.microBatchSize = 4
    options.streamingEvents = 20
    let report = try Benchmark.run(dataset: DataParallelTests.dataset, options: options)
    #expect(report.training.map(\.objective) == [.allPositions, .prefix])
    for t in report.training {
      #expect(t.statistics.batches == min(t.objective == .prefix ? 1 : 2, t.statistics.epochBatches))
      #expect(t.statistics.targets > 0 && t.targetsPerSecond > 0 && t.secondsPerEpoch > 0)
      #expect((t.flops ?? 0) > 0)
    }
    #expect(report.evaluatedUsers == DataParallelTests.dataset.userCount)
    #expect((report.evaluationSeconds ?? -1) >= 0)
    #expect(report.streaming?.events == 20)
    #expect(report.streaming.map { $0.p99Microseconds >= $0.p50Microseconds } == true)
    #expect(report.peakResidentBytes > 0)
    #expect(report.lines.count == 7)
  }

  @Test func recBLRFLOPCountFollowsTheDocumentedFormula() {
    let model = RecBLR(config: RecBLRConfig(), itemCount: 3417, seed: 1)
    // Per layer-position 181,504 (d 64, H 128, K 4); per scored row 2·64·3417 = 437,376.
    #expect(model.forwardFLOPs(positions: 1, scoredRows: 0) == 2 * 181_504)
    #expect(model.forwardFLOPs(positions: 0, scoredRows: 1) == 437_376)
    #expect(model.trainingFLOPs(positions: 10, scoredRows: 10) == 3 * 10 * (2 * 181_504 + 437_376))
  }

  @Test func machinePeakIsCoresTimesClockTimesTheFMAWidth() {
    let machine = Benchmark.Machine(cores: 2, megahertz: 2500, model: nil, blasCore: "Haswell")
    #expect(machine.peakGFLOPs == 160)
    let avx512 = Benchmark.Machine(
      cores: 2, megahertz: 2300, model: "Xeon", blasCore: "SkylakeX", replacedBLASCore: "Prescott")
    #expect(avx512.peakGFLOPs == 294.4)
    #expect(avx512.description.hasSuffix("= 294.4 GFLOP/s fp32 peak; OpenBLAS SkylakeX kernels (it chose Prescott)"))
    #expect(Benchmark.Machine.field("cpu MHz", in: "model name\t: X\ncpu MHz\t\t: 2445.406\n") == "2445.406")
  }
}
