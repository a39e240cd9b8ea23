// Exact integration over [0, 1] of the piecewise polynomials built from a
// network and a target (docs/maths/exact-loss.md).
//
// Between consecutive points of {0, 1, u_j − η/2, u_j, u_j + η/2} and the
// target's own breakpoints (its breaks v_i, or a teacher's u*_k − η*/2, u*_k,
// u*_k + η*/2) both f and f* are polynomials of degree ≤ 3 (kMaxPieceDegree),
// so every integrand of the loss, its gradient and the Gram system is of
// degree ≤ 6 (relu × relu: 2; relu × cubic: 4; cubic × cubic: 6), and 4-node
// Gauss–Legendre on each piece (exact to degree 7) is exact to rounding
// (docs/maths/exact-loss.md).
//
// The sweep also exploits that, inside one piece, each neuron is in one fixed
// state: not yet reached (σ = 0), inside its window, or saturated (σ = 1;
// cubic and ramp only). The saturated ones contribute a constant, kept as a
// running sum, so a sweep costs O((m + pieces) · window) instead of
// O(pieces · m).
#pragma once

#include <vector>

#include "ttnn/network.hpp"
#include "ttnn/target.hpp"

namespace ttnn {

// Gauss–Legendre, 4 nodes on [−1, 1].
struct GaussLegendre4 {
    static constexpr double node[4] = {-0.8611363115940526, -0.3399810435848563,
                                       0.3399810435848563, 0.8611363115940526};
    static constexpr double weight[4] = {0.3478548451374538, 0.6521451548625461,
                                         0.6521451548625461, 0.3478548451374538};
    static constexpr int exact_degree = 7;
};
static_assert(2 * kMaxPieceDegree <= GaussLegendre4::exact_degree,
              "4 Gauss–Legendre nodes must integrate (f − f*)² exactly");

// One piece [lo, hi] of the sweep and the state of the neurons on it.
struct Piece {
    double lo, hi;
    double target;                        // f* on the piece, when target_constant
    bool target_constant;                 // false for a teacher: use target_at
    const Target* fstar;
    double saturated_sum;                 // a_0 + Σ_{saturated} a_j
    const std::vector<int>* window;       // neurons j with 0 < σ_η(x − u_j) < 1 here
                                          // (for relu: every neuron with u_j < x)
    const std::vector<int>* saturated_new;  // neurons that saturated at `lo`

    // f*(x) for x in the piece.
    double target_at(double x) const { return target_constant ? target : (*fstar)(x); }

    // ∫ f* over the piece (exact: f* is a polynomial of degree ≤ 3 here).
    double target_integral() const {
        const double half = 0.5 * (hi - lo);
        if (target_constant) return 2.0 * half * target;
        const double mid = 0.5 * (lo + hi);
        double s = 0.0;
        for (int q = 0; q < 4; ++q) {
            s += GaussLegendre4::weight[q] * (*fstar)(mid + half * GaussLegendre4::node[q]);
        }
        return half * s;
    }
};

// Calls visit(piece) for each piece of [0, 1] of positive length, in order.
// Neuron indices are 0-based into u (so a_j is a[j + 1]).
template <class Visit>
void sweep_pieces(const Network& net, const Target& target, Visit&& visit);

}  // namespace ttnn

#include "ttnn/quadrature_impl.hpp"
