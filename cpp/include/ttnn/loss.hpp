// The population loss L(a, u) = ∫_0^1 (f*(x) − f(x; a, u))² dx and its
// gradient (docs/maths/model.md), exact to rounding by piecewise Gauss–Legendre
// (docs/maths/exact-loss.md), for either kind of target.
// No factor ½, as in the authors' code.
#pragma once

#include <Eigen/Core>

#include "ttnn/network.hpp"
#include "ttnn/target.hpp"

namespace ttnn {

double l2_error(const Network& net, const Target& target);

struct L2Gradient {
    double loss;
    Eigen::VectorXd grad_a;  // ∇_a L = 2 ∫ (f − f*) φ_j, φ_0 = 1, φ_j = σ_η(· − u_j)
    Eigen::VectorXd grad_u;  // ∂L/∂u_j = −2 a_j ∫ (f − f*) σ′_η(x − u_j) dx
};

L2Gradient l2_gradient(const Network& net, const Target& target);

}  // namespace ttnn
