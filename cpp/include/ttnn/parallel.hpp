// Independent runs in parallel over OpenMP threads, shared by every ensemble.
//
// Run i is computed by the same code whichever thread takes it, and each run
// owns its RNG stream, so results are bit-identical for any thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ttnn/interrupt.hpp"

namespace ttnn {

// Most OpenMP threads a call ever asks for (python/ttnn/_validate.py MAX_THREADS
// refuses more). libgomp allocates a stack and bookkeeping per requested thread
// before any work: 2**31 − 1 threads made it exit the process ("Out of memory
// allocating 481036338272 bytes"), 10**6 crashed under a 4 GB address-space limit.
constexpr int kMaxThreads = 1024;

// Threads per available core beyond which a request is reduced: runs are
// CPU-bound, so more threads than cores only add switches, while each costs a
// stack (8 MiB by default): 1024 threads failed to start under a 4 GB
// address-space limit ("libgomp: Thread creation failed") and ended the process.
constexpr int kThreadsPerCore = 4;

// The threads a parallel loop over `n` independent runs uses for a request of
// `threads` (≤ 0: OpenMP's default): never more than the runs (an idle thread
// only costs), than kThreadsPerCore per available core, nor than kMaxThreads;
// never fewer than 1. Clamped here as well as in Python so that no caller of
// the core can make OpenMP abort. Results do not depend on it (parallel_runs).
inline int run_threads(std::int64_t n, int threads) {
#ifdef _OPENMP
    std::int64_t t = threads > 0 ? threads : omp_get_max_threads();
    const std::int64_t cores = std::max(1, omp_get_num_procs());
    t = std::min<std::int64_t>(t, kThreadsPerCore * cores);
#else
    std::int64_t t = 1;
    (void)threads;
#endif
    t = std::min<std::int64_t>({t, n, kMaxThreads});
    return static_cast<int>(std::max<std::int64_t>(t, 1));
}

// Returns {run(0, poll), …, run(n − 1, poll)}. `threads` ≤ 0 means OpenMP's
// default. Every run polls the same Monitor, so a stop requested through it
// (Ctrl-C) reaches all threads; only the calling thread (OpenMP thread 0)
// talks to Python, and once it has no run left it keeps polling until the
// other threads are done. The first failing run's exception (in run order) is
// rethrown after all runs stopped, unless `errors_out` is given: then every
// run's exception (null when it succeeded) is handed back there and a failed
// run's result is left default-constructed, so one failing run of a study
// never takes the others down.
template <class Result, class Run>
std::vector<Result> parallel_runs(std::int64_t n, int threads, const Poll& poll, Run run,
                                  std::vector<std::exception_ptr>* errors_out = nullptr) {
    std::vector<Result> results(static_cast<std::size_t>(n));
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n));
    std::atomic<std::int64_t> next{0}, finished{0};
    // Dynamic scheduling, one run at a time (as schedule(dynamic, 1)), by hand:
    // the calling thread must leave the loop to keep polling.
    const auto take_runs = [&]() {
        for (;;) {
            const std::int64_t i = next.fetch_add(1);
            if (i >= n) return;
            if (!poll.stopped()) {
                try {
                    results[static_cast<std::size_t>(i)] = run(i, poll);
                } catch (...) {
                    errors[static_cast<std::size_t>(i)] = std::current_exception();
                }
            }
            finished.fetch_add(1);
        }
    };
#ifdef _OPENMP
    const int nthreads = run_threads(n, threads);
#pragma omp parallel num_threads(nthreads)
    {
        take_runs();
        if (omp_get_thread_num() == 0) {
            while (finished.load() < n) {
                poll();
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        }
    }
#else
    (void)threads;
    take_runs();
#endif
    if (poll.stopped()) throw Interrupted{};
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
