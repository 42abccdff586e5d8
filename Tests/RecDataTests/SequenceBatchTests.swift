import Testing

@testable import RecData

@Suite struct SequenceBatchTests {
  let dataset = SequenceDataset(
    name: "tiny", sequences: [[1, 2, 3, 4, 5], [3, 1]], rawUserIds: ["u1", "u2"],
    rawItemIds: ["[PAD]", "a", "b", "c", "d", "e"])

  @Test func batchKeepsTheLastItemsLeftAlignedAndRightPadded() {
    let b = dataset.batch([Example(user: 0, position: 4), Example(user: 1, position: 1)], maxLength: 3)
    #expect(b.items == [2, 3, 4, 3, 0, 0])
    #expect(b.lengths == [3, 1])
    #expect(b.targets == [5, 1])
    #expect(b.users == [0, 1])
  }

  @Test func windowsCoverEveryTrainingTargetOnce() {
    // One user with n = 12 items: training targets are positions 1…9 (10 = valid, 11 = test).
    let long = SequenceDataset(
      name: "long", sequences: [Array(1...12).map(Int32.init)], rawUserIds: ["u"],
      rawItemIds: ["[PAD]"] + (1...12).map { "i\($0)" })
    for stride in 1...4 {
      let windows = long.trainingWindows(maxLength: 4, stride: stride)
      let batch = long.windowBatch(windows, maxLength: 4)
      let targets = batch.targets.filter { $0 != 0 }.sorted()
      #expect(targets == Array(2...10).map(Int32.init), "stride \(stride)")  // positions 1…9 → items 2…10
      for r in 0..<batch.count {
        for t in 0..<4 where batch.targets[r * 4 + t] != 0 {
          #expect(batch.targets[r * 4 + t] == batch.items[r * 4 + t] + 1)  // the target follows its input
        }
      }
    }
  }
}
