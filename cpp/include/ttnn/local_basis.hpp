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

}  // namespace ttnn
