import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TensorCore

/// `seqrec serve` as a library: a Hummingbird application over a `RecommendationEngine`, run under
/// swift-service-lifecycle.
///
/// Shutdown order on SIGTERM/SIGINT (graceful): the HTTP server stops accepting connections and finishes the
/// requests in flight; then the event writer commits what is queued, checkpoints the WAL and closes the store.
/// (Hummingbird runs its `services` before the server and shuts them down after it.)
public enum ServeApplication {
  public typealias App = Application<RouterResponder<BasicRequestContext>>

  /// Loads the checkpoint, opens the state store and builds the application (not yet listening).
  ///
  /// Serving pins OpenBLAS to one thread: requests run concurrently, each scoring on its own core.
  public static func make(
    checkpoint: URL, statePath: String, host: String, port: Int, options: RecommendationEngine.Options = .init(),
    logger: Logger = Logger(label: "seqrec.serve"), onListening: @escaping @Sendable (Int) async -> Void = { _ in }
  ) throws -> (App, RecommendationEngine) {
    Parallel.configure(owner: .app, threads: 1)
    let model = try ServedModel(directory: checkpoint)
    let engine = try RecommendationEngine(model: model, statePath: statePath, options: options)
    return (make(engine: engine, host: host, port: port, logger: logger, onListening: onListening), engine)
  }

  /// The application over an existing engine; `onListening` receives the bound port (useful with port 0).
  public static func make(
    engine: RecommendationEngine, host: String, port: Int, logger: Logger = Logger(label: "seqrec.serve"),
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
  ) -> App {
    Application(
      router: HTTPRoutes.router(engine: engine),
      configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "seqrec"),
      services: [engine.writer],
      onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
      logger: logger)
  }

  /// Runs `app` until SIGTERM or SIGINT, then shuts down gracefully.
  public static func run(_ app: App, logger: Logger) async throws {
    let group = ServiceGroup(
      configuration: ServiceGroupConfiguration(
        services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
  }
}
