import Foundation

/// Per-example ranking metrics for one positive item, and their running sums.
///
/// For a target at 1-based rank r and a cut-off K:
/// - HR@K = 1 if r ≤ K else 0 (equals Recall@K with one positive),
/// - NDCG@K = 1 / log₂(r + 1) if r ≤ K else 0 (the ideal DCG of one positive is 1),
/// - MRR@K = 1 / r if r ≤ K else 0.
/// Sums are kept in Double, so averages over millions of examples do not drift.
public enum RankMetric: String, CaseIterable, Codable, Sendable {
  case hitRate = "HR"
  case ndcg = "NDCG"
  case mrr = "MRR"

  /// The metric's value for one example whose target has `rank`, cut at `k`.
  public func value(rank: Int, k: Int) -> Double {
    precondition(rank >= 1, "ranks are 1-based, got \(rank)")
    guard rank <= k else { return 0 }
    switch self {
    case .hitRate: return 1
    case .ndcg: return 1 / log2(Double(rank) + 1)
    case .mrr: return 1 / Double(rank)
    }
  }

  /// The report key, e.g. "NDCG@10".
  public func key(k: Int) -> String { "\(rawValue)@\(k)" }
}

/// Running sums of HR, NDCG and MRR at several cut-offs. Add ranks one by one, then read the averages.
public struct MetricAccumulator: Sendable {
  /// Cut-offs, ascending and distinct.
  public let ks: [Int]
  public private(set) var exampleCount = 0
  /// `sums[m][i]` = sum over examples of metric `RankMetric.allCases[m]` at `ks[i]`.
  private var sums: [[Double]]

  /// - Parameter ks: positive cut-offs; duplicates are dropped and the list is sorted.
  public init(ks: [Int]) throws(EvaluationError) {
    guard !ks.isEmpty else { throw .invalidArgument("the list of cut-offs K is empty") }
    if let bad = ks.first(where: { $0 < 1 }) { throw .invalidArgument("cut-off K must be ≥ 1, got \(bad)") }
    self.ks = Array(Set(ks)).sorted()
    self.sums = Array(repeating: Array(repeating: 0, count: self.ks.count), count: RankMetric.allCases.count)
  }

  /// Adds one example whose target has 1-based `rank`.
  public mutating func add(rank: Int) {
    precondition(rank >= 1, "ranks are 1-based, got \(rank)")
    exampleCount += 1
    for (m, metric) in RankMetric.allCases.enumerated() {
      for (i, k) in ks.enumerated() where rank <= k {
        sums[m][i] += metric.value(rank: rank, k: k)
      }
    }
  }

  /// Adds every rank of `ranks`.
  public mutating func add<S: Sequence>(ranks: S) where S.Element == Int {
    for rank in ranks { add(rank: rank) }
  }

  /// Averages over the examples added so far, ordered by K, then HR, NDCG, MRR (the papers' table order).
  public func report(protocolLabel: String) -> MetricReport {
    var entries: [MetricReport.Entry] = []
    for (i, k) in ks.enumerated() {
      for (m, metric) in RankMetric.allCases.enumerated() {
        let mean = exampleCount > 0 ? sums[m][i] / Double(exampleCount) : 0
        entries.append(MetricReport.Entry(name: metric.key(k: k), value: mean))
      }
    }
    return MetricReport(protocolLabel: protocolLabel, exampleCount: exampleCount, entries: entries)
  }
}
