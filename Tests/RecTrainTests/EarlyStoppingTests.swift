import Testing

@testable import RecTrain

@Suite struct EarlyStoppingTests {
  @Test func tiesCountAsImprovementAndStopAfterElevenBadEpochs() {
    var stopping = EarlyStopping(stoppingStep: 10)
    #expect(stopping.record(0.10, epoch: 0) == .improved)
    #expect(stopping.record(0.10, epoch: 1) == .improved)  // a tie is an improvement (RecBole)
    #expect(stopping.bestEpoch == 1)
    for epoch in 2..<12 { #expect(stopping.record(0.05, epoch: epoch) == .noImprovement) }
    #expect(stopping.record(0.05, epoch: 12) == .stop)  // the 11th consecutive non-improving epoch
    #expect(stopping.best == 0.10)
  }

  @Test func improvementResetsTheCounter() {
    var stopping = EarlyStopping(stoppingStep: 1)
    #expect(stopping.record(0.2, epoch: 0) == .improved)
    #expect(stopping.record(0.1, epoch: 1) == .noImprovement)
    #expect(stopping.record(0.3, epoch: 2) == .improved)
    #expect(stopping.record(0.1, epoch: 3) == .noImprovement)
    #expect(stopping.record(0.1, epoch: 4) == .stop)
  }
}
