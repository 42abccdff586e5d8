import Foundation
import Testing

@testable import RecEval

@Suite struct MetricsTests {
  @Test func perExampleValuesAtHandComputedRanks() {
    #expect(RankMetric.hitRate.value(rank: 1, k: 1) == 1)
    #expect(RankMetric.ndcg.value(rank: 1, k: 10) == 1)
    #expect(RankMetric.mrr.value(rank: 1, k: 10) == 1)
    #expect(RankMetric.hitRate.value(rank: 3, k: 2) == 0)
    #expect(RankMetric.hitRate.value(rank: 3, k: 3) == 1)
    #expect(RankMetric.ndcg.value(rank: 3, k: 3) == 0.5)  // 1 / log2(4)
    #expect(RankMetric.ndcg.value(rank: 7, k: 10) == 1.0 / 3.0)  // 1 / log2(8)
    #expect(RankMetric.ndcg.value(rank: 7, k: 6) == 0)
    #expect(RankMetric.mrr.value(rank: 4, k: 4) == 0.25)
    #expect(RankMetric.mrr.value(rank: 5, k: 4) == 0)
  }

  @Test func averagesOverExamplesAtEveryCutOff() throws {
    var accumulator = try MetricAccumulator(ks: [10, 5])
    accumulator.add(ranks: [1, 3, 7, 12])
    let report = accumulator.report(protocolLabel: "full")
    #expect(report.exampleCount == 4)
    let tolerance = 1e-12
    #expect(abs(report["HR@5"]! - 2.0 / 4) < tolerance)
    #expect(abs(report["NDCG@5"]! - (1 + 0.5) / 4) < tolerance)
    #expect(abs(report["MRR@5"]! - (1 + 1.0 / 3) / 4) < tolerance)
    #expect(abs(report["HR@10"]! - 3.0 / 4) < tolerance)
    #expect(abs(report["NDCG@10"]! - (1 + 0.5 + 1.0 / 3) / 4) < tolerance)
    #expect(abs(report["MRR@10"]! - (1 + 1.0 / 3 + 1.0 / 7) / 4) < tolerance)
    #expect(report["HR@20"] == nil)
  }

  @Test func keysAreOrderedByCutOffThenMetricWithDuplicatesDropped() throws {
    let report = try MetricAccumulator(ks: [20, 10, 20]).report(protocolLabel: "full")
    #expect(report.keys == ["HR@10", "NDCG@10", "MRR@10", "HR@20", "NDCG@20", "MRR@20"])
  }

  @Test func invalidCutOffsAreRejected() {
    #expect(throws: EvaluationError.self) { try MetricAccumulator(ks: []) }
    #expect(throws: EvaluationError.invalidArgument("cut-off K must be ≥ 1, got 0")) {
      try MetricAccumulator(ks: [10, 0])
    }
  }

  @Test func reportFormatsAndRoundTripsThroughJSON() throws {
    var accumulator = try MetricAccumulator(ks: [2])
    accumulator.add(ranks: [1, 2, 3])
    let report = accumulator.report(protocolLabel: "full")
    #expect(report.line == "[full] n=3 HR@2=0.6667 NDCG@2=0.5436 MRR@2=0.5000")
    #expect(report.table.hasPrefix("protocol: full, examples: 3\n"))
    #expect(report.table.contains("NDCG@2  0.5436"))
    #expect(!report.isSampled)

    let data = try report.jsonData()
    let json = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(json["protocol"] as? String == "full")
    #expect(json["examples"] as? Int == 3)
    let metrics = try #require(json["metrics"] as? [[String: Any]])
    #expect(metrics.map { $0["name"] as? String } == ["HR@2", "NDCG@2", "MRR@2"])
    #expect(try JSONDecoder().decode(MetricReport.self, from: data) == report)
  }

  @Test func sampledReportsSaySampledEverywhere() throws {
    var accumulator = try MetricAccumulator(ks: [10])
    accumulator.add(rank: 1)
    let label = EvaluationProtocol.sampledByPopularity(negatives: 100).label
    #expect(label == "sampled(pop100)")
    let report = accumulator.report(protocolLabel: label)
    #expect(report.isSampled)
    #expect(report.line.hasPrefix("[sampled(pop100)] "))
    #expect(report.table.hasPrefix("protocol: sampled(pop100) (sampled metrics, not full ranking)"))
    #expect(String(decoding: try report.jsonData(), as: UTF8.self).contains("sampled(pop100)"))
  }
}
