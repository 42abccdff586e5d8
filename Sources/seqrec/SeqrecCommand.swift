import ArgumentParser
import Foundation

@main
struct Seqrec: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "seqrec",
    abstract: "Sequential (next-item) recommendation: RecBLR, GLINT-RU, SASRec and GRU4Rec on a CPU.",
    subcommands: [
      DemoCommand.self, DataCommand.self, TrainCommand.self, EvaluateCommand.self, RecommendCommand.self,
      BenchCommand.self, ServeCommand.self, LoadtestCommand.self, VerifyStateCommand.self,
    ]
  )

  /// Like ArgumentParser's default, except that a usage error is one line (`error: …; see 'seqrec … --help'`)
  /// instead of the error followed by the whole usage text.
  static func main() async {
    let arguments = Array(CommandLine.arguments.dropFirst())
    do {
      var command = try parseAsRoot(arguments)
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        print(fullMessage(for: error))
        Foundation.exit(0)
      }
      let message = Self.message(for: error)
      if !message.isEmpty {
        let subcommand = arguments.first.map { $0.hasPrefix("-") ? "" : " \($0)" } ?? ""
        let hint = error is ExitCode ? "" : " (see 'seqrec\(subcommand) --help')"
        FileHandle.standardError.write(
          Data("error: \(message.replacingOccurrences(of: "Error: ", with: ""))\(hint)\n".utf8))
      }
      Foundation.exit(code.rawValue)
    }
  }
}
