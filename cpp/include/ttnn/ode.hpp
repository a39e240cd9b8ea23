// Adaptive Dormand–Prince 5(4) integration with standard error control, shared
// by the gradient flow and the finite-η limit (docs/maths/dynamics.md#gradient-flow). Their right-hand
// sides are only piecewise smooth (σ is C¹), which error control absorbs by
// shrinking steps near the kinks instead of needing them located.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <vector>

#include "ttnn/interrupt.hpp"

namespace ttnn {

using OdeRhs = std::function<void(const Eigen::VectorXd& y, Eigen::VectorXd& dy)>;
// Called with k as soon as the k-th output is stored. The integrator is FSAL:
// its most recent call of rhs was at exactly that output state, so a caller can
// keep by-products of that evaluation instead of recomputing them.
using OdeOutput = std::function<void(std::size_t k)>;

struct OdeOptions {
    double rtol = 1e-8;
    double atol = 1e-10;
};

struct OdeStats {
    std::int64_t accepted = 0, rejected = 0, rhs_calls = 0;
};

// Integrates y' = rhs(y) (autonomous) from y0 at times[0] and returns y at each
// of `times` (increasing), stepping exactly onto each of them. Throws
// DivergenceError (step = accepted steps) if the state becomes non-finite and
// Interrupted when poll() says so (polled every few milliseconds).
std::vector<Eigen::VectorXd> ode_solve(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                       const std::vector<double>& times, const OdeOptions& opt,
                                       const Poll& poll, OdeStats* stats = nullptr,
                                       const OdeOutput& on_output = nullptr);

}  // namespace ttnn
