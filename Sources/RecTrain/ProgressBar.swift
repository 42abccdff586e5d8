import Foundation

/// A one-line progress bar on standard error: epoch, fraction done, examples/s, running loss and ETA.
/// When standard error is not a terminal (CI, pipes) it prints nothing until `finish`, which prints one line.
public final class ProgressBar: @unchecked Sendable {
  private let label: String
  private let total: Int
  private let interactive: Bool
  private let start = Date()
  private var lastDraw = Date.distantPast
  private var done = 0

  public init(label: String, total: Int, interactive: Bool = ProgressBar.stderrIsTerminal) {
    self.label = label
    self.total = max(total, 1)
    self.interactive = interactive
  }

  public static var stderrIsTerminal: Bool { isatty(FileHandle.standardError.fileDescriptor) != 0 }

  /// Advances by `count` examples; `loss` is the running mean loss to show.
  public func advance(by count: Int, loss: Double) {
    done += count
    guard interactive else { return }
    let now = Date()
    if now.timeIntervalSince(lastDraw) < 0.1 && done < total { return }
    lastDraw = now
    FileHandle.standardError.write(Data(("\r" + line(loss: loss, now: now) + "\u{1B}[K").utf8))
  }

  /// Ends the bar with a summary line.
  public func finish(loss: Double, extra: String = "") {
    let text = line(loss: loss, now: Date(), final: true) + (extra.isEmpty ? "" : "  " + extra)
    FileHandle.standardError.write(
      Data(((interactive ? "\r" : "") + text + (interactive ? "\u{1B}[K" : "") + "\n").utf8))
  }

  public var elapsed: TimeInterval { Date().timeIntervalSince(start) }

  private func line(loss: Double, now: Date, final: Bool = false) -> String {
    let secs = max(now.timeIntervalSince(start), 1e-9)
    let frac = min(1, Double(done) / Double(total))
    let width = 24
    let filled = Int(frac * Double(width))
    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    let rate = Double(done) / secs
    let eta = rate > 0 ? Double(total - done) / rate : 0
    let timing = final ? "took \(ProgressBar.duration(secs))" : "ETA \(ProgressBar.duration(eta))"
    return
      "\(label) \(bar) \(Int(frac * 100))%  \(ProgressBar.rate(rate)) ex/s  loss \(String(format: "%.4f", loss))  \(timing)"
  }

  static func rate(_ r: Double) -> String { r >= 1000 ? String(format: "%.1fk", r / 1000) : String(format: "%.0f", r) }

  static func duration(_ s: Double) -> String {
    let t = Int(s.rounded())
    return t >= 3600 ? String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) : String(format: "%d:%02d", t / 60, t % 60)
  }
}
