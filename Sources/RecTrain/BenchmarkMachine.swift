import Foundation
import TensorCore

extension Benchmark {
  /// The machine's cores, clock, fp32 peak and the OpenBLAS kernels it runs.
  ///
  /// Peak = cores × clock × FLOP/cycle, with two FMA units per core, each lanes × 2 FLOPs: 32 FLOP/cycle with 256-bit
  /// vectors (AVX2 + FMA, as on Zen and Haswell and later), 64 when OpenBLAS runs its AVX-512 kernels (SkylakeX,
  /// Cooperlake, SapphireRapids). The clock is the "cpu MHz" of /proc/cpuinfo (the current clock of the first core
  /// as the kernel reports it; nil where there is no /proc/cpuinfo).
  public struct Machine: Sendable {
    public var cores: Int
    public var megahertz: Double?
    public var model: String?
    /// OpenBLAS's kernel set (`BLAS.coreName`), and the one it had chosen itself when seqrec replaced it.
    public var blasCore: String
    public var replacedBLASCore: String?

    public init(cores: Int, megahertz: Double?, model: String?, blasCore: String, replacedBLASCore: String? = nil) {
      (self.cores, self.megahertz, self.model) = (cores, megahertz, model)
      (self.blasCore, self.replacedBLASCore) = (blasCore, replacedBLASCore)
    }

    public static var current: Machine {
      let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
      let replaced = BLAS.replacedCore
      return Machine(
        cores: ProcessInfo.processInfo.activeProcessorCount,
        megahertz: field("cpu MHz", in: info).flatMap(Double.init), model: field("model name", in: info),
        blasCore: BLAS.coreName, replacedBLASCore: replaced?.chosen)
    }

    public var flopsPerCycle: Double {
      ["SkylakeX", "Cooperlake", "SapphireRapids"].contains(blasCore) ? 64 : 32
    }

    public var peakGFLOPs: Double? { megahertz.map { Double(cores) * $0 / 1000 * flopsPerCycle } }

    public var description: String {
      let name = model.map { "\($0), " } ?? ""
      let kernels = "; OpenBLAS \(blasCore) kernels" + (replacedBLASCore.map { " (it chose \($0))" } ?? "")
      guard let mhz = megahertz, let peak = peakGFLOPs else { return "\(name)\(cores) cores, clock unknown\(kernels)" }
      return name
        + String(
          format: "%d cores × %.3f GHz × %.0f FLOP/cycle = %.1f GFLOP/s fp32 peak", cores, mhz / 1000,
          flopsPerCycle, peak) + kernels
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
