// Threads inside one run (docs/guide/threads.md): how many OpenMP threads a
// run's inner loops may use.
//
// The rule that keeps results bit-identical: a kernel splits its work into a
// fixed partition that depends only on the problem's size (never on the thread
// count), and reduces the parts' partial results in partition order. Threads
// only decide who computes which part, so 1, 2 or 64 threads give the same bits.
// Whether a kernel takes its partitioned path at all is decided by the size of
// the work (a measured threshold, below which the plain serial loop is faster),
// not by the number of threads.
#pragma once

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ttnn {

// `requested` ≤ 0 means "as many as OpenMP offers". Inside an enclosing
// parallel region (a run of an ensemble or a sweep chunk) a run stays serial:
// ensembles already use the cores, and nesting would oversubscribe them.
inline int inner_threads(int requested) {
#ifdef _OPENMP
    if (omp_get_level() > 0) return 1;
    return requested > 0 ? requested : omp_get_max_threads();
#else
    (void)requested;
    return 1;
#endif
}

}  // namespace ttnn
