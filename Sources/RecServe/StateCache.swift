import Foundation
import RecEval

/// A user's committed state as the writer tracks it: the state after every logged event of the user up to
/// `lastSequence`, and how many of those events came after the state last stored in the `user_state` table.
struct CachedState: Sendable {
  var state: UserState
  var lastSequence: Int64
  var unsavedEvents: Int
}

/// Users' committed states in memory, so a recommendation reads no SQLite. Only the event writer inserts (after
/// its transaction committed), so every entry equals a replay of the user's committed log; readers only look up.
/// Bounded: past `capacity` users, arbitrary entries are dropped (they are reloaded from the store on their next
/// use: the stored state plus a replay of the user's events logged after it).
final class StateCache: @unchecked Sendable {
  private let lock = NSLock()
  private var entries: [String: CachedState] = [:]
  let capacity: Int

  init(capacity: Int) {
    precondition(capacity > 0, "the state cache needs room for at least one user")
    self.capacity = capacity
  }

  func state(of user: String) -> UserState? {
    lock.lock()
    defer { lock.unlock() }
    return entries[user]?.state
  }

  /// Writer only.
  func entry(of user: String) -> CachedState? {
    lock.lock()
    defer { lock.unlock() }
    return entries[user]
  }

  /// Writer only: the committed states of one transaction.
  func store(_ committed: [String: CachedState]) {
    lock.lock()
    defer { lock.unlock() }
    if entries.count + committed.count > capacity {
      let excess = entries.count + committed.count - capacity + capacity / 8
      for key in entries.keys.prefix(excess) where committed[key] == nil { entries[key] = nil }
    }
    entries.merge(committed) { _, new in new }
  }

  /// Writer only: the entries whose newest events are not in their stored state yet.
  func unsavedEntries() -> [(user: String, entry: CachedState)] {
    lock.lock()
    defer { lock.unlock() }
    return entries.filter { $0.value.unsavedEvents > 0 }.map { (user: $0.key, entry: $0.value) }
  }

  var count: Int {
    lock.lock()
    defer { lock.unlock() }
    return entries.count
  }
}

/// Item popularity for users without history: event counts per item, seeded from the event log at start (plus,
/// optionally, the checkpoint's training data) and incremented as events commit.
final class ItemPopularity: @unchecked Sendable {
  private let lock = NSLock()
  private var counts: [Int64]

  init(itemCount: Int) {
    counts = [Int64](repeating: 0, count: itemCount)
  }

  /// Adds `amount` occurrences of each internal id in `items`.
  func add<S: Sequence>(_ items: S, amount: Int64 = 1) where S.Element == Int32 {
    lock.lock()
    defer { lock.unlock() }
    for item in items where item >= 1 && Int(item) < counts.count { counts[Int(item)] += amount }
  }

  func add(counts extra: [Int64]) {
    lock.lock()
    defer { lock.unlock() }
    for (i, n) in extra.enumerated() where i >= 1 && i < counts.count { counts[i] += n }
  }

  func count(of item: Int32) -> Int64 {
    lock.lock()
    defer { lock.unlock() }
    return counts[Int(item)]
  }

  /// The `k` most frequent items (count > 0), most frequent first, ties to the lower id; scores are the counts.
  func top(_ k: Int, excluded: Set<Int32> = []) -> [TopK.Entry] {
    lock.lock()
    let scores = counts.map { $0 > 0 ? Float($0) : Float.nan }
    lock.unlock()
    return scores.withUnsafeBufferPointer {
      TopK.select($0.baseAddress!, count: $0.count, k: k, excluded: excluded)
    }
  }
}
