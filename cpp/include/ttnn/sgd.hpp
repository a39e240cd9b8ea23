// Online and mini-batch SGD (docs/maths/dynamics.md). Step p draws x_p ~ U[0,1)
// and y_p = f*(x_p) + ξ_p (or replays (x[p], y[p])), sets r_p = 2(f(x_p) − y_p)
// from the pre-step parameters, and updates, simultaneously,
//   a_0 ← a_0 − h r_p,  a_j ← a_j − h r_p σ_η(x_p − u_j),
//   u_j ← u_j + ε h r_p a_j σ′_η(x_p − u_j).
// With a batch of B, step p consumes draws pB, …, pB + B − 1 (each an x then,
// when sampling, its noise: exactly the draws of B online steps) and applies
// the mean of their B updates, all computed at the pre-step parameters.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "ttnn/interrupt.hpp"
#include "ttnn/network.hpp"
#include "ttnn/noise.hpp"
#include "ttnn/target.hpp"

namespace ttnn {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct SgdOptions {
    double h = 1e-3;
    double eps = 1.0;
    std::int64_t steps = 0;      // P
    std::int64_t snapshots = 2;  // K ≥ 2
    Noise noise;
    std::uint64_t seed = 0;
    std::uint64_t stream = 0;    // independent stream for runs sharing a seed
    std::int64_t batch = 1;      // B ≥ 1 samples per step
    // Threads inside the run (inner_threads.hpp: ≤ 0 all, serial inside an
    // ensemble); used by mini-batch steps above a work threshold, with the
    // same bits for every count (docs/guide/threads.md).
    int threads = 1;
};

// When `x` is non-null the run replays samples and draws nothing; otherwise it
// samples from `target`, which must then be non-null. Draw p (of steps · batch)
// reads sample order[p] when `order` is given (shuffled epochs), else sample
// p mod n when n > 0 (epochs in order), else sample p.
struct SgdData {
    const double* x = nullptr;
    const double* y = nullptr;
    const std::int64_t* order = nullptr;
    std::int64_t n = 0;

    std::int64_t index(std::int64_t p) const {
        if (order != nullptr) return order[p];
        return n > 0 ? p % n : p;
    }
};

struct SgdResult {
    std::vector<std::int64_t> steps;  // (K,)
    RowMatrix a;                      // (K, m + 1)
    RowMatrix u;                      // (K, m)
    Eigen::VectorXd l2;               // (K,), empty when there is no target
};

// The first `draws` samples (x, y) that a sampled run with (seed, stream)
// consumes, in order: replaying them with batch B reproduces the run.
void sample_stream(const Target& target, const Noise& noise, std::uint64_t seed,
                   std::uint64_t stream, std::int64_t draws, double* x, double* y,
                   const Poll& poll = Poll());

// The snapshot schedule of docs/maths/dynamics.md#snapshots: after round(k P / (K − 1)) steps,
// rounding halves up, in exact integer arithmetic.
std::vector<std::int64_t> snapshot_steps(std::int64_t steps, std::int64_t snapshots);

// `poll` is called about every million steps (see interrupt.hpp).
SgdResult sgd_run(const Network& net, const Target* target, const SgdOptions& opt,
                  SgdData data, const Poll& poll);

// Which kernel sgd_run takes for `net` with batch B and `threads` (as
// SgdOptions::threads): "flat", "blocked" or "blocked-wide" (windowed
// activations, by prefix-sum store and window width, online steps) or "dense"
// (relu), with "+parts" when mini-batch steps are split over threads. For
// tests and benchmarks, which must know the path they measure.
std::string sgd_kernel(const Network& net, std::int64_t batch, int threads);

// Many independent runs in one call (ensembles: seeds × ε × h × m). Run i uses
// the stream (opt[i].seed, opt[i].stream), so its result does not depend on
// how many threads run the ensemble or which one takes it. With OpenMP, runs
// are spread over `threads` threads (0: OpenMP's default). If runs fail, the
// error of the lowest-numbered one is rethrown after all runs stopped, or,
// with `errors`, every run's error is returned there (see parallel_runs).
// `data` is empty (every run samples from `target`) or holds one SgdData per
// run; `target` may then be null (no l2).
std::vector<SgdResult> sgd_ensemble(const std::vector<Network>& nets, const Target* target,
                                    const std::vector<SgdOptions>& opts,
                                    const std::vector<SgdData>& data, int threads,
                                    const Poll& poll,
                                    std::vector<std::exception_ptr>* errors = nullptr);

}  // namespace ttnn
