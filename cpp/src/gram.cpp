#include "ttnn/gram.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ttnn/local_basis.hpp"
#include "ttnn/quadrature.hpp"

namespace ttnn {

namespace {
// Relative cut-off for the minimum-norm solve (numpy.linalg.lstsq's rcond in
// ttnn.reference.optimal_outer).
constexpr double kRcond = kOuterRcond;

// optimal_outer, also returning the condition of G + ridge I.
Eigen::VectorXd dense_outer(const GramSystem& sys, double ridge, double* cond);
}  // namespace

namespace {
// relu: φ_j(x) = (x − u_j)₊ never saturates, so every piece of the sweep has all
// neurons left of it in its window and the generic assembly below costs
// O(pieces · m²) = O(m³) (2 s at m = 1000, uninterruptible). In closed form
// instead, O(m²): for u_i ≤ u_j, with y = x − u_j, d = u_j − u_i ≥ 0,
// Y0 = max(0, −u_j), Y1 = 1 − u_j (zero when u_j ≥ 1),
//   G_ij = ∫_{Y0}^{Y1} (y + d) y dy = (Y1³ − Y0³)/3 + d (Y1² − Y0²)/2,
//   G_0j = ∫_{Y0}^{Y1} y dy = (Y1² − Y0²)/2,  G_00 = 1,
// every term non-negative (no cancellation when u_j ≥ 0). b_j = ∫ f* (x − u_j)₊
// by the same piecewise Gauss–Legendre as the loss, over the pieces right of u_j.
GramSystem relu_gram_system(const Network& net, const Target& target) {
    const int m = static_cast<int>(net.m());
    GramSystem sys{Eigen::MatrixXd::Zero(m + 1, m + 1), Eigen::VectorXd::Zero(m + 1)};
    Eigen::MatrixXd& G = sys.G;
    G(0, 0) = 1.0;
    const auto ends = [&](int j, double& y0, double& y1) {
        const double uj = net.u[j];
        y1 = uj >= 1.0 ? 0.0 : 1.0 - uj;
        y0 = uj >= 1.0 ? 0.0 : std::max(0.0, -uj);
    };
    for (int j = 0; j < m; ++j) {
        double y0, y1;
        ends(j, y0, y1);
        G(j + 1, 0) = G(0, j + 1) = 0.5 * (y1 * y1 - y0 * y0);
        for (int i = 0; i <= j; ++i) {
            // The larger of u_i, u_j sets the lower limit.
            const bool j_right = net.u[j] >= net.u[i];
            const int r = j_right ? j : i, l = j_right ? i : j;
            double z0, z1;
            ends(r, z0, z1);
            const double d = net.u[r] - net.u[l];
            const double g = (z1 * z1 * z1 - z0 * z0 * z0) / 3.0 + 0.5 * d * (z1 * z1 - z0 * z0);
            G(i + 1, j + 1) = G(j + 1, i + 1) = g;
        }
    }
    sweep_pieces(net, target, [&](const Piece& pc) {
        const double mid = 0.5 * (pc.lo + pc.hi), half = 0.5 * (pc.hi - pc.lo);
        double f0 = 0.0, f1 = 0.0;  // ∫ f* and ∫ (x − lo) f* over the piece
        for (int q = 0; q < 4; ++q) {
            const double x = mid + half * GaussLegendre4::node[q];
            const double wf = half * GaussLegendre4::weight[q] * pc.target_at(x);
            f0 += wf;
            f1 += wf * (x - pc.lo);
        }
        sys.b[0] += f0;
        for (int j : *pc.window) sys.b[j + 1] += f1 + (pc.lo - net.u[j]) * f0;
    });
    return sys;
}
}  // namespace

GramSystem gram_system(const Network& net, const Target& target) {
    if (net.act == Activation::relu) return relu_gram_system(net, target);
    const int m = static_cast<int>(net.m());
    GramSystem sys{Eigen::MatrixXd::Zero(m + 1, m + 1), Eigen::VectorXd::Zero(m + 1)};
    Eigen::MatrixXd& G = sys.G;

    // Split each φ_j into its window part and its saturated part (φ_j = 1 from
    // the piece where it saturates on; φ_0 = 1 is "saturated" from piece 0).
    // window × window terms are integrated per piece; every term that involves
    // a saturated part is rank-structured (an integral over a suffix of
    // pieces), so m = 1000 costs O(m²) rather than O(pieces · m²).
    constexpr int never = -1;
    std::vector<int> start(m + 1, never);  // piece index where φ_i becomes 1
    start[0] = 0;
    std::vector<double> piece_len, piece_fstar;  // ∫ 1 and ∫ f* per piece
    // For each neuron: first piece of its window and the per-piece ∫ σ_η there
    // (its window pieces are contiguous).
    std::vector<int> first_piece(m, never);
    std::vector<std::vector<double>> window_integral(m);
    std::vector<double> sig;

    dispatch_activation(net.act, [&](auto A) {
        sweep_pieces(net, target, [&](const Piece& pc) {
            const int k = static_cast<int>(piece_len.size());
            for (int j : *pc.saturated_new) start[j + 1] = k;
            const double mid = 0.5 * (pc.lo + pc.hi), half = 0.5 * (pc.hi - pc.lo);
            const std::vector<int>& win = *pc.window;
            const std::size_t n = win.size();
            for (int j : win) {
                if (first_piece[j] == never) first_piece[j] = k;
                window_integral[j].push_back(0.0);
            }
            sig.resize(n);
            for (int q = 0; q < 4; ++q) {
                const double x = mid + half * GaussLegendre4::node[q], w = half * GaussLegendre4::weight[q];
                for (std::size_t r = 0; r < n; ++r) {
                    sig[r] = sigma_eta<A.value>(x - net.u[win[r]], net.eta);
                }
                for (std::size_t r = 0; r < n; ++r) {
                    const int i = win[r] + 1;
                    const double ws = w * sig[r];
                    window_integral[win[r]].back() += ws;
                    sys.b[i] += ws * pc.target_at(x);
                    for (std::size_t c = 0; c <= r; ++c) G(i, win[c] + 1) += ws * sig[c];
                }
            }
            piece_len.push_back(pc.hi - pc.lo);
            piece_fstar.push_back(pc.target_integral());
        });
    });
    const int npieces = static_cast<int>(piece_len.size());
    std::vector<double> len_suffix(npieces + 1, 0.0), fstar_suffix(npieces + 1, 0.0);
    for (int k = npieces; k-- > 0;) {
        len_suffix[k] = len_suffix[k + 1] + piece_len[k];
        fstar_suffix[k] = fstar_suffix[k + 1] + piece_fstar[k];
    }
    // Per neuron, suffix sums of its window integrals (indexed from first_piece).
    std::vector<std::vector<double>> win_suffix(m);
    for (int j = 0; j < m; ++j) {
        const auto& wi = window_integral[j];
        win_suffix[j].assign(wi.size() + 1, 0.0);
        for (std::size_t r = wi.size(); r-- > 0;) win_suffix[j][r] = win_suffix[j][r + 1] + wi[r];
    }
    // ∫ over pieces ≥ k of φ_i's window part (φ_0 has none).
    auto window_from = [&](int i, int k) {
        if (i == 0 || first_piece[i - 1] == never) return 0.0;
        const int r = std::max(k - first_piece[i - 1], 0);
        const auto& ws = win_suffix[i - 1];
        return r >= static_cast<int>(ws.size()) - 1 ? 0.0 : ws[r];
    };
    for (int i = 0; i <= m; ++i) {
        if (start[i] != never) sys.b[i] += fstar_suffix[start[i]];
    }

    // G_ij = window×window (the sweep filled one triangle, in window order, so
    // it is the sum of both triangles' entries) + saturated(i)×saturated(j) +
    // saturated(i)×window(j) + window(i)×saturated(j): the O(m²) part, filled
    // column by column (contiguous in Eigen's column-major storage), then
    // mirrored. It stays serial: it is small next to the O(m³) solve for
    // a*(u), too little work for thread start-up and contention to pay off
    // (an OpenMP version over columns was slower on 2 threads than on 1:
    // bench/RESULTS.md, "Gradient flow and two-timescale limits").
    for (int j = 0; j <= m; ++j) {
        for (int i = j; i <= m; ++i) {
            double v = i == j ? G(i, i) : G(i, j) + G(j, i);
            if (start[i] != never && start[j] != never) {
                v += len_suffix[std::max(start[i], start[j])];
            }
            if (start[i] != never) v += window_from(j, start[i]);
            if (start[j] != never) v += window_from(i, start[j]);
            G(i, j) = v;
        }
    }
    for (int j = 1; j <= m; ++j) {
        for (int i = 0; i < j; ++i) G(i, j) = G(j, i);
    }
    return sys;
}

Eigen::VectorXd optimal_outer(const GramSystem& sys, double ridge) {
    return dense_outer(sys, ridge, nullptr);
}

OuterSolve solve_outer(const Network& net, const Target& target, double ridge, const Poll& poll) {
    if (poll && poll()) throw Interrupted{};
    OuterSolve out;
    const Eigen::Index m = net.m();
    double delta = tikhonov(m);
    if (is_windowed(net.act)) {
        const LocalSystem loc = local_system(net, target);
        for (int attempt = 0; attempt < 4; ++attempt, delta *= 1e3) {
            SymBand A = loc.H;
            add_difference_gram(A, ridge + delta);
            const BandCholesky chol(A);
            if (!chol.ok) continue;
            const Eigen::VectorXd c = chol.solve(loc.beta);
            if (!c.allFinite()) continue;
            out.a = weights_from_local(c, loc.order);
            out.cond = band_condition(A, chol);
            out.banded = true;
            out.reg = delta;
            return out;
        }
    } else if (m > 0) {
        for (int attempt = 0; attempt < 4; ++attempt, delta *= 1e3) {
            if (relu_outer_banded(net, target, ridge + delta, out.a, out.cond)) {
                out.banded = true;
                out.reg = delta;
                return out;
            }
        }
    } else {
        // relu without neurons: a_0 = ∫ f* / (1 + ridge + δ), a 1 × 1 system.
        const GramSystem sys = gram_system(net, target);
        const double d = sys.G(0, 0) + ridge + delta;
        out.a = sys.b / d;
        out.cond = 1.0;
        out.reg = delta;
        if (out.a.allFinite()) return out;
    }
    // Non-finite input (u or the target): no factorisation succeeds.
    out.a = Eigen::VectorXd::Constant(m + 1, std::numeric_limits<double>::quiet_NaN());
    out.cond = std::numeric_limits<double>::infinity();
    out.reg = delta;
    return out;
}

namespace {
Eigen::VectorXd dense_outer(const GramSystem& sys, double ridge, double* cond) {
    Eigen::MatrixXd A = sys.G;
    A.diagonal().array() += ridge;
    // Cholesky is fast and accurate when A is well conditioned.
    Eigen::LLT<Eigen::MatrixXd> llt(A);
    if (llt.info() == Eigen::Success) {
        const Eigen::VectorXd a = llt.solve(sys.b);
        const double scale = A.diagonal().maxCoeff();
        const double rcond = llt.rcond();
        if (a.allFinite() && rcond > kRcond && scale > 0) {
            if (cond) *cond = 1.0 / rcond;
            return a;
        }
    }
    // Singular or nearly so (a neuron outside [0, 1], two neurons together,
    // many overlapping windows at large m): the minimum-norm least-squares
    // solution A⁺ b, with the singular values (= |eigenvalues|, A symmetric)
    // below kRcond · the largest treated as zero, as ttnn.reference does with
    // numpy.linalg.lstsq(rcond=kRcond). (A rank-revealing QR truncates a
    // different, basis-dependent set of directions and, on the numerically
    // singular Gram matrices of m = 1000, η = 4e-3, gives a different answer.)
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(A);
    if (eig.info() != Eigen::Success) {
        return Eigen::VectorXd::Constant(A.rows(), std::numeric_limits<double>::quiet_NaN());
    }
    const Eigen::VectorXd& lam = eig.eigenvalues();
    const double cut = kRcond * lam.cwiseAbs().maxCoeff();
    if (cond) {
        const double lo = lam.cwiseAbs().minCoeff();
        *cond = lo > 0 ? lam.cwiseAbs().maxCoeff() / lo : std::numeric_limits<double>::infinity();
    }
    Eigen::VectorXd c = eig.eigenvectors().transpose() * sys.b;
    for (Eigen::Index k = 0; k < c.size(); ++k) c[k] = std::abs(lam[k]) > cut ? c[k] / lam[k] : 0.0;
    return eig.eigenvectors() * c;
}
}  // namespace

}  // namespace ttnn
