// The outer layer's normal equations G a = b (docs/maths/limits.md): G_ij = ∫_0^1 φ_i φ_j,
// b_i = ∫_0^1 f* φ_i, with φ_0 = 1 and φ_j = σ_η(· − u_j), so ∇_a L = 2 (G a − b).
// Exact to rounding by the same piecewise Gauss–Legendre as the loss.
#pragma once

#include <Eigen/Core>

#include "ttnn/network.hpp"
#include "ttnn/target.hpp"

namespace ttnn {

struct GramSystem {
    Eigen::MatrixXd G;  // (m + 1) × (m + 1), symmetric positive semi-definite
    Eigen::VectorXd b;  // m + 1
};

// Depends on net.u, net.eta and net.act only (not on net.a).
GramSystem gram_system(const Network& net, const Target& target);

// a*(u) = argmin_a L(a, u): the solution of (G + ridge I) a = b, the
// minimum-norm least-squares one when that matrix is singular.
Eigen::VectorXd optimal_outer(const GramSystem& sys, double ridge);

}  // namespace ttnn
