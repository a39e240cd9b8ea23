// The outer layer's normal equations in the local basis of the windowed
// activations (cubic, ramp), where they are banded (docs/maths/local_basis.md).
//
// With the neurons sorted, u_(1) ≤ … ≤ u_(m), and φ_(j) = σ_η(· − u_(j)):
//   ψ_0 = 1 − φ_(1),  ψ_j = φ_(j) − φ_(j+1) (1 ≤ j < m),  ψ_m = φ_(m),
// f = Σ_k c_k ψ_k with c = L a (prefix sums, a = D c), and G a = b is exactly
// H c = β with H = (∫ ψ_i ψ_j) banded and β_k = ∫ f* ψ_k. A ridge λ‖a‖² becomes
// (H + λ DᵀD) c = β, still banded. Cost O(m w²) for half-bandwidth w.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <vector>

#include "ttnn/network.hpp"
#include "ttnn/target.hpp"

namespace ttnn {

// A symmetric banded matrix of order n and half-bandwidth w, lower storage:
// band(d, k) = A(k + d, k) for 0 ≤ d ≤ w, k + d < n.
struct SymBand {
    int n = 0, w = 0;
    Eigen::MatrixXd band;  // (w + 1) × n
    double at(int i, int j) const;  // A(i, j), 0 outside the band
};

struct LocalSystem {
    SymBand H;               // ∫ ψ_i ψ_j, order m + 1 (sorted neurons)
    Eigen::VectorXd beta;    // ∫ f* ψ_k
    std::vector<int> order;  // order[r] = index (0-based, into u) of the r-th smallest neuron
};

// Requires a windowed activation (cubic or ramp). Depends on u, eta, act only.
LocalSystem local_system(const Network& net, const Target& target);

// Banded Cholesky A = R Rᵀ (R lower, same band), O(n w²). Fails (returns false)
// when a pivot is not positive relative to the diagonal: A is then singular
// to working precision.
struct BandCholesky {
    SymBand R;
    bool ok = false;
    explicit BandCholesky(const SymBand& A);
    Eigen::VectorXd solve(const Eigen::VectorXd& rhs) const;
};

// 1-norm condition estimate ‖A‖₁ ‖A⁻¹‖₁ of an SPD banded A from its
// factorisation (Hager's estimator: a few banded solves, a lower bound that is
// nearly always within a small factor of the true value).
double band_condition(const SymBand& A, const BandCholesky& chol);

// Hager's estimate of ‖A⁻¹‖₁ for a symmetric positive definite A of order n,
// from x ↦ A⁻¹ x (a few solves); band_condition and the dense relu path use it.
double inverse_norm1_estimate(int n, const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& solve);

// A += lambda DᵀD, the ridge λ‖a‖² = λ‖D c‖² in the local basis: DᵀD is
// tridiag(−1, 2, −1) with a last diagonal entry 1 (A.w ≥ 1).
void add_difference_gram(SymBand& A, double lambda);

// a = Pᵀ D c: the outer weights (network order, bias first) of the local-basis
// coefficients c (a_(0) = c_0, a_(k) = c_k − c_{k−1} for the k-th smallest neuron).
Eigen::VectorXd weights_from_local(const Eigen::VectorXd& c, const std::vector<int>& order);

// Dᵀ P r: the transpose of weights_from_local, applied to r (network order).
Eigen::VectorXd local_from_dual(const Eigen::VectorXd& r, const std::vector<int>& order);

// relu's a*(u) = argmin_a L(a, u) + mu ‖a‖² (mu > 0) in O(m): f is a linear spline
// with knots at the sorted u, f = v_k + s_k (x − u_(k)) on the k-th segment, with the
// value v_k and slope s_k tied by v_{k+1} = v_k + g_k s_k (g_k = u_(k+1) − u_(k)). The
// loss is a banded quadratic in z = (v, s), ‖a‖² = v_1² + Σ (s_k − s_{k−1})², and the
// constraints are banded: the symmetric indefinite KKT system [[Q, Cᵀ], [C, 0]] of
// order 3m − 1 and half-bandwidth 3 is solved by banded LU with partial pivoting
// (docs/maths/local_basis.md#relu). Returns false when it fails (non-finite input);
// `cond` is the 1-norm condition estimate of the KKT matrix.
bool relu_outer_banded(const Network& net, const Target& target, double mu, Eigen::VectorXd& a,
                       double& cond);

// Solves (I + c G(u)) x = r for the Gram matrix G of a windowed network in
// O(m w²) (docs/maths/local_basis.md#implicit-steps): with G = Pᵀ Lᵀ H L P and
// x = Pᵀ D z, it is the banded SPD system (DᵀD + c H) z = Dᵀ P r. The implicit
// a-block of the gradient flow's Rosenbrock-W steps (c = 2γh).
class ShiftedGramSolver {
public:
    // H and the sort order of the local basis at the network's u.
    explicit ShiftedGramSolver(LocalSystem sys);
    // Factors DᵀD + c H (c ≥ 0); false when that fails (not finite).
    bool factor(double c);
    double shift() const { return c_; }
    // x for the last factor(); r and x in the network's order (bias first).
    Eigen::VectorXd solve(const Eigen::VectorXd& r) const;

private:
    LocalSystem sys_;
    BandCholesky chol_;
    double c_ = -1.0;
};

}  // namespace ttnn
