import ArgumentParser
import Foundation
import RecData
import RecEval
import RecModels
import RecTrain
import TensorCore

struct RecommendCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recommend",
    abstract: "Top-K next items (raw ids) for a known user or for an ad-hoc list of raw item ids.",
    discussion: """
      Models with a streaming form (RecBLR) fold the history into their recurrent state one item at a time; others \
      run the parallel forward on the last L items.

      Examples:
        seqrec recommend --checkpoint runs/demo --data data/ml-100k/ml-100k.inter --user 196
        seqrec recommend --checkpoint runs/demo --items 50,181,258 -k 5 --titles data/ml-100k/ml-100k.item
      """
  )

  @Option(help: "Run directory or checkpoint directory.") var checkpoint: String
  @Option(help: "Raw id of a user of the training data (needs --data).") var user: String?
  @Option(help: "Comma-separated raw item ids, oldest first (an ad-hoc history).") var items: String?
  @Option(help: "Interaction file the checkpoint was trained on (for --user).") var data: String?
  @Option(name: .shortAndLong, parsing: .unconditional, help: "How many items.") var k: Int = 10
  @Flag(help: "Do not recommend items already in the history.") var excludeSeen = false
  @Option(help: "Item titles to print (RecBole .item file or MovieLens movies.dat).") var titles: String?
  @OptionGroup var dataset: DatasetOptions

  func validate() throws {
    if (user == nil) == (items == nil) { throw ValidationError("give exactly one of --user or --items") }
    if user != nil && data == nil { throw ValidationError("--user needs --data (the training interaction file)") }
    if k < 1 { throw ValidationError("-k must be at least 1") }
  }

  func run() async throws {
    Parallel.configure(owner: .app, threads: 1)
    let dir = URL(fileURLWithPath: checkpoint)
    let meta = try reportingErrors { try Checkpoint.read(from: dir) }
    let model = try reportingErrors { try meta.loadModel(from: dir) }
    let history: [Int32]
    if let user {
      let loaded = try dataset.load(data!)
      try reportingErrors { try meta.verify(dataset: loaded.dataset) }
      guard let u = loaded.dataset.rawUserIds.firstIndex(of: user) else {
        FileHandle.standardError.write(Data("error: user '\(user)' is not in \(loaded.dataset.name)\n".utf8))
        throw ExitCode.failure
      }
      history = loaded.dataset.sequences[u]
    } else {
      let raw = items!.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      history = try raw.map { id in
        guard let itemId = meta.itemId(raw: id) else {
          FileHandle.standardError.write(Data("error: item '\(id)' is not known to this checkpoint\n".utf8))
          throw ExitCode.failure
        }
        return itemId
      }
    }
    let titleMap = try titles.map { path in try reportingErrors { try ItemTitles.load(path: path) } } ?? [:]
    let top = Recommender.topK(model: model, history: history, k: k, excludeSeen: excludeSeen)
    print(
      "history: \(history.count) items; model \(meta.model.name)\(model is any StreamingRecommender ? " (streaming)" : "")"
    )
    for (rank, entry) in top.enumerated() {
      let raw = meta.rawItemIds[Int(entry.item)]
      let title = titleMap[raw].map { "  \($0)" } ?? ""
      print(String(format: "%2d. %@  %.4f%@", rank + 1, raw, entry.score, title))
    }
  }
}
