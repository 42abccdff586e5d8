import Foundation

/// What a check of the store against its own event log found (the crash test's verdict).
public struct StateVerification: Sendable {
  public var users = 0
  public var events = 0
  /// Users whose stored state equals the replay of their log (same model tag, same last event, same values).
  public var matchingStates = 0
  /// The first few users whose state does not, and why.
  public var mismatches: [String] = []
  public var mismatchCount = 0
  /// Largest |stored − replayed| over every compared state value.
  public var maxAbsDifference: Float = 0
  public var acknowledged = 0
  /// Acknowledged event ids that are not in the log (lost).
  public var lost = 0

  public var passed: Bool { lost == 0 && mismatchCount == 0 && matchingStates == users }

  public var summary: String {
    """
    acknowledged events: \(acknowledged); lost: \(lost)
    events in the log: \(events); users: \(users)
    user states equal to a replay of the log: \(matchingStates) of \(users) (max |difference| \(maxAbsDifference))
    """
      + (mismatches.isEmpty
        ? ""
        : "\nmismatches (first \(mismatches.count) of \(mismatchCount)):\n  "
          + mismatches.joined(separator: "\n  "))
  }
}

/// Replays every user's event log with the model and compares with the stored state; checks that every
/// acknowledged event id is in the log.
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
      let replayed = model.replay(events.compactMap { model.itemId(raw: $0.item) })
      let problem: String?
      if let stored {
        if stored.fingerprint != model.fingerprint {
          problem = "state computed by model \(stored.fingerprint), not \(model.fingerprint)"
        } else if stored.lastSequence != events.last?.sequence {
          problem = "state includes events up to #\(stored.lastSequence), the log up to #\(events.last?.sequence ?? 0)"
        } else if let state = stored.state {
          let difference = maxDifference(state, replayed)
          report.maxAbsDifference = max(report.maxAbsDifference, difference ?? 0)
          problem = difference == 0 ? nil : "state differs from the replay (max |difference| \(difference ?? .nan))"
        } else {
          problem = "stored state is unreadable"
        }
      } else {
        problem = "no stored state"
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
