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

// a*(u) and how it was obtained. For cubic and ramp, through the banded
// local-basis system (H + ridge DᵀD) c = β, a = D c, in O(m w²)
// (docs/maths/local_basis.md); `cond` is then the 1-norm condition estimate of
// that banded matrix. When it is singular or its condition exceeds
// 1/kOuterRcond (a neuron whose ψ vanishes on [0, 1], i.e. outside [0, 1] or
// coinciding with another), and always for relu, the dense minimum-norm path
// optimal_outer(gram_system(...)) is used and `cond` is the condition of
// G + ridge I. Either way a*(u) is the minimum-norm minimiser.
struct OuterSolve {
    Eigen::VectorXd a;      // m + 1
    double cond = 1.0;      // condition estimate of the system solved (inf: singular)
    bool banded = false;    // which path gave `a`
};
OuterSolve solve_outer(const Network& net, const Target& target, double ridge);

// Relative cut-off of both paths: eigenvalues (dense) below it times the
// largest are treated as zero; a banded system with a larger condition
// estimate than its inverse goes to the dense path.
constexpr double kOuterRcond = 1e-12;

}  // namespace ttnn
