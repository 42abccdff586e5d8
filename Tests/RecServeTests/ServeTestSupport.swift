import Foundation
import RecData
import RecModels
import RecServe
import RecTrain
import ServiceLifecycle
import TensorCore

/// A tiny RecBLR checkpoint trained once per test process (a few seconds) on synthetic cycles i → i+1.
enum TinyCheckpoint {
  static let items = 30
  private static let trained = Result { try train() }

  static func directory() throws -> URL { try trained.get() }

  private static func train() throws -> URL {
    Parallel.configure(owner: .app, threads: 1)
    var rng = SeededRNG(seed: 7)
    let sequences = (0..<60).map { _ -> [Int32] in
      let start = rng.int(below: items)
      return (0..<12).map { Int32(1 + (start + $0) % items) }
    }
    let data = SequenceDataset(
      name: "serve-cycles", sequences: sequences, rawUserIds: (0..<60).map { "u\($0)" },
      rawItemIds: ["[PAD]"] + (1...items).map { "item-\($0)" })
    let spec = try ModelSpec.resolve(
      model: "recblr", preset: nil, overrides: ["hiddenSize=8", "maxLength=8", "dropout=0", "layerCount=2"])
    var config = TrainingConfig()
    config.epochs = 2
    config.batchSize = 64
    config.microBatchSize = 32
    config.learningRate = 1e-2
    config.objective = .allPositions
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seqrec-serve-ckpt-\(UUID().uuidString)")
    try TrainingRun.train(
      spec: spec, dataset: data, source: "memory", config: config, run: try RunDirectory(dir), showProgress: false)
    return dir
  }
}

/// A fresh path for a state store (removed with its WAL files by `cleanUp`).
func temporaryStatePath() -> String {
  FileManager.default.temporaryDirectory.appendingPathComponent("seqrec-serve-\(UUID().uuidString).sqlite").path
}

func removeStore(_ path: String) {
  for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

/// `seqrec serve` running in-process on 127.0.0.1 and a free port, stopped by graceful shutdown.
final class RunningServer: @unchecked Sendable {
  let port: Int
  let engine: RecommendationEngine
  private let group: ServiceGroup
  private let task: Task<Void, any Error>

  private init(port: Int, engine: RecommendationEngine, group: ServiceGroup, task: Task<Void, any Error>) {
    self.port = port
    self.engine = engine
    self.group = group
    self.task = task
  }

  static func start(
    statePath: String, options: RecommendationEngine.Options = .init(), checkpoint: URL? = nil
  ) async throws -> RunningServer {
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let (app, engine) = try ServeApplication.make(
      checkpoint: try checkpoint ?? TinyCheckpoint.directory(), statePath: statePath, host: "127.0.0.1", port: 0,
      options: options
    ) { port in
      portContinuation.yield(port)
      portContinuation.finish()
    }
    let group = ServiceGroup(configuration: .init(services: [app], logger: app.logger))
    let task = Task { try await group.run() }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw TestFailure("the server did not start") }
    return RunningServer(port: port, engine: engine, group: group, task: task)
  }

  /// Graceful shutdown: the HTTP server stops, then the writer drains and closes the store.
  func stop() async throws {
    await group.triggerGracefulShutdown()
    try await task.value
  }

  /// One HTTP request on a new loopback connection, run off the cooperative pool.
  func request(_ method: String, _ path: String, body: String? = nil) async throws -> LoopbackHTTPClient.Response {
    try await send { try $0.request(method, path, body: body.map { Array($0.utf8) }) }
  }

  /// Raw bytes as the request (for malformed HTTP).
  func send(raw: [UInt8]) async throws -> LoopbackHTTPClient.Response {
    try await send { try $0.send(raw) }
  }

  private func send(
    _ body: @escaping @Sendable (LoopbackHTTPClient) throws -> LoopbackHTTPClient.Response
  ) async throws -> LoopbackHTTPClient.Response {
    let port = self.port
    return try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(with: Result { try body(LoopbackHTTPClient(port: port)) })
      }
    }
  }
}

struct TestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// A decoded recommendation response.
struct RecommendationResponse: Decodable, Equatable {
  struct Entry: Decodable, Equatable {
    var item: String
    var score: Float
  }
  var user: String?
  var source: String
  var history_length: Int
  var items: [Entry]
}

struct ErrorResponse: Decodable {
  struct Body: Decodable {
    var status: Int
    var message: String
  }
  var error: Body
}

extension LoopbackHTTPClient.Response {
  func decoded<T: Decodable>(_ type: T.Type) throws -> T {
    try JSONDecoder().decode(type, from: Data(body))
  }
}
