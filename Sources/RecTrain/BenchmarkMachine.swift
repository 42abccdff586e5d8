import Foundation

extension Benchmark {
  /// The machine's cores, clock and fp32 peak.
  ///
  /// Peak = cores × clock × 32 FLOP/cycle: two 256-bit FMA units per core, each 8 lanes × 2 FLOPs (AVX2 + FMA, as
  /// on Zen and Haswell and later). The clock is the "cpu MHz" of /proc/cpuinfo (the current clock of the first
  /// core as the kernel reports it; nil where there is no /proc/cpuinfo).
  public struct Machine: Sendable {
    public static let flopsPerCycle = 32.0

    public var cores: Int
    public var megahertz: Double?
    public var model: String?

    public static var current: Machine {
      let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
      return Machine(
        cores: ProcessInfo.processInfo.activeProcessorCount,
        megahertz: field("cpu MHz", in: info).flatMap(Double.init), model: field("model name", in: info))
    }

    public var peakGFLOPs: Double? { megahertz.map { Double(cores) * $0 / 1000 * Self.flopsPerCycle } }

    public var description: String {
      let name = model.map { "\($0), " } ?? ""
      guard let mhz = megahertz, let peak = peakGFLOPs else { return "\(name)\(cores) cores, clock unknown" }
      return name
        + String(
          format: "%d cores × %.3f GHz × %.0f FLOP/cycle = %.1f GFLOP/s fp32 peak", cores, mhz / 1000,
          Self.flopsPerCycle, peak)
    }

    /// The value of the first `key : value` line of /proc/cpuinfo.
    static func field(_ key: String, in text: String) -> String? {
      for line in text.split(separator: "\n") where line.hasPrefix(key) {
        guard let colon = line.firstIndex(of: ":") else { continue }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
      return nil
    }
  }
}

extension Benchmark.Machine {
  /// The process's peak resident set size (getrusage ru_maxrss).
  public static var peakResidentBytes: Int {
    let usage = processUsage()
    #if os(Linux)
      return usage.ru_maxrss * 1024  // kilobytes on Linux
    #else
      return usage.ru_maxrss  // bytes on macOS
    #endif
  }

  /// CPU time (user + system) the process has used, all threads: with wall time it shows how many cores a
  /// measurement really had (the machine may be shared).
  public static var processCPUSeconds: Double {
    let usage = processUsage()
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
  }

  private static func processUsage() -> rusage {
    var usage = rusage()
    #if os(Linux)
      getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
      getrusage(RUSAGE_SELF, &usage)
    #endif
    return usage
  }
}
