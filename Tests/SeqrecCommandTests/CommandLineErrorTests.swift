import ArgumentParser
import Testing

@testable import seqrec

/// The command line's flag checks: a bad flag is refused before any data is read, with one message that says which
/// setting is wrong, and good flags parse to the values given (negative numbers included, so the range check, not
/// the parser, is what answers).
@Suite struct CommandLineErrorTests {
  /// The message `seqrec` prints for `arguments` (nil when they parse and validate).
  static func message(_ arguments: [String]) -> String? {
    do {
      _ = try Seqrec.parseAsRoot(arguments)
      return nil
    } catch {
      return Seqrec.message(for: error)
    }
  }

  static let train = ["train", "--model", "recblr", "--data", "interactions.txt"]

  @Test(arguments: [
    (["--learning-rate", "-1"], "learning rate must be positive, got -1.0"),
    (["--learning-rate", "0"], "learning rate must be positive, got 0.0"),
    (["--learning-rate", "nan"], "learning rate must be positive, got nan"),
    (["--weight-decay", "-0.5"], "weight decay must be ≥ 0, got -0.5"),
    (["--clip-grad-norm", "0"], "gradient-norm clip must be positive, got 0.0"),
    (["--epochs", "0"], "epochs must be at least 1, got 0"),
    (["--epochs", "-3"], "epochs must be at least 1, got -3"),
    (["--batch-size", "0"], "batch sizes must be positive"),
    (["--micro-batch-size", "-8"], "batch sizes must be positive"),
    (["--stopping-step", "-1"], "stopping step must be ≥ 0, got -1"),
    (["--time-budget-minutes", "-5"], "time budget must be positive, got -300.0 s"),
    (["--window-stride", "0"], "window stride must be at least 1, got 0"),
    (["--window-splits", "0"], "window splits must be at least 1, got 0"),
    (["--window-splits", "4"], "window splits (4) apply to the all-positions objective, not prefix"),
    (["--ks", "10,0"], "--ks must be positive integers"),
    (["--threads", "-2"], "--threads must be at least 1"),
    (["--objective", "everything"], "everything"),
    (["--learning-rate", "fast"], "fast"),
    (["--no-such-flag"], "no-such-flag"),
  ])
  func badTrainingFlagsAreRefusedNamingTheSetting(flags: [String], expected: String) throws {
    let message = try #require(Self.message(Self.train + flags), "\(flags) was accepted")
    #expect(message.contains(expected), "\(flags): \(message)")
    #expect(!message.trimmingCharacters(in: .whitespacesAndNewlines).contains("\n"), "not one line: \(message)")
  }

  @Test func goodTrainingFlagsParseToTheirValues() throws {
    let flags = [
      "--learning-rate", "0.002", "--weight-decay", "1e-4", "--epochs", "7", "--time-budget-minutes", "1.5",
      "--objective", "all-positions", "--window-stride", "50", "--window-splits", "4", "--ks", "5,10",
    ]
    let command = try #require(try Seqrec.parseAsRoot(Self.train + flags) as? TrainCommand)
    let config = try command.trainingConfig()
    #expect(config.learningRate == 0.002)
    #expect(config.weightDecay == 1e-4)
    #expect(config.epochs == 7)
    #expect(config.timeBudgetSeconds == 90)
    #expect(config.objective == .allPositions)
    #expect(config.windowStride == 50)
    #expect(config.windowSplits == 4)
    #expect(config.ks == [5, 10])
    #expect(config.problem == nil)
  }

  @Test func trainNeedsAModelAndDataOrAResumedRun() {
    #expect(Self.message(["train", "--data", "x.txt"])?.contains("give --model and --data") == true)
    #expect(Self.message(["train", "--resume", "runs/r"]) == nil)
    #expect(
      Self.message(["train", "--resume", "runs/r", "--epochs", "0"])?.contains("epochs must be at least 1") == true)
    let changed = Self.message(["train", "--resume", "runs/r", "--learning-rate", "0.01", "--seed", "1"])
    #expect(changed?.contains("drop --learning-rate, --seed") == true, "\(changed ?? "accepted")")
    #expect(Self.message(["train", "--resume", "runs/r", "--model", "sasrec"])?.contains("drop --model") == true)
  }

  @Test func otherCommandsCheckTheirRanges() {
    let recommend = ["recommend", "--checkpoint", "runs/r", "--items", "1,2"]
    #expect(Self.message(recommend) == nil)
    #expect(Self.message(recommend + ["-k", "-3"])?.contains("-k must be at least 1") == true)
    #expect(Self.message(recommend + ["--user", "7"])?.contains("exactly one of --user or --items") == true)
    let evaluate = ["evaluate", "--baseline", "pop", "--data", "x.txt"]
    #expect(Self.message(evaluate) == nil)
    #expect(Self.message(evaluate + ["--max-length", "-1"])?.contains("--max-length must be at least 1") == true)
    #expect(Self.message(evaluate + ["--split", "train"])?.contains("--split must be test or valid") == true)
  }
}
