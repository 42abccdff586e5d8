import Foundation
import Testing

@testable import RecData

/// The statistics table of ../shared/datasets/README.md and the split counts of the paper specs, recomputed from
/// the files. Skipped when the shared datasets are absent.
@Suite(.enabled(if: SharedDatasets.available, Comment(rawValue: SharedDatasets.skipMessage)))
struct SharedDatasetTests {
  struct Row: Sendable, CustomStringConvertible {
    var file: String
    var users: Int
    var items: Int
    var interactions: Int
    /// Average length as the README prints it (one decimal).
    var averageLength: String
    var description: String { file }
  }

  static let readmeTable: [Row] = [
    Row(file: "ml-100k/ml-100k.inter", users: 943, items: 1_682, interactions: 100_000, averageLength: "106.0"),
    Row(file: "ml-1m/ml-1m.txt", users: 6_040, items: 3_706, interactions: 1_000_209, averageLength: "165.6"),
    Row(
      file: "ml-1m-sasrec/ml-1m-sasrec.txt", users: 6_040, items: 3_416, interactions: 999_611,
      averageLength: "165.5"),
    Row(file: "amazon-beauty/Beauty.txt", users: 52_204, items: 57_289, interactions: 394_908, averageLength: "7.6"),
    Row(
      file: "amazon-video-games/Video.txt", users: 31_013, items: 23_715, interactions: 287_107, averageLength: "9.3"),
    Row(
      file: "amazon-beauty-s3rec/Beauty.txt", users: 22_363, items: 12_101, interactions: 198_502,
      averageLength: "8.9"),
    Row(
      file: "amazon-sports-s3rec/Sports_and_Outdoors.txt", users: 35_598, items: 18_357, interactions: 296_337,
      averageLength: "8.3"),
  ]

  private static func load(_ file: String, kCore: KCoreThresholds = .none) throws -> SequenceDataset {
    SequenceDataset(remapping: try SharedDatasets.read(file).kCoreFiltered(kCore), name: file)
  }

  @Test(arguments: readmeTable)
  func readmeStatistics(_ row: Row) throws {
    let stats = DatasetStatistics(try Self.load(row.file))
    #expect(stats.users == row.users)
    #expect(stats.items == row.items)
    #expect(stats.interactions == row.interactions)
    #expect(String(format: "%.1f", stats.averageLength) == row.averageLength)
  }

  @Test func videoGamesFiveCore() throws {
    let dataset = try Self.load(
      "amazon-video-games/Video.txt", kCore: KCoreThresholds(minUserInteractions: 5, minItemInteractions: 5))
    let stats = DatasetStatistics(dataset)
    #expect(stats.users == 24_303)
    #expect(stats.items == 10_672)
    #expect(stats.interactions == 231_780)
    #expect(stats.minLength >= 5)
    #expect(LeaveOneOutSplit(dataset).train.count == 158_871)
  }

  @Test(arguments: [
    ("ml-1m-sasrec/ml-1m-sasrec.txt", 981_491),
    ("amazon-beauty-s3rec/Beauty.txt", 131_413),
    ("amazon-sports-s3rec/Sports_and_Outdoors.txt", 189_543),
  ])
  func trainingExampleCounts(_ file: String, _ train: Int) throws {
    let dataset = try Self.load(file)
    let split = LeaveOneOutSplit(dataset)
    #expect(split.train.count == train)
    #expect(split.valid.count == dataset.userCount)
    #expect(split.test.count == dataset.userCount)
  }

  /// The DERIVED `user item timestamp` files, sorted by their day timestamps (stable), give exactly the S3-Rec
  /// line files: same users, items, order and ids.
  @Test(arguments: [
    ("amazon-beauty-s3rec/Beauty.txt", "amazon-beauty-s3rec/Beauty_user_item_timestamp.DERIVED.txt"),
    (
      "amazon-sports-s3rec/Sports_and_Outdoors.txt",
      "amazon-sports-s3rec/Sports_and_Outdoors_user_item_timestamp.DERIVED.txt"
    ),
  ])
  func derivedTimestampFilesMatchTheLineFiles(_ lines: String, _ derived: String) throws {
    let (raw, layout) = try InteractionReader.read(path: SharedDatasets.path(derived))
    guard case .delimited(let d) = layout else {
      Issue.record("expected delimited, got \(layout)")
      return
    }
    #expect(d.timestamp == .index(2))
    let fromDerived = SequenceDataset(remapping: raw, name: "derived")
    let fromLines = try Self.load(lines)
    #expect(fromDerived.sequences == fromLines.sequences)
    #expect(fromDerived.rawItemIds == fromLines.rawItemIds)
    #expect(fromDerived.rawUserIds == fromLines.rawUserIds)
  }

  /// README: the iterative 5-core of raw ML-1M has ml-1m-sasrec's (user, item) set.
  @Test func rawMovieLensFiveCoreHasTheSASRecSet() throws {
    let fiveCore = try Self.load(
      "ml-1m/ml-1m.txt", kCore: KCoreThresholds(minUserInteractions: 5, minItemInteractions: 5))
    let sasrec = try Self.load("ml-1m-sasrec/ml-1m-sasrec.txt")
    func pairs(_ d: SequenceDataset) -> Set<String> {
      var set = Set<String>()
      for (u, items) in d.sequences.enumerated() {
        for i in items { set.insert("\(d.rawUserIds[u]) \(d.rawItemIds[Int(i)])") }
      }
      return set
    }
    #expect(DatasetStatistics(fiveCore).items == 3_416)
    #expect(pairs(fiveCore) == pairs(sasrec))
  }
}
