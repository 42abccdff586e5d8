import RecData
import RecEval
import RecModels

/// Top-K recommendations for one history, through the streaming form when the model has one.
public enum Recommender {
  public static func topK(
    model: any SequentialRecommender, history: [Int32], k: Int, excludeSeen: Bool = false
  ) -> [TopK.Entry] {
    var scores = [Float](repeating: 0, count: model.itemCount)
    scores.withUnsafeMutableBufferPointer { out in
      if let streaming = model as? any StreamingRecommender {
        streaming.scores(streaming.streamState(after: history), into: out.baseAddress!)
      } else {
        model.scores(SequenceDataset.batch(histories: [history], maxLength: model.maxLength), into: out.baseAddress!)
      }
    }
    return scores.withUnsafeBufferPointer {
      TopK.select($0.baseAddress!, count: model.itemCount, k: k, excluded: excludeSeen ? Set(history) : [])
    }
  }
}
