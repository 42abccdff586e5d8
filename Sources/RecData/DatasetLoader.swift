import Foundation

/// Everything that decides how a file becomes a `SequenceDataset`.
public struct DatasetLoadOptions: Hashable, Sendable {
  public var read: ReadOptions
  public var kCore: KCoreThresholds
  /// Read and write the processed-dataset cache.
  public var useCache: Bool

  public init(read: ReadOptions = ReadOptions(), kCore: KCoreThresholds = .none, useCache: Bool = true) {
    self.read = read
    self.kCore = kCore
    self.useCache = useCache
  }

  /// Shorthands for the fields most callers set.
  public var format: InteractionFormat {
    get { read.format }
    set { read.format = newValue }
  }

  public var minUserInteractions: Int {
    get { kCore.minUserInteractions }
    set { kCore.minUserInteractions = newValue }
  }

  public var minItemInteractions: Int {
    get { kCore.minItemInteractions }
    set { kCore.minItemInteractions = newValue }
  }
}

/// What happened with the processed-dataset cache during a load.
public enum CacheOutcome: Equatable, Sendable {
  case disabled
  /// Loaded from this cache file.
  case hit(path: String)
  /// Built from the source and written to this cache file.
  case stored(path: String)
  /// Built from the source; the cache file could not be written (the load still succeeded).
  case notStored(path: String, reason: String)
}

/// A loaded dataset with how it was obtained.
public struct LoadedDataset: Sendable {
  public var dataset: SequenceDataset
  /// The layout used to read the source (as recorded in the cache on a hit).
  public var layoutDescription: String
  public var cache: CacheOutcome
}

/// Reads an interaction file, applies the k-core filter, remaps ids, and caches the result keyed by the file's
/// content and every option, so a second load skips parsing.
public enum DatasetLoader {
  /// Bump when reading, filtering or remapping changes what a given file and options produce.
  /// 2: `normalized-float32` normalises over the interactions the k-core keeps.
  public static let pipelineVersion = 2

  /// `$SEQREC_CACHE_DIR`, else `~/.cache/seqrec`.
  public static var defaultCacheDirectory: URL {
    if let dir = ProcessInfo.processInfo.environment["SEQREC_CACHE_DIR"], !dir.isEmpty {
      return URL(fileURLWithPath: dir, isDirectory: true)
    }
    return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/seqrec", isDirectory: true)
  }

  public static func load(
    path: String, options: DatasetLoadOptions = DatasetLoadOptions(), cacheDirectory: URL? = nil
  ) throws -> SequenceDataset {
    try loadWithDetails(path: path, options: options, cacheDirectory: cacheDirectory).dataset
  }

  public static func loadWithDetails(
    path: String, options: DatasetLoadOptions = DatasetLoadOptions(), cacheDirectory: URL? = nil
  ) throws -> LoadedDataset {
    let data = try InteractionReader.fileContents(path: path)
    let name = URL(fileURLWithPath: path).lastPathComponent
    return try data.withUnsafeBytes { bytes -> LoadedDataset in
      guard options.useCache else {
        let (dataset, layout) = try build(path: path, name: name, bytes: bytes, options: options)
        return LoadedDataset(dataset: dataset, layoutDescription: layout.description, cache: .disabled)
      }
      let key = cacheKey(sourceBytes: bytes, options: options)
      let directory = cacheDirectory ?? defaultCacheDirectory
      let file = directory.appendingPathComponent(cacheFileName(name: name, key: key))
      if let cached = readCache(file, key: key) {
        return LoadedDataset(
          dataset: cached.dataset, layoutDescription: cached.layoutDescription, cache: .hit(path: file.path))
      }
      let (dataset, layout) = try build(path: path, name: name, bytes: bytes, options: options)
      let contents = DatasetCacheFile.Contents(key: key, layoutDescription: layout.description, dataset: dataset)
      let outcome = writeCache(contents, to: file, directory: directory)
      return LoadedDataset(dataset: dataset, layoutDescription: layout.description, cache: outcome)
    }
  }

  /// The cache key: pipeline and file-format versions, the source's size and content hash, and the options.
  public static func cacheKey(sourceBytes: UnsafeRawBufferPointer, options: DatasetLoadOptions) -> String {
    [
      "seqrec processed dataset, pipeline \(pipelineVersion), cache format \(DatasetCacheFile.formatVersion)",
      "source size \(sourceBytes.count), content \(StableHash.hex(StableHash.content(sourceBytes)))",
      "read \(options.read)",
      "k-core \(options.kCore)",
    ].joined(separator: "\n")
  }

  static func cacheFileName(name: String, key: String) -> String {
    let safeName = String(name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }.prefix(80))
    return "\(safeName)-\(StableHash.hex(StableHash.fnv1a(key))).seqds"
  }

  private static func build(
    path: String, name: String, bytes: UnsafeRawBufferPointer, options: DatasetLoadOptions
  ) throws -> (SequenceDataset, InteractionLayout) {
    let (raw, layout) = try InteractionReader.read(path: path, bytes: bytes, options: options.read)
    let filtered = raw.kCoreFiltered(options.kCore)
    if filtered.userCount == 0 {
      throw DataError(path: path, "no interactions left after the k-core filter (\(options.kCore))")
    }
    return (SequenceDataset(remapping: filtered, name: name), layout)
  }

  /// The cached contents if `file` exists, decodes cleanly and carries exactly `key`; nil otherwise.
  private static func readCache(_ file: URL, key: String) -> DatasetCacheFile.Contents? {
    guard let data = try? Data(contentsOf: file, options: .mappedIfSafe) else { return nil }
    guard let contents = try? data.withUnsafeBytes({ try DatasetCacheFile.decode($0) }) else { return nil }
    return contents.key == key ? contents : nil
  }

  private static func writeCache(_ contents: DatasetCacheFile.Contents, to file: URL, directory: URL) -> CacheOutcome {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      try Data(DatasetCacheFile.encode(contents)).write(to: file, options: .atomic)
      return .stored(path: file.path)
    } catch {
      return .notStored(path: file.path, reason: error.localizedDescription)
    }
  }
}
