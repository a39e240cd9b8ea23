// Independent runs in parallel over OpenMP threads, shared by every ensemble.
//
// Run i is computed by the same code whichever thread takes it, and each run
// owns its RNG stream, so results are bit-identical for any thread count.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ttnn/interrupt.hpp"

namespace ttnn {

// Returns {run(0, poll'), …, run(n − 1, poll')}. `threads` ≤ 0 means OpenMP's
// default. Only the calling thread may talk to Python, so only OpenMP thread 0
// calls `poll`; the others see its answer through poll'. The first failing
// run's exception (in run order) is rethrown after all runs stopped, unless
// `errors_out` is given: then every run's exception (null when it succeeded)
// is handed back there and a failed run's result is left default-constructed,
// so one failing run of a study never takes the others down.
template <class Result, class Run>
std::vector<Result> parallel_runs(std::int64_t n, int threads, const Poll& poll, Run run,
                                  std::vector<std::exception_ptr>* errors_out = nullptr) {
    std::vector<Result> results(static_cast<std::size_t>(n));
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n));
    std::atomic<bool> stop{false};
    const Poll shared_poll = [&]() {
#ifdef _OPENMP
        if (omp_get_thread_num() == 0 && poll && poll()) stop = true;
#else
        if (poll && poll()) stop = true;
#endif
        return stop.load();
    };
#ifdef _OPENMP
    const int nthreads = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
#else
    (void)threads;
#endif
    for (std::int64_t i = 0; i < n; ++i) {
        if (stop) continue;
        try {
            results[static_cast<std::size_t>(i)] = run(i, shared_poll);
        } catch (...) {
            errors[static_cast<std::size_t>(i)] = std::current_exception();
        }
    }
    if (stop) throw Interrupted{};
    if (errors_out != nullptr) {
        *errors_out = std::move(errors);
        return results;
    }
    for (auto& e : errors) {
        if (e) std::rethrow_exception(e);
    }
    return results;
}

}  // namespace ttnn
