// The one C header seqrec needs: CBLAS as shipped by OpenBLAS (Debian libopenblas-dev), plus the two things Swift
// cannot do itself: read the CPU's features and set the calling thread's denormal mode.
#include <cblas.h>
// OpenBLAS extensions used to pin the BLAS thread count (one owner of parallelism).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);

// Whether the CPU (and the OS) supports AVX2 with FMA, and AVX-512 F/BW/DQ/VL (what OpenBLAS's Haswell and
// SkylakeX kernels use).
static inline int seqrec_cpu_has_avx2_fma(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

static inline int seqrec_cpu_has_avx512(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
  return 0;
#endif
}

// The calling thread's denormal mode: 1 when denormal results are flushed to zero and denormal operands read as
// zero (x86 MXCSR FTZ and DAZ; AArch64 FPCR FZ), else 0. -1 where the mode cannot be set.
static inline int seqrec_flushes_denormals(void) {
#if defined(__x86_64__)
  return (__builtin_ia32_stmxcsr() & 0x8040u) == 0x8040u;
#elif defined(__aarch64__)
  unsigned long fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  return (int)((fpcr >> 24) & 1u);
#else
  return -1;
#endif
}

static inline void seqrec_set_flushes_denormals(int on) {
#if defined(__x86_64__)
  unsigned int csr = __builtin_ia32_stmxcsr();
  csr = on ? (csr | 0x8040u) : (csr & ~0x8040u);
  __builtin_ia32_ldmxcsr(csr);
#elif defined(__aarch64__)
  unsigned long fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  fpcr = on ? (fpcr | (1ul << 24)) : (fpcr & ~(1ul << 24));
  __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
#else
  (void)on;
#endif
}
