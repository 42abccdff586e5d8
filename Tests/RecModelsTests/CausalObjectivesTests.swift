import NN
import Testing

@testable import RecData
@testable import RecModels
@testable import TensorCore

@Suite struct CausalObjectivesTests {
  /// A random table E [12, 5] and output rows h [7, 5] with targets (including the padding id 0).
  static func fixture(seed: UInt64) -> (table: Embedding, hidden: Tensor, targets: [Int32]) {
    var rng = SeededRNG(seed: seed)
    let table = Embedding(name: "item_embedding", embeddingCount: 12, dimension: 5)
    table.weight.initNormal(std: 1, rng: &rng)
    let hidden = Tensor(zeros: [7, 5])
    hidden.fillNormal(std: 1, rng: &rng)
    return (table, hidden, [3, 0, 11, 5, 5, 1, 7])
  }

  @Test(arguments: [TiedSoftmaxCrossEntropy.defaultLogitsBudget, 24, 12])
  func tiedCrossEntropyMatchesTheMeanLossOnExplicitLogits(logitsBudget: Int) {
    let (table, hidden, targets) = Self.fixture(seed: 2)
    let lossScale: Float = 0.37
    let (loss, dHidden) = TiedSoftmaxCrossEntropy.lossAndBackward(
      hidden: hidden, targets: targets, table: table, lossScale: lossScale, model: "test",
      logitsBudget: logitsBudget)
    let tableGradient = table.weight.grad.copy()

    // Reference: explicit logits with the naive gemm, the mean loss of `Losses`, and its gradient pulled back.
    let rows = targets.count
    let logits = Tensor(zeros: [rows, 12])
    BLAS.naiveGemm(
      transA: false, transB: true, m: rows, n: 12, k: 5, a: hidden.ptr, lda: 5, b: table.weight.value.ptr, ldb: 5,
      c: logits.ptr, ldc: 12)
    let (meanLoss, dLogits) = Losses.softmaxCrossEntropy(
      logits: logits, targets: targets, scale: lossScale * Float(rows))
    let expectedDHidden = Tensor(zeros: [rows, 5])
    BLAS.naiveGemm(
      transA: false, transB: false, m: rows, n: 5, k: 12, a: dLogits.ptr, lda: 12, b: table.weight.value.ptr, ldb: 5,
      c: expectedDHidden.ptr, ldc: 5)
    let expectedTableGradient = Tensor(zeros: [12, 5])
    BLAS.naiveGemm(
      transA: true, transB: false, m: 12, n: 5, k: rows, a: dLogits.ptr, lda: 12, b: hidden.ptr, ldb: 5,
      c: expectedTableGradient.ptr, ldc: 5)

    #expect(abs(loss - Double(meanLoss) * Double(rows)) < 1e-4 * loss)
    #expect(ModelFixtures.maxAbsDifference(dHidden.array, expectedDHidden.array) < 1e-5)
    #expect(ModelFixtures.maxAbsDifference(tableGradient.array, expectedTableGradient.array) < 1e-5)
    #expect(tableGradient.array.contains { $0 != 0 })
  }

  @Test func tiedCrossEntropyAccumulatesIntoTheTableGradient() {
    let (table, hidden, targets) = Self.fixture(seed: 3)
    _ = TiedSoftmaxCrossEntropy.lossAndBackward(
      hidden: hidden, targets: targets, table: table, lossScale: 1, model: "test")
    let once = table.weight.grad.array
    _ = TiedSoftmaxCrossEntropy.lossAndBackward(
      hidden: hidden, targets: targets, table: table, lossScale: 1, model: "test", logitsBudget: 36)
    #expect(ModelFixtures.maxAbsDifference(table.weight.grad.array, once.map { 2 * $0 }) < 1e-5)
  }

  @Test func causalInputRunsOnlyTheLongestRowsColumns() {
    let batch = ModelFixtures.prefixBatch([[4], [5, 6, 7], []], targets: [1, 1, 1], maxLength: 6)
    let input = CausalInput(
      model: "test", items: batch.items, lengths: batch.lengths, batchMaxLength: 6, modelMaxLength: 6)
    #expect(input.steps == 3)
    #expect(input.ids == [4, 0, 0, 5, 6, 7, 0, 0, 0])
    #expect(OutputRows.lastPositions(of: input, targets: batch.targets).positions == [0, 5, 6])
    let empty = CausalInput(
      model: "test", items: [0, 0], lengths: [0, 0], batchMaxLength: 1, modelMaxLength: 6)
    #expect(empty.steps == 1)
  }

  @Test func windowTargetsMapToTheirPositions() {
    let windows = ModelFixtures.windowBatch()
    let input = CausalInput(
      model: "test", items: windows.items, lengths: windows.lengths, batchMaxLength: 6, modelMaxLength: 6)
    let rows = OutputRows.targetedPositions(of: windows, input: input, model: "test")
    // Row 0: position 0; row 1: positions 0…3; row 2: positions 1…5 (its first position has no target).
    #expect(rows.positions == [0] + (6...9) + (13...17))
    #expect(rows.targets == [2, 9, 1, 4, 6, 5, 5, 8, 10, 1])
    #expect(rows.targets.count == windows.targetCount)
  }

  @Test func gatherAndScatterAreAdjoint() {
    let x = Tensor(shape: [2, 3, 2], values: (0..<12).map(Float.init))
    let positions = [4, 0, 4]
    let gathered = x.gatheringRows(positions)
    #expect(gathered.array == [8, 9, 0, 1, 8, 9])
    let scattered = gathered.scatteringRows(positions, into: [2, 3, 2])
    #expect(scattered.array == [0, 1, 0, 0, 0, 0, 0, 0, 16, 18, 0, 0])
  }
}
