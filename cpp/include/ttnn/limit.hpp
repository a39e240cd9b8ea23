// The two-timescale limit at finite η (docs/maths/limits.md, "variable projection"):
// a = a*(u) solves (G + ridge I) a = b, and du/dτ = −∇_u L(a*(u), u) (by the
// envelope theorem a*'s dependence on u does not enter). a*(u) comes from
// solve_outer (banded local basis for cubic and ramp); J = L + ridge ‖a‖² never
// increases from one accepted step to the next (docs/maths/local_basis.md).
#pragma once

#include <Eigen/Core>

#include "ttnn/interrupt.hpp"
#include "ttnn/network.hpp"
#include "ttnn/ode.hpp"
#include "ttnn/target.hpp"

namespace ttnn {

struct LimitResult {
    Eigen::VectorXd tau;  // K slow times, evenly spaced in [0, tau_end]
    Eigen::MatrixXd a;    // K × (m + 1), a*(u) at each snapshot
    Eigen::MatrixXd u;    // K × m
    Eigen::VectorXd l2;   // K, L(a*(u), u)
    Eigen::VectorXd cond;  // K, condition estimate of a*(u)'s system (OuterSolve::cond)
    OdeStats stats;
};

// `method`: Dormand–Prince (default), Rosenbrock 4(3) with the dense
// finite-difference Jacobian of the limit's field, or the automatic switch of
// ode_solve_by; the loss stays non-increasing under each.
LimitResult finite_eta_limit(const Network& net, const Target& target, double tau_end,
                             double ridge, int snapshots, const OdeOptions& opt, const Poll& poll,
                             OdeMethod method = OdeMethod::automatic);

}  // namespace ttnn
