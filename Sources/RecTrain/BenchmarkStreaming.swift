import Dispatch
import RecData
import RecEval
import RecModels

/// Latency of serving one event with a streaming model: consume the item (`step`), score every item, select the
/// top 10 (partial selection, not a sort).
public struct StreamingLatency: Sendable {
  public var events: Int
  public var p50Microseconds: Double
  public var p99Microseconds: Double

  public static let topK = 10
  /// Events streamed per user before moving to the next user.
  public static let eventsPerUser = 50

  /// Streams users' items in order (every user from its initial state, users spread evenly over the dataset,
  /// `eventsPerUser` events each) and times every event.
  public static func measure<M: StreamingRecommender>(_ model: M, dataset: SequenceDataset, events: Int)
    -> StreamingLatency
  {
    let n = model.itemCount
    var scores = [Float](repeating: 0, count: n)
    var items = [Int32](repeating: 0, count: topK)
    var top = [Float](repeating: 0, count: topK)
    var durations: [Double] = []
    durations.reserveCapacity(events)
    let users = max(1, dataset.userCount)
    let userStride = max(1, users / max(1, (events + eventsPerUser - 1) / eventsPerUser))
    var user = 0
    var checksum: Int32 = 0
    while durations.count < events {
      let sequence = dataset.sequences[user % users]
      var state = model.initialStreamState()
      for item in sequence.prefix(eventsPerUser) where durations.count < events {
        let start = DispatchTime.now().uptimeNanoseconds
        model.advance(&state, item: item)
        scores.withUnsafeMutableBufferPointer { s in
          model.scores(state, into: s.baseAddress!)
          items.withUnsafeMutableBufferPointer { i in
            top.withUnsafeMutableBufferPointer { t in
              _ = TopK.select(k: topK, row: UnsafeBufferPointer(s), items: i.baseAddress!, topScores: t.baseAddress!)
            }
          }
        }
        durations.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
        checksum &+= items[0]
      }
      user += userStride
    }
    precondition(checksum != Int32.min)  // keeps the selection observable
    durations.sort()
    return StreamingLatency(
      events: durations.count, p50Microseconds: durations[durations.count / 2],
      p99Microseconds: durations[Int(0.99 * Double(durations.count - 1))])
  }
}
