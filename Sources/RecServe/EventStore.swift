import Foundation
import GRDB

/// One event as the log records it. `item` is the raw id (internal ids change with the checkpoint).
public struct LoggedEvent: Equatable, Sendable {
  public var sequence: Int64
  public var eventId: String?
  public var user: String
  public var item: String
  public var timestamp: Double?
}

/// The server's durable state in one SQLite file (GRDB, WAL mode, `synchronous = FULL`):
///
/// - `event`: the append-only event log, the source of truth. `seq` gives arrival order; `event_id` is unique when
///   given, so a retried event is recognised and applied once.
/// - `user_state`: each user's state after their logged events up to `last_seq`, tagged with the fingerprint of the
///   model that computed it. Written in the same transaction as the events it includes (every few events of the
///   user, see `EventWriter`), so after a crash it always equals a replay of the log up to `last_seq`; loading it
///   replays the user's later events, and a state with another model's tag is rebuilt from the whole log.
public final class EventStore: Sendable {
  public let path: String
  let pool: DatabasePool

  /// Opens (creating if needed) the store at `path`.
  public init(path: String) throws {
    self.path = path
    var configuration = Configuration()
    configuration.label = "seqrec-state"
    configuration.busyMode = .timeout(5)
    do {
      pool = try DatabasePool(path: path, configuration: configuration)
      // GRDB sets `synchronous = NORMAL` with WAL; FULL makes every commit durable against power loss too.
      try pool.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA synchronous = FULL")
      }
      try Self.migrator.migrate(pool)
    } catch {
      throw StoreError.unavailable("cannot open the state store \(path): \(error)")
    }
  }

  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1: event log and user states") { db in
      try db.execute(
        sql: """
          CREATE TABLE event (
            seq INTEGER PRIMARY KEY,
            event_id TEXT UNIQUE,
            user TEXT NOT NULL,
            item TEXT NOT NULL,
            timestamp REAL,
            received_at REAL NOT NULL
          );
          CREATE INDEX event_by_user ON event(user, seq);
          CREATE TABLE user_state (
            user TEXT PRIMARY KEY NOT NULL,
            model_fingerprint TEXT NOT NULL,
            last_seq INTEGER NOT NULL,
            state BLOB NOT NULL
          ) WITHOUT ROWID;
          """)
    }
    return migrator
  }

  /// The journal mode and synchronous level of the writer connection (for tests and /healthz).
  public func pragmas() throws -> (journalMode: String, synchronous: Int) {
    try pool.writeWithoutTransaction { db in
      (
        try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?",
        try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
      )
    }
  }

  public func close() throws { try pool.close() }

  /// Moves the WAL into the database file (and truncates the WAL), then closes every connection.
  public func checkpointAndClose() throws {
    try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    try pool.close()
  }

  // MARK: - Inside the writer's transaction

  /// Appends one event; returns its sequence number, or nil when `eventId` is already in the log (a retry).
  func append(
    user: String, item: String, timestamp: Double?, eventId: String?, receivedAt: Double, in db: Database
  ) throws -> Int64? {
    let statement = try db.cachedStatement(
      sql: """
        INSERT INTO event (event_id, user, item, timestamp, received_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(event_id) DO NOTHING
        """)
    try statement.execute(arguments: [eventId, user, item, timestamp, receivedAt])
    return db.changesCount == 0 ? nil : db.lastInsertedRowID
  }

  /// The stored state of `user` when `fingerprint` computed it and it decodes, with the last sequence it includes.
  func storedState(of user: String, fingerprint: String, in db: Database) throws -> (UserState, Int64)? {
    let statement = try db.cachedStatement(
      sql: "SELECT model_fingerprint, last_seq, state FROM user_state WHERE user = ?")
    guard let row = try Row.fetchOne(statement, arguments: [user]) else { return nil }
    guard row["model_fingerprint"] as String == fingerprint, let state = UserStateBlob.decode(row["state"]) else {
      return nil
    }
    return (state, row["last_seq"])
  }

  func saveState(_ state: UserState, of user: String, fingerprint: String, lastSequence: Int64, in db: Database)
    throws
  {
    let statement = try db.cachedStatement(
      sql: """
        INSERT INTO user_state (user, model_fingerprint, last_seq, state) VALUES (?, ?, ?, ?)
        ON CONFLICT(user) DO UPDATE SET
          model_fingerprint = excluded.model_fingerprint, last_seq = excluded.last_seq, state = excluded.state
        """)
    try statement.execute(arguments: [user, fingerprint, lastSequence, UserStateBlob.encode(state)])
  }

  /// Every logged event of `user` in arrival order.
  func events(of user: String, in db: Database) throws -> [LoggedEvent] {
    let statement = try db.cachedStatement(
      sql: "SELECT seq, event_id, user, item, timestamp FROM event WHERE user = ? ORDER BY seq")
    return try Row.fetchAll(statement, arguments: [user]).map(Self.event)
  }

  /// The logged events of `user` after sequence number `sequence`, in arrival order.
  func events(of user: String, after sequence: Int64, in db: Database) throws -> [LoggedEvent] {
    let statement = try db.cachedStatement(
      sql: "SELECT seq, event_id, user, item, timestamp FROM event WHERE user = ? AND seq > ? ORDER BY seq")
    return try Row.fetchAll(statement, arguments: [user, sequence]).map(Self.event)
  }

  static func event(_ row: Row) -> LoggedEvent {
    LoggedEvent(
      sequence: row["seq"], eventId: row["event_id"], user: row["user"], item: row["item"],
      timestamp: row["timestamp"])
  }

  // MARK: - Reads (concurrent, from WAL snapshots)

  /// Raw ids of every item `user` has an event for.
  public func seenItems(of user: String) async throws -> [String] {
    try await pool.read { db in
      try String.fetchAll(
        db.cachedStatement(sql: "SELECT DISTINCT item FROM event WHERE user = ?"), arguments: [user])
    }
  }

  /// Events per raw item id over the whole log (the live popularity).
  public func itemCounts() throws -> [String: Int] {
    try pool.read { db in
      var counts: [String: Int] = [:]
      let rows = try Row.fetchCursor(db, sql: "SELECT item, COUNT(*) AS n FROM event GROUP BY item")
      while let row = try rows.next() { counts[row["item"]] = row["n"] }
      return counts
    }
  }

  public func eventCount() throws -> Int {
    try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event") ?? 0 }
  }

  /// Whether each event id is in the log.
  public func containsEventIds(_ ids: [String]) throws -> [Bool] {
    try pool.read { db in
      let statement = try db.cachedStatement(sql: "SELECT 1 FROM event WHERE event_id = ?")
      return try ids.map { try Int.fetchOne(statement, arguments: [$0]) != nil }
    }
  }

  /// Visits every user's events (arrival order) with the user's stored state row (tag, last seq, decoded state).
  public func forEachUser(
    _ body: (
      _ user: String, _ events: [LoggedEvent], _ stored: (fingerprint: String, lastSequence: Int64, state: UserState?)?
    )
      throws -> Void
  ) throws {
    try pool.read { db in
      let users = try String.fetchAll(db, sql: "SELECT DISTINCT user FROM event ORDER BY user")
      let stateStatement = try db.cachedStatement(
        sql: "SELECT model_fingerprint, last_seq, state FROM user_state WHERE user = ?")
      for user in users {
        let events = try events(of: user, in: db)
        let stored = try Row.fetchOne(stateStatement, arguments: [user]).map {
          (
            fingerprint: $0["model_fingerprint"] as String, lastSequence: $0["last_seq"] as Int64,
            state: UserStateBlob.decode($0["state"])
          )
        }
        try body(user, events, stored)
      }
    }
  }
}

public enum StoreError: Error, CustomStringConvertible {
  case unavailable(String)
  case shuttingDown

  public var description: String {
    switch self {
    case .unavailable(let message): return message
    case .shuttingDown: return "the server is shutting down; the event was not applied"
    }
  }
}
