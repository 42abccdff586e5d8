# Sourced by the other scripts: compiler flags for release builds on this machine.
# AVX2/FMA machines get -target-cpu haswell (vectorised FMA instead of libcalls); others keep the default target.
SEQREC_SWIFTFLAGS=()
if grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo 2>/dev/null; then
  SEQREC_SWIFTFLAGS=(-Xswiftc -target-cpu -Xswiftc haswell)
fi
