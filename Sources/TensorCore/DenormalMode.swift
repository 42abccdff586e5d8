import CBLAS

/// Whether a thread's float arithmetic flushes denormals (magnitudes below 1.18e-38) to zero.
///
/// seqrec computes with denormals flushed (x86 FTZ and DAZ, AArch64 FZ), the CPU mode TensorFlow uses and PyTorch
/// offers. An Intel core takes a microcode assist of about a hundred cycles for an operation with a denormal
/// operand or result, and gradients decay into that range through a recurrence over long sequences: on an AVX-512
/// Xeon a GLINT-RU (d 128) ML-1M prefix step took 8× as long with IEEE denormals as flushed (projected epoch 9,090 s
/// against 1,121 s). A flushed value is far below anything that changes a float32 parameter update.
///
/// The mode belongs to each thread. `Parallel.configure` and the first BLAS product set it on the calling thread;
/// `Parallel`'s workers run each loop in the mode of the thread that started it; threads inherit their creator's
/// mode (so OpenBLAS's own threads are restarted when it owns parallelism, see `Parallel.configure`).
public enum DenormalMode {
  /// False also where the mode cannot be set (`isSupported`).
  public static var isFlushingOnCurrentThread: Bool { seqrec_flushes_denormals() == 1 }

  /// Whether this CPU architecture lets seqrec set the mode (x86-64 and AArch64).
  public static var isSupported: Bool { seqrec_flushes_denormals() >= 0 }

  public static func setFlushingOnCurrentThread(_ on: Bool) { seqrec_set_flushes_denormals(on ? 1 : 0) }

  /// Runs `body` on this thread in the given mode, then restores the previous one.
  public static func withFlushing<R>(_ on: Bool, _ body: () throws -> R) rethrows -> R {
    let previous = isFlushingOnCurrentThread
    setFlushingOnCurrentThread(on)
    defer { setFlushingOnCurrentThread(previous) }
    return try body()
  }
}
