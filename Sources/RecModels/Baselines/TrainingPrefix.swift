import RecData

/// The part of each user's sequence a training-free baseline may learn from.
///
/// Given the training examples (user, target position), user u's training prefix is positions
/// `0 ... p_max(u)`, where `p_max(u)` is the largest training target position of u: the targets of the training
/// examples together with their histories, each interaction counted once. Under RecBole's leave-one-out split
/// (training targets 1 ..< n−2, validation target n−2, test target n−1) this is every item of the sequence except
/// the validation and test targets. A user without training examples contributes nothing.
enum TrainingPrefix {
  /// `lengths[u]` = number of leading items of user u's sequence inside the training prefix (0 if none).
  static func lengths(dataset: SequenceDataset, trainingExamples: [Example]) -> [Int] {
    var lengths = [Int](repeating: 0, count: dataset.userCount)
    for example in trainingExamples {
      let user = Int(example.user)
      precondition(user >= 0 && user < dataset.userCount, "training example user \(user) outside the dataset")
      let position = Int(example.position)
      precondition(
        position >= 0 && position < dataset.sequences[user].count,
        "training example position \(position) outside user \(user)'s sequence")
      lengths[user] = max(lengths[user], position + 1)
    }
    return lengths
  }

  /// Calls `body(items)` with the training prefix of every user that has one.
  static func forEachPrefix(
    dataset: SequenceDataset, trainingExamples: [Example], _ body: (ArraySlice<Int32>) -> Void
  ) {
    let lengths = lengths(dataset: dataset, trainingExamples: trainingExamples)
    for (user, length) in lengths.enumerated() where length > 0 {
      let prefix = dataset.sequences[user][0..<length]
      for item in prefix {
        precondition(
          item >= 1 && Int(item) < dataset.itemCount,
          "user \(user) has item id \(item) outside 1..<\(dataset.itemCount)")
      }
      body(prefix)
    }
  }
}
