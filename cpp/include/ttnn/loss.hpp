// The population loss L(a, u) = ∫_0^1 (f*(x) − f(x; a, u))² dx and its
// gradient (docs/maths/model.md), exact to rounding by piecewise Gauss–Legendre
// (docs/maths/exact-loss.md), for either kind of target.
// No factor ½, as in the authors' code.
#pragma once

#include <Eigen/Core>

#include "ttnn/interrupt.hpp"
#include "ttnn/network.hpp"
#include "ttnn/target.hpp"

namespace ttnn {

// Both cost O(m log m + n) (a sort, then a sweep of the pieces: docs/maths/exact-loss.md#cost).
// `threads` as inner_threads (≤ 0: OpenMP's default; the parts are only shared
// out above a work threshold); the result is the same for any thread count.
// `poll` is asked every few thousand pieces; a stop throws Interrupted.
double l2_error(const Network& net, const Target& target, int threads = 1,
                const Poll& poll = Poll());

struct L2Gradient {
    double loss;
    Eigen::VectorXd grad_a;  // ∇_a L = 2 ∫ (f − f*) φ_j, φ_0 = 1, φ_j = σ_η(· − u_j)
    Eigen::VectorXd grad_u;  // ∂L/∂u_j = −2 a_j ∫ (f − f*) σ′_η(x − u_j) dx
};

L2Gradient l2_gradient(const Network& net, const Target& target, int threads = 1,
                       const Poll& poll = Poll());

}  // namespace ttnn
