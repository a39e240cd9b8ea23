// The outer layer's normal equations G a = b (docs/maths/limits.md): G_ij = ∫_0^1 φ_i φ_j,
// b_i = ∫_0^1 f* φ_i, with φ_0 = 1 and φ_j = σ_η(· − u_j), so ∇_a L = 2 (G a − b).
// Exact to rounding by the same piecewise Gauss–Legendre as the loss.
#pragma once

#include <Eigen/Core>

#include "ttnn/interrupt.hpp"
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

// a*(u) as the limit defines it (docs/maths/local_basis.md): the solution of
// (G + (ridge + δ) I) a = b with the fixed Tikhonov term δ = tikhonov(m), which
// makes the system positive definite for every u (coinciding neurons, a neuron
// outside [0, 1], the near-dependent features of large m·η) and a*(u)
// continuous in u; as δ → 0 it tends to the minimum-norm minimiser. For cubic
// and ramp it is solved through the banded local-basis system
// (H + (ridge + δ) DᵀD) c = β, a = D c, in O(m w²), and `cond` is the 1-norm
// condition estimate of that banded matrix. For relu, through the banded KKT
// system of the linear spline f (relu_outer_banded, O(m); `cond` is the
// estimate for the KKT matrix). `poll` is asked before the work (the banded
// solves take milliseconds: nothing to interrupt inside them). Should a
// factorisation still fail (a pivot lost to rounding), δ is raised 1000-fold,
// up to three times (`reg` says which δ was used). Never the dense
// minimum-norm fallback of earlier versions.
struct OuterSolve {
    Eigen::VectorXd a;      // m + 1 (NaN when no factorisation succeeded: non-finite input)
    double cond = 1.0;      // condition estimate of the system solved (inf: failed)
    bool banded = false;    // which path gave `a` (banded: every m ≥ 1; m = 0 relu: dense)
    double reg = 0.0;       // the Tikhonov δ used (tikhonov(m) unless raised)
};
OuterSolve solve_outer(const Network& net, const Target& target, double ridge,
                       const Poll& poll = Poll{});

// Relative cut-off of the dense minimum-norm solve optimal_outer: eigenvalues
// below it times the largest are treated as zero (numpy.linalg.lstsq's rcond).
constexpr double kOuterRcond = 1e-12;

// δ = kTikhonov · (m + 1): the entries of G are at most 1 for the windowed
// activations (0 ≤ φ ≤ 1 on [0, 1]), so tr G ≤ m + 1 bounds λ_max(G), and δ is a
// relative 1e-14 of that scale: far below the eigenvalues that carry the fit
// (the bias on a well-posed a*(u) is about δ / λ_min(G)), far above rounding in
// the banded Cholesky. It depends on m only, so along a run the limit is the
// exact gradient flow of J(u) = min_a L(a, u) + (ridge + δ) ‖a‖².
constexpr double kTikhonov = 1e-14;
inline double tikhonov(Eigen::Index m) { return kTikhonov * static_cast<double>(m + 1); }

}  // namespace ttnn
