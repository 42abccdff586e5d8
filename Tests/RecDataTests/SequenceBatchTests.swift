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

  @Test func splitWindowsCarryEveryTrainingTargetOnceWithTheWindowsInput() {
    // Three users, 12, 7 and 4 items: training targets at positions 1…9, 1…4 and 1…1.
    let data = SequenceDataset(
      name: "three", sequences: [Array(1...12), Array(21...27), Array(31...34)].map { $0.map(Int32.init) },
      rawUserIds: ["u", "v", "w"], rawItemIds: ["[PAD]"] + (1...34).map { "i\($0)" })
    let expected = (Array(2...10) + Array(22...25) + [32]).map(Int32.init)
    for stride in [2, 4] {
      let windows = data.trainingWindows(maxLength: 4, stride: stride)
      for parts in 1...5 {
        let runs = windows.splittingTargets(parts: parts, seed: 7)
        let batch = data.windowBatch(runs, maxLength: 4)
        #expect(batch.targets.filter { $0 != 0 }.sorted() == expected, "stride \(stride), parts \(parts)")
        for (r, run) in runs.enumerated() {
          let carried = (0..<4).filter { batch.targets[r * 4 + $0] != 0 }
          #expect(carried.count == Int(run.targetCount) && run.targetCount > 0, "parts \(parts), run \(r)")
          for t in carried { #expect(batch.targets[r * 4 + t] == batch.items[r * 4 + t] + 1) }
          // A run feeds its window's whole input: the same items as the unsplit window.
          let source = windows.first { $0.user == run.user && $0.start == run.start && $0.length == run.length }!
          let whole = data.windowBatch([source], maxLength: 4)
          #expect(Array(batch.items[r * 4..<(r + 1) * 4]) == whole.items)
        }
        if parts > 1 { #expect(runs.count > windows.count, "parts \(parts): no window was split") }
      }
    }
    // Another seed assigns the targets to other runs.
    let windows = data.trainingWindows(maxLength: 4, stride: 4)
    let a = data.windowBatch(windows.splittingTargets(parts: 3, seed: 1), maxLength: 4).targets
    let b = data.windowBatch(windows.splittingTargets(parts: 3, seed: 2), maxLength: 4).targets
    #expect(a != b)
  }
}
