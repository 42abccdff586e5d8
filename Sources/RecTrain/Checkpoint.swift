import Foundation
import NN
import RecData
import RecEval
import RecModels
import TensorCore

/// An open checkpoint format: a directory with
/// - `model.safetensors`: every parameter by name (F32), and
/// - `checkpoint.json`: the model spec (kind + full config), the training config, the dataset fingerprint and
///   statistics, and the raw item/user id maps, so outputs can name raw ids.
/// Both files are written atomically (temp file + rename); `checkpoint.json` is written last.
public struct Checkpoint: Codable, Sendable {
  public static let formatVersion = 1
  public static let weightsFile = "model.safetensors"
  public static let metadataFile = "checkpoint.json"

  public struct DatasetInfo: Codable, Sendable, Equatable {
    public var name: String
    public var source: String
    public var fingerprint: String
    public var users: Int
    public var items: Int
    public var interactions: Int
  }

  public var formatVersion = Checkpoint.formatVersion
  public var model: ModelSpec
  public var itemCount: Int
  public var seed: UInt64
  public var training: TrainingConfig?
  public var dataset: DatasetInfo
  public var rawItemIds: [String]
  public var rawUserIds: [String]
  public var epoch: Int?
  public var valid: MetricReport?

  public init(
    model: ModelSpec, seed: UInt64, training: TrainingConfig?, dataset: SequenceDataset, source: String,
    epoch: Int? = nil, valid: MetricReport? = nil
  ) {
    self.model = model
    self.itemCount = dataset.itemCount
    self.seed = seed
    self.training = training
    self.dataset = DatasetInfo(
      name: dataset.name, source: source, fingerprint: dataset.fingerprint, users: dataset.userCount,
      items: dataset.itemCount - 1, interactions: dataset.interactionCount)
    self.rawItemIds = dataset.rawItemIds
    self.rawUserIds = dataset.rawUserIds
    self.epoch = epoch
    self.valid = valid
  }

  /// Writes `model`'s parameters and this metadata into `directory` (created if needed).
  public func write(model: any SequentialRecommender, to directory: URL) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try model.saveParameters(
      to: directory.appendingPathComponent(Checkpoint.weightsFile),
      metadata: ["format": "seqrec-checkpoint", "model": self.model.name])
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(self).write(to: directory.appendingPathComponent(Checkpoint.metadataFile), options: .atomic)
  }

  /// Reads the metadata of the checkpoint in `directory`.
  public static func read(from directory: URL) throws -> Checkpoint {
    let url = directory.appendingPathComponent(metadataFile)
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw CheckpointError.missing(url.path)
    }
    let checkpoint: Checkpoint
    do {
      checkpoint = try JSONDecoder().decode(Checkpoint.self, from: Data(contentsOf: url))
    } catch {
      throw CheckpointError.unreadable(url.path, "\(error)")
    }
    guard checkpoint.formatVersion == formatVersion else {
      throw CheckpointError.unreadable(
        url.path, "format version \(checkpoint.formatVersion), expected \(formatVersion)")
    }
    return checkpoint
  }

  /// Builds the model and loads its parameters from `directory`.
  public func loadModel(from directory: URL) throws -> any SequentialRecommender {
    let model = self.model.make(itemCount: itemCount, seed: seed)
    let weights = try SafeTensorsFile(contentsOf: directory.appendingPathComponent(Checkpoint.weightsFile))
    try model.loadParameters(from: weights, allowingExtraTensors: false)
    return model
  }

  /// Throws, naming every difference, unless `dataset` is the data this checkpoint was trained on.
  public func verify(dataset other: SequenceDataset) throws {
    var differences: [String] = []
    if other.itemCount - 1 != dataset.items { differences.append("items \(other.itemCount - 1) vs \(dataset.items)") }
    if other.userCount != dataset.users { differences.append("users \(other.userCount) vs \(dataset.users)") }
    if other.interactionCount != dataset.interactions {
      differences.append("interactions \(other.interactionCount) vs \(dataset.interactions)")
    }
    let fingerprint = other.fingerprint
    if fingerprint != dataset.fingerprint {
      differences.append("fingerprint \(fingerprint) vs \(dataset.fingerprint)")
    }
    if !differences.isEmpty {
      throw CheckpointError.datasetMismatch(
        "the data given (\(other.name)) is not the data this checkpoint was trained on (\(dataset.name), "
          + "\(dataset.source)): " + differences.joined(separator: "; "))
    }
  }

  /// Internal id of a raw item id, if the checkpoint knows it.
  public func itemId(raw: String) -> Int32? {
    itemIndex[raw].map(Int32.init)
  }

  private var itemIndex: [String: Int] {
    Dictionary(rawItemIds.enumerated().dropFirst().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
  }
}

public enum CheckpointError: Error, CustomStringConvertible {
  case missing(String)
  case unreadable(String, String)
  case datasetMismatch(String)

  public var description: String {
    switch self {
    case .missing(let path): return "\(path): no checkpoint here (expected \(Checkpoint.metadataFile))"
    case .unreadable(let path, let why): return "\(path): not a readable seqrec checkpoint: \(why)"
    case .datasetMismatch(let message): return message
    }
  }
}
