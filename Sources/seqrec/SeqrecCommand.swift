import ArgumentParser

@main
struct Seqrec: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "seqrec",
    abstract: "Sequential (next-item) recommendation: RecBLR, GLINT-RU, SASRec and GRU4Rec on a CPU.",
    subcommands: [DataCommand.self, TrainCommand.self, BenchCommand.self]
  )
}
