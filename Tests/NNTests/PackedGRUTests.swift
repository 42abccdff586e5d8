import Testing

@testable import NN
@testable import TensorCore

/// The packed (variable-length) GRU: each sequence gives what the padded GRU gives for it alone, and the backward
/// matches finite differences.
@Suite struct PackedGRUTests {
  static let lengths = [3, 5, 0, 1, 5]

  /// Hidden size 4 runs the cell's one-unit loop only, 12 its eight-unit loop and then four single units.
  static func makeGRU(bias: Bool, hidden: Int) -> GRU {
    let gru = GRU(name: "gru", inputSize: 3, hiddenSize: hidden, bias: bias)
    var rng = SeededRNG(seed: 1)
    for p in gru.parameters { p.value.fillUniform(-0.7, 0.7, rng: &rng) }
    return gru
  }

  @Test func layoutRanksByLengthAndCountsRunningSequences() {
    let layout = PackedSequenceLayout(lengths: Self.lengths)
    #expect(layout.rank == [2, 0, 4, 3, 1])
    #expect(layout.batchSizes == [4, 3, 3, 2, 2])
    #expect(layout.totalCount == 14)
    #expect(layout.index(sequence: 4, step: 2) == 7 + 1)
    let segments = SequenceSegments(lengths: [4, 5, 2, 1, 6])
    let x = randomTensor([segments.totalLength, 2], seed: 2)
    let back = layout.unpack(layout.pack(x, segments: segments), segments: segments)
    for b in 0..<5 {
      for t in 0..<segments.length(b) {
        for f in 0..<2 {
          let i = (segments.offsets[b] + t) * 2 + f
          #expect(back[i] == (t < Self.lengths[b] ? x[i] : 0))
        }
      }
    }
  }

  @Test(arguments: [true, false], [4, 12])
  func eachSequenceMatchesThePaddedGRURunAlone(bias: Bool, hidden: Int) {
    let gru = Self.makeGRU(bias: bias, hidden: hidden)
    let segments = SequenceSegments(lengths: Self.lengths)
    let layout = PackedSequenceLayout(lengths: Self.lengths)
    let x = randomTensor([segments.totalLength, 3], seed: 3)
    let (h, _) = gru.forward(packed: layout.pack(x, segments: segments), layout: layout)
    let unpacked = layout.unpack(h, segments: segments)
    for b in 0..<Self.lengths.count where Self.lengths[b] > 0 {
      let r = segments.range(b)
      let alone = Tensor(zeros: [1, r.count, 3])
      alone.ptr.update(from: x.ptr + r.lowerBound * 3, count: r.count * 3)
      let (reference, _) = gru.forward(alone)
      for i in 0..<(r.count * hidden) { #expect(abs(unpacked[r.lowerBound * hidden + i] - reference[i]) < 1e-6) }
    }
  }

  @Test(arguments: [true, false], [4, 12])
  func gradientsMatchFiniteDifferences(bias: Bool, hidden: Int) {
    let gru = Self.makeGRU(bias: bias, hidden: hidden)
    let layout = PackedSequenceLayout(lengths: Self.lengths)
    let x = checkedInput("x", randomTensor([layout.totalCount, 3], seed: 4))
    var cache: PackedGRUCache?
    let report = GradCheck.check(
      inputs: [x], parameters: gru.parameters, entriesPerTensor: 30,
      forward: {
        let (h, c) = gru.forward(packed: x.value, layout: layout)
        cache = c
        return h
      },
      backward: { dy in accumulate(gru.backward(packed: dy, cache!), into: x.grad) })
    expectPassed(report, "packed GRU (bias \(bias), hidden \(hidden))")
  }
}
