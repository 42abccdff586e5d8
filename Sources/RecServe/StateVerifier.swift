import Foundation

/// What a check of the store against its own event log found (the crash test's verdict).
public struct StateVerification: Sendable {
  public var users = 0
  public var events = 0
  /// Users with a row in the state table.
  public var storedStates = 0
  /// Stored states that equal the replay of the user's log up to the last event they include (same model tag).
  public var matchingStates = 0
  /// Events logged after their user's stored state (or of users without one): the server replays them when it
  /// loads the state, so it serves the replay of the whole log.
  public var eventsAfterStoredStates = 0
  /// The first few users whose state does not, and why.
  public var mismatches: [String] = []
  public var mismatchCount = 0
  /// Largest |stored − replayed| over every compared state value.
  public var maxAbsDifference: Float = 0
  public var acknowledged = 0
  /// Acknowledged event ids that are not in the log (lost).
  public var lost = 0

  public var passed: Bool { lost == 0 && mismatchCount == 0 && matchingStates == storedStates }

  public var summary: String {
    """
    acknowledged events: \(acknowledged); lost: \(lost)
    events in the log: \(events); users: \(users)
    stored user states equal to a replay of the log up to their last event: \(matchingStates) of \(storedStates) \
    (max |difference| \(maxAbsDifference))
    events after the stored states (replayed onto them when loaded): \(eventsAfterStoredStates); \
    users without a stored state: \(users - storedStates)
    """
      + (mismatches.isEmpty
        ? ""
        : "\nmismatches (first \(mismatches.count) of \(mismatchCount)):\n  "
          + mismatches.joined(separator: "\n  "))
  }
}

/// Replays every user's event log with the model and compares with the stored state (which includes the user's
/// events up to its `last_seq`); checks that every acknowledged event id is in the log.
public enum StateVerifier {
  public static func verify(
    store: EventStore, model: ServedModel, acknowledgedEventIds: [String] = []
  ) throws -> StateVerification {
    var report = StateVerification()
    report.acknowledged = acknowledgedEventIds.count
    report.lost = try store.containsEventIds(acknowledgedEventIds).filter { !$0 }.count
    try store.forEachUser { user, events, stored in
      report.users += 1
      report.events += events.count
      guard let stored else {
        report.eventsAfterStoredStates += events.count
        return
      }
      report.storedStates += 1
      let included = events.prefix { $0.sequence <= stored.lastSequence }
      let problem: String?
      if stored.fingerprint != model.fingerprint {
        problem = "state computed by model \(stored.fingerprint), not \(model.fingerprint)"
      } else if stored.lastSequence != (included.last?.sequence ?? 0) {
        problem = "state includes events up to #\(stored.lastSequence), which is not an event of this user"
      } else if let state = stored.state {
        let replayed = model.replay(logged: included)
        let difference = maxDifference(state, replayed)
        report.maxAbsDifference = max(report.maxAbsDifference, difference ?? 0)
        problem = difference == 0 ? nil : "state differs from the replay (max |difference| \(difference ?? .nan))"
        report.eventsAfterStoredStates += events.count - included.count
      } else {
        problem = "stored state is unreadable"
      }
      if let problem {
        report.mismatchCount += 1
        if report.mismatches.count < 10 { report.mismatches.append("user \(user): \(problem)") }
      } else {
        report.matchingStates += 1
      }
    }
    return report
  }

  /// The largest absolute difference between two states of the same form, or nil when they are not comparable.
  static func maxDifference(_ a: UserState, _ b: UserState) -> Float? {
    switch (a, b) {
    case (.stream(let x), .stream(let y)):
      guard x.itemCount == y.itemCount, x.values.count == y.values.count else { return nil }
      return zip(x.values, y.values).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
    case (.window(let x, let cx), .window(let y, let cy)):
      return x == y && cx == cy ? 0 : nil
    default:
      return nil
    }
  }
}
