// Online SGD of DESIGN.md §2. Step p draws x_p ~ U[0,1) and y_p = f*(x_p) + ξ_p
// (or replays (x[p], y[p])), sets r_p = 2(f(x_p) − y_p) from the pre-step
// parameters, and updates, simultaneously,
//   a_0 ← a_0 − h r_p,  a_j ← a_j − h r_p σ_η(x_p − u_j),
//   u_j ← u_j + ε h r_p a_j σ′_η(x_p − u_j).
#pragma once

#include <cstdint>
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
};

// When `x` is non-null the run replays (x[p], y[p]) for p < steps and draws
// nothing; otherwise it samples from `target`, which must then be non-null.
struct SgdData {
    const double* x = nullptr;
    const double* y = nullptr;
};

struct SgdResult {
    std::vector<std::int64_t> steps;  // (K,)
    RowMatrix a;                      // (K, m + 1)
    RowMatrix u;                      // (K, m)
    Eigen::VectorXd l2;               // (K,), empty when there is no target
};

// The snapshot schedule of DESIGN.md §5: after round(k P / (K − 1)) steps,
// rounding halves up, in exact integer arithmetic.
std::vector<std::int64_t> snapshot_steps(std::int64_t steps, std::int64_t snapshots);

// `poll` is called about every million steps (see interrupt.hpp).
SgdResult sgd_run(const Network& net, const Target* target, const SgdOptions& opt,
                  SgdData data, const Poll& poll);

// Many independent runs in one call (ensembles: seeds × ε × h × m). Run i uses
// the stream (opt[i].seed, opt[i].stream), so its result does not depend on
// how many threads run the ensemble or which one takes it. With OpenMP, runs
// are spread over `threads` threads (0: OpenMP's default). If runs fail, the
// error of the lowest-numbered one is rethrown after all runs stopped.
std::vector<SgdResult> sgd_ensemble(const std::vector<Network>& nets,
                                    const Target& target,
                                    const std::vector<SgdOptions>& opts, int threads,
                                    const Poll& poll);

}  // namespace ttnn
