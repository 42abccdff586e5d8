// The one C header seqrec needs: CBLAS as shipped by OpenBLAS (Debian libopenblas-dev).
#include <cblas.h>
// OpenBLAS extensions used to pin the BLAS thread count (one owner of parallelism).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
