/// RecBole's leave-one-out split of prefix examples (`eval_args.split = {LS: valid_and_test}`, order TO).
///
/// A user with n items yields the n−1 prefix examples "target at position p, history = the items before it" for
/// p = 1…n−1 (RecBole's `data_augmentation`). `_split_index_by_leave_one_out` then leaves out
/// k = min(2, (n−1)−1) of them: the first (n−1)−k go to training and the k left out fill the LAST k of
/// [valid, test]. Hence, per user:
/// - n ≥ 4: train p = 1…n−3, valid p = n−2, test p = n−1;
/// - n = 3: train p = 1, test p = 2, no valid example (k = 1 fills "test", the last list);
/// - n = 2: train p = 1 only (k = 0);
/// - n = 1: no example at all.
/// Examples are listed user by user, positions ascending. Histories are not materialised: use
/// `SequenceDataset.history(of:maxLength:)` or `batch(_:maxLength:)` (the last ≤ L items before the target).
public struct LeaveOneOutSplit: Sendable {
  public let train: [Example]
  public let valid: [Example]
  public let test: [Example]

  public init(_ dataset: SequenceDataset) {
    var train: [Example] = []
    var valid: [Example] = []
    var test: [Example] = []
    train.reserveCapacity(max(0, dataset.interactionCount - 3 * dataset.userCount))
    for (user, sequence) in dataset.sequences.enumerated() {
      let plan = Self.positions(forLength: sequence.count)
      let u = Int32(user)
      for p in plan.train { train.append(Example(user: u, position: Int32(p))) }
      if let p = plan.valid { valid.append(Example(user: u, position: Int32(p))) }
      if let p = plan.test { test.append(Example(user: u, position: Int32(p))) }
    }
    self.train = train
    self.valid = valid
    self.test = test
  }

  /// Target positions of each part for a user with `length` items (see the type's documentation).
  public static func positions(forLength length: Int) -> (train: Range<Int>, valid: Int?, test: Int?) {
    let exampleCount = max(0, length - 1)
    let leftOut = max(0, min(2, exampleCount - 1))
    let trainEnd = 1 + exampleCount - leftOut
    let train = 1..<max(1, trainEnd)
    switch leftOut {
    case 2: return (train, length - 2, length - 1)
    case 1: return (train, nil, length - 1)
    default: return (train, nil, nil)
    }
  }
}
