import ArgumentParser
import Foundation
import RecData

struct DataCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data",
    abstract: "Inspect interaction files: read, filter and summarise them as training would.",
    subcommands: [DataStatsCommand.self]
  )
}

extension InteractionFormat: ExpressibleByArgument {}
extension TimeOrderKey: ExpressibleByArgument {}

/// Options shared by every command that loads an interaction file.
struct DatasetOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "File format: auto, pairs ('user item' per line), user-lines ('user item1 item2 …'), atomic (RecBole "
        + ".inter with a typed header) or delimited (CSV/TSV/space columns).",
      discussion: "auto reads .inter files as atomic and recognises the others from their first lines."))
  var format: InteractionFormat = .auto

  @Option(help: "Field separator of a delimited file: comma, tab, whitespace, semicolon, or the separator itself.")
  var separator: String?

  @Option(help: "User id column: a 0-based index or a header name (delimited/atomic; atomic default user_id).")
  var userColumn: String?

  @Option(help: "Item id column: a 0-based index or a header name (delimited/atomic; atomic default item_id).")
  var itemColumn: String?

  @Option(
    help: ArgumentHelp(
      "Timestamp column (index or name): each user's interactions are sorted by it, ties keeping file order.",
      discussion: "Without one, file order is chronological. Atomic files use their 'timestamp' column if any."))
  var timestampColumn: String?

  @Option(
    help: ArgumentHelp(
      "How timestamps are compared: exact, float32 (RecBole's: times rounded to float32, so ML-1M's ratings "
        + "within one 64 s step tie and keep file order) or normalized-float32 (RecBole with normalize_all).",
      discussion: "Equal keys keep file order. Files without timestamps are read in file order whatever this is."))
  var timeOrder: TimeOrderKey = .exact

  @Flag(
    inversion: .prefixedNo,
    help: "Whether the first line of a delimited file is a header (default: yes when a column is named).")
  var header: Bool?

  @Option(help: "Keep only users with at least N interactions, applied iteratively with --min-item-inter (k-core).")
  var minUserInter: Int = 0

  @Option(help: "Keep only items with at least N interactions, applied iteratively with --min-user-inter (k-core).")
  var minItemInter: Int = 0

  @Flag(help: "Neither read nor write the processed-dataset cache.")
  var noCache = false

  @Option(help: "Cache directory (default: $SEQREC_CACHE_DIR, else ~/.cache/seqrec).")
  var cacheDir: String?

  func validate() throws {
    if minUserInter < 0 || minItemInter < 0 { throw ValidationError("k-core thresholds must be 0 or more") }
    if let separator, FieldSeparator(spelling: separator) == nil {
      throw ValidationError("the separator cannot be empty")
    }
  }

  var loadOptions: DatasetLoadOptions {
    let read = ReadOptions(
      format: format, separator: separator.flatMap(FieldSeparator.init(spelling:)),
      userColumn: userColumn.map(ColumnReference.init(spelling:)),
      itemColumn: itemColumn.map(ColumnReference.init(spelling:)),
      timestampColumn: timestampColumn.map(ColumnReference.init(spelling:)), hasHeader: header, timeOrder: timeOrder)
    return DatasetLoadOptions(
      read: read, kCore: KCoreThresholds(minUserInteractions: minUserInter, minItemInteractions: minItemInter),
      useCache: !noCache)
  }

  /// Loads `path`; a data error is printed as one line on stderr and ends the command with a failure code.
  func load(_ path: String) throws -> LoadedDataset {
    do {
      let directory = cacheDir.map { URL(fileURLWithPath: $0, isDirectory: true) }
      return try DatasetLoader.loadWithDetails(path: path, options: loadOptions, cacheDirectory: directory)
    } catch let error as DataError {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      throw ExitCode.failure
    }
  }
}

struct DataStatsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stats",
    abstract: "Print users, items, interactions, sequence lengths and leave-one-out example counts of a file.",
    discussion: """
      The file goes through the training pipeline: read (per-user chronological order), optional iterative \
      k-core filter, ids remapped to 1…N (0 = padding). The processed dataset is cached, keyed by the file's \
      content and the options, so later loads skip parsing.

      Example: seqrec data stats Video.txt --min-user-inter 5 --min-item-inter 5
      """
  )

  @Argument(help: "Interaction file to read.")
  var file: String

  @OptionGroup var dataset: DatasetOptions

  func run() async throws {
    let started = Date()
    let loaded = try dataset.load(file)
    let seconds = Date().timeIntervalSince(started)
    let data = loaded.dataset
    let statistics = DatasetStatistics(data)
    let split = LeaveOneOutSplit(data)
    var title = "\(data.name): \(loaded.layoutDescription)"
    let kCore = dataset.loadOptions.kCore
    if kCore.isActive { title += "; k-core \(kCore)" }
    print(statistics.table(title: title))
    let exampleRows = [
      (label: "train", value: DatasetStatistics.grouped(split.train.count)),
      (label: "valid", value: DatasetStatistics.grouped(split.valid.count)),
      (label: "test", value: DatasetStatistics.grouped(split.test.count)),
    ]
    print(DatasetStatistics.table(exampleRows, title: "leave-one-out examples (RecBole prefix augmentation)"))
    print("loaded in \(String(format: "%.3f", seconds)) s; cache: \(describe(loaded.cache))")
  }

  private func describe(_ outcome: CacheOutcome) -> String {
    switch outcome {
    case .disabled: return "off"
    case .hit(let path): return "hit (\(path))"
    case .stored(let path): return "written (\(path))"
    case .notStored(let path, let reason): return "not written to \(path): \(reason)"
    }
  }
}
