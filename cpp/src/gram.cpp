#include "ttnn/gram.hpp"

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <vector>

#include "ttnn/quadrature.hpp"

namespace ttnn {

GramSystem gram_system(const Network& net, const PiecewiseConstant& target) {
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
                    sys.b[i] += ws * pc.target;
                    for (std::size_t c = 0; c <= r; ++c) G(i, win[c] + 1) += ws * sig[c];
                }
            }
            piece_len.push_back(pc.hi - pc.lo);
            piece_fstar.push_back((pc.hi - pc.lo) * pc.target);
        });
    });
    // Window × window was filled in one triangle, in window order: symmetrise.
    for (int i = 1; i <= m; ++i) {
        for (int j = 1; j < i; ++j) {
            const double s = G(i, j) + G(j, i);
            G(i, j) = G(j, i) = s;
        }
    }

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
    // ∫ over pieces ≥ k of neuron j's window part.
    auto window_from = [&](int j, int k) {
        if (first_piece[j] == never) return 0.0;
        const int r = std::max(k - first_piece[j], 0);
        return r >= static_cast<int>(window_integral[j].size()) ? 0.0 : win_suffix[j][r];
    };

    for (int i = 0; i <= m; ++i) {
        if (start[i] == never) continue;
        sys.b[i] += fstar_suffix[start[i]];
        for (int j = 0; j <= m; ++j) {
            // saturated(i) × saturated(j), counted once per unordered pair.
            if (start[j] != never && j <= i) {
                const double v = len_suffix[std::max(start[i], start[j])];
                G(i, j) += v;
                if (j != i) G(j, i) += v;
            }
            // saturated(i) × window(j) and its mirror.
            if (j >= 1) {
                const double v = window_from(j - 1, start[i]);
                G(i, j) += v;
                G(j, i) += v;
            }
        }
    }
    return sys;
}

Eigen::VectorXd optimal_outer(const GramSystem& sys, double ridge) {
    Eigen::MatrixXd A = sys.G;
    A.diagonal().array() += ridge;
    // Cholesky is fast and accurate when A is well conditioned; when it is
    // singular or nearly so (a neuron outside [0, 1], two neurons together),
    // fall back to the minimum-norm least-squares solution.
    Eigen::LLT<Eigen::MatrixXd> llt(A);
    if (llt.info() == Eigen::Success) {
        const Eigen::VectorXd a = llt.solve(sys.b);
        const double scale = A.diagonal().maxCoeff();
        const double rcond = llt.rcond();
        if (a.allFinite() && rcond > 1e-12 && scale > 0) return a;
    }
    Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod(A);
    cod.setThreshold(1e-12);
    return cod.solve(sys.b);
}

}  // namespace ttnn
