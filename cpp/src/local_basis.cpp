#include "ttnn/local_basis.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <utility>

#include "ttnn/quadrature.hpp"

namespace ttnn {

double SymBand::at(int i, int j) const {
    if (i < j) std::swap(i, j);
    return i - j > w ? 0.0 : band(i - j, j);
}

LocalSystem local_system(const Network& net, const Target& target) {
    const int m = static_cast<int>(net.m());
    LocalSystem sys;
    sys.order.resize(m);
    std::iota(sys.order.begin(), sys.order.end(), 0);
    std::stable_sort(sys.order.begin(), sys.order.end(),
                     [&](int i, int j) { return net.u[i] < net.u[j]; });
    std::vector<double> us(m);
    for (int r = 0; r < m; ++r) us[r] = net.u[sys.order[r]];

    // On one piece of the sweep, the neurons of ranks < s are saturated
    // (φ = 1), those of ranks s … s + n − 1 are in their windows and the rest
    // are 0 (the window of a piece is a run of consecutive ranks, because every
    // neuron enters and leaves its window in the order of u). So only ψ_s …
    // ψ_{s+n} are non-zero there: each piece adds an (n + 1) × (n + 1) block to
    // H, and the half-bandwidth is the largest window count n.
    // The band is allocated once, for w = the most sorted u in a half-open interval
    // [u_(i), u_(i) + η): a piece's window (the u_j with |x − u_j| < η/2) lies in
    // such an interval, so this bounds the largest window (pieces outside [0, 1]
    // may make it larger than needed; the extra diagonals stay zero). O(m), where
    // the exact w would take a first sweep over the pieces, as costly as the
    // assembly itself.
    int w = 1;  // at least tridiagonal, for the ridge's DᵀD
    for (int i = 0, j = 0; i < m; ++i) {
        j = std::max(j, i);
        while (j < m && us[j] < us[i] + net.eta) ++j;
        w = std::max(w, j - i);
    }
    sys.H.n = m + 1;
    sys.H.w = std::min(w, m);  // never wider than the matrix
    if (m == 0) sys.H.w = 0;
    sys.H.band = Eigen::MatrixXd::Zero(sys.H.w + 1, m + 1);
    sys.beta = Eigen::VectorXd::Zero(m + 1);

    int saturated = 0;
    std::vector<double> phi, psi;
    dispatch_activation(net.act, [&](auto A) {
        sweep_pieces(net, target, [&](const Piece& pc) {
            saturated += static_cast<int>(pc.saturated_new->size());
            const int s = saturated;
            const int n = static_cast<int>(pc.window->size());
            const double mid = 0.5 * (pc.lo + pc.hi), half = 0.5 * (pc.hi - pc.lo);
            phi.resize(n + 2);
            psi.resize(n + 1);
            for (int q = 0; q < 4; ++q) {
                const double x = mid + half * GaussLegendre4::node[q];
                const double wq = half * GaussLegendre4::weight[q];
                // phi[r] = φ of rank s − 1 + r: 1 (saturated or φ_0) for r = 0,
                // window values, then 0.
                phi[0] = 1.0;
                for (int r = 0; r < n; ++r) phi[r + 1] = sigma_eta<A.value>(x - us[s + r], net.eta);
                phi[n + 1] = 0.0;
                for (int r = 0; r <= n; ++r) psi[r] = phi[r] - phi[r + 1];
                const double fx = pc.target_at(x);
                for (int r = 0; r <= n; ++r) {
                    const double wp = wq * psi[r];
                    sys.beta[s + r] += wp * fx;
                    for (int c = r; c <= n; ++c) sys.H.band(c - r, s + r) += wp * psi[c];
                }
            }
        });
    });
    return sys;
}

BandCholesky::BandCholesky(const SymBand& A) : R(A) {
    if (A.n == 0) {
        ok = true;
        return;
    }
    const int n = A.n, w = A.w;
    Eigen::MatrixXd& L = R.band;  // L(d, k) = R(k + d, k)
    for (int k = 0; k < n; ++k) {
        // Pivot: A(k,k) − Σ_p R(k,p)², p = max(0, k − w) … k − 1.
        double d = L(0, k);
        for (int p = std::max(0, k - w); p < k; ++p) d -= L(k - p, p) * L(k - p, p);
        // Relative test: a pivot that lost all but ~1e-14 of the diagonal is
        // rounding noise (ψ_k ≡ 0 on [0, 1], or two coinciding neurons).
        if (!(d > 1e-14 * std::abs(A.band(0, k))) || !std::isfinite(d)) {
            ok = false;
            return;
        }
        const double rkk = std::sqrt(d);
        L(0, k) = rkk;
        for (int i = k + 1; i <= std::min(n - 1, k + w); ++i) {
            double v = L(i - k, k);
            for (int p = std::max(0, i - w); p < k; ++p) v -= L(i - p, p) * L(k - p, p);
            L(i - k, k) = v / rkk;
        }
    }
    ok = true;
}

Eigen::VectorXd BandCholesky::solve(const Eigen::VectorXd& rhs) const {
    const int n = R.n, w = R.w;
    const Eigen::MatrixXd& L = R.band;
    Eigen::VectorXd x = rhs;
    for (int k = 0; k < n; ++k) {  // R y = rhs
        double v = x[k];
        for (int p = std::max(0, k - w); p < k; ++p) v -= L(k - p, p) * x[p];
        x[k] = v / L(0, k);
    }
    for (int k = n; k-- > 0;) {  // Rᵀ x = y
        double v = x[k];
        for (int i = k + 1; i <= std::min(n - 1, k + w); ++i) v -= L(i - k, k) * x[i];
        x[k] = v / L(0, k);
    }
    return x;
}

double band_condition(const SymBand& A, const BandCholesky& chol) {
    const int n = A.n;
    if (n == 0) return 1.0;
    double norm1 = 0.0;  // ‖A‖₁ = max column sum (A symmetric)
    for (int j = 0; j < n; ++j) {
        double s = 0.0;
        for (int i = std::max(0, j - A.w); i <= std::min(n - 1, j + A.w); ++i) s += std::abs(A.at(i, j));
        norm1 = std::max(norm1, s);
    }
    return norm1 * inverse_norm1_estimate(n, [&](const Eigen::VectorXd& x) { return chol.solve(x); });
}

double inverse_norm1_estimate(int n, const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& solve) {
    if (n == 0) return 0.0;
    // Hager (1984) / Higham (1988): maximise ‖A⁻¹x‖₁ over ‖x‖₁ = 1 by a few
    // sign-vector iterations (A⁻¹ symmetric, so A⁻ᵀ = A⁻¹).
    Eigen::VectorXd x = Eigen::VectorXd::Constant(n, 1.0 / n);
    double est = 0.0;
    int last = -1;
    for (int it = 0; it < 5; ++it) {
        const Eigen::VectorXd y = solve(x);
        est = std::max(est, y.lpNorm<1>());
        Eigen::VectorXd xi(n);
        for (int i = 0; i < n; ++i) xi[i] = y[i] >= 0 ? 1.0 : -1.0;
        const Eigen::VectorXd z = solve(xi);
        Eigen::Index j;
        const double zmax = z.cwiseAbs().maxCoeff(&j);
        if (zmax <= z.dot(x) || static_cast<int>(j) == last) break;
        x.setZero();
        x[j] = 1.0;
        last = static_cast<int>(j);
    }
    return est;
}

void add_difference_gram(SymBand& A, double lambda) {
    const int n = A.n;
    for (int k = 0; k < n; ++k) A.band(0, k) += lambda * (k + 1 < n ? 2.0 : 1.0);
    for (int k = 0; k + 1 < n; ++k) A.band(1, k) -= lambda;
}

Eigen::VectorXd weights_from_local(const Eigen::VectorXd& c, const std::vector<int>& order) {
    const int m = static_cast<int>(order.size());
    Eigen::VectorXd a(m + 1);
    a[0] = c[0];
    for (int r = 1; r <= m; ++r) a[order[r - 1] + 1] = c[r] - c[r - 1];
    return a;
}

Eigen::VectorXd local_from_dual(const Eigen::VectorXd& r, const std::vector<int>& order) {
    // (Dᵀ v)_k = v_k − v_{k+1}, (Dᵀ v)_m = v_m, with v = P r (v_0 = r_0, the bias).
    const int m = static_cast<int>(order.size());
    Eigen::VectorXd q(m + 1);
    const auto v = [&](int k) { return k == 0 ? r[0] : r[order[k - 1] + 1]; };
    for (int k = 0; k < m; ++k) q[k] = v(k) - v(k + 1);
    q[m] = v(m);
    return q;
}

// local_system makes H at least tridiagonal (m ≥ 1), so DᵀD fits in its band.
ShiftedGramSolver::ShiftedGramSolver(LocalSystem sys) : sys_(std::move(sys)), chol_(SymBand{}) {}

bool ShiftedGramSolver::factor(double c) {
    SymBand A = sys_.H;
    A.band *= c;
    add_difference_gram(A, 1.0);
    chol_ = BandCholesky(A);
    c_ = chol_.ok ? c : -1.0;
    return chol_.ok;
}

Eigen::VectorXd ShiftedGramSolver::solve(const Eigen::VectorXd& r) const {
    return weights_from_local(chol_.solve(local_from_dual(r, sys_.order)), sys_.order);
}

}  // namespace ttnn

namespace ttnn {

namespace {
// A general band matrix of order n with kl sub- and ku super-diagonals, factorised
// by Gaussian elimination with partial pivoting (LAPACK's dgbtrf scheme): the
// fill-in of the row swaps needs kl more super-diagonals, so rows store columns
// [i − kl, i + kl + ku]. O(n kl (kl + ku)).
class BandLU {
public:
    BandLU(int n, int kl, int ku) : n_(n), kl_(kl), ku_(ku), ab_(Eigen::MatrixXd::Zero(n, 2 * kl + ku + 1)), piv_(n) {}
    double& at(int i, int j) { return ab_(i, j - i + kl_); }
    double at(int i, int j) const { return ab_(i, j - i + kl_); }
    // false when a pivot column is exactly zero (or not finite).
    bool factor() {
        for (int k = 0; k < n_; ++k) {
            const int last_row = std::min(n_ - 1, k + kl_), last_col = std::min(n_ - 1, k + kl_ + ku_);
            int p = k;
            for (int i = k + 1; i <= last_row; ++i) {
                if (std::abs(at(i, k)) > std::abs(at(p, k))) p = i;
            }
            piv_[k] = p;
            if (!(std::abs(at(p, k)) > 0.0) || !std::isfinite(at(p, k))) return false;
            if (p != k) {
                for (int j = k; j <= last_col; ++j) std::swap(at(k, j), at(p, j));
            }
            const double d = at(k, k);
            for (int i = k + 1; i <= last_row; ++i) {
                const double l = at(i, k) / d;
                at(i, k) = l;
                if (l == 0.0) continue;
                for (int j = k + 1; j <= last_col; ++j) at(i, j) -= l * at(k, j);
            }
        }
        return true;
    }
    Eigen::VectorXd solve(Eigen::VectorXd b) const {
        for (int k = 0; k < n_; ++k) {
            if (piv_[k] != k) std::swap(b[k], b[piv_[k]]);
            for (int i = k + 1; i <= std::min(n_ - 1, k + kl_); ++i) b[i] -= at(i, k) * b[k];
        }
        for (int k = n_; k-- > 0;) {
            double v = b[k];
            for (int j = k + 1; j <= std::min(n_ - 1, k + kl_ + ku_); ++j) v -= at(k, j) * b[j];
            b[k] = v / at(k, k);
        }
        return b;
    }

private:
    int n_, kl_, ku_;
    Eigen::MatrixXd ab_;
    std::vector<int> piv_;
};
}  // namespace

bool relu_outer_banded(const Network& net, const Target& target, double mu, Eigen::VectorXd& a,
                       double& cond) {
    const int m = static_cast<int>(net.m());
    if (m == 0) return false;
    std::vector<int> order(m);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int i, int j) { return net.u[i] < net.u[j]; });
    std::vector<double> us(m);
    for (int r = 0; r < m; ++r) us[r] = net.u[order[r]];
    // Unknowns, block r = k − 1 for k = 1 … m: v_k at 3r, s_k at 3r + 1, and the
    // multiplier λ_k at 3r + 2 of the constraint v_{k+1} − v_k − g_k s_k = 0 (k < m).
    const int n = 3 * m - 1;
    const auto V = [](int r) { return 3 * r; };
    const auto S = [](int r) { return 3 * r + 1; };
    const auto Lm = [](int r) { return 3 * r + 2; };
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(n);
    std::vector<std::array<double, 3>> mom(m, {0.0, 0.0, 0.0});  // ∫1, ∫y, ∫y², y = x − u_(k)
    sweep_pieces(net, target, [&](const Piece& pc) {
        // relu: the window holds every neuron left of the piece, so its size k is the
        // segment: f = v_k + s_k (x − u_(k)) there (k = 0: f = a_0 = v_1).
        const int k = static_cast<int>(pc.window->size());
        const int r = std::max(k - 1, 0);
        const double origin = k == 0 ? 0.0 : us[k - 1];
        const double mid = 0.5 * (pc.lo + pc.hi), half = 0.5 * (pc.hi - pc.lo);
        for (int g = 0; g < 4; ++g) {
            const double x = mid + half * GaussLegendre4::node[g];
            const double w = half * GaussLegendre4::weight[g];
            const double fx = pc.target_at(x);
            mom[r][0] += w;
            rhs[V(r)] += w * fx;
            if (k > 0) {
                const double y = x - origin;
                mom[r][1] += w * y;
                mom[r][2] += w * y * y;
                rhs[S(r)] += w * fx * y;
            }
        }
    });
    BandLU lu(n, 3, 3);
    double norm1 = 0.0;
    {
        // K = [[Q, Cᵀ], [C, 0]] interleaved; Q = the loss's quadratic form plus
        // μ‖a‖² with a_0 = v_1, a_(1) = s_1, a_(k) = s_k − s_{k−1}.
        const auto sym = [&](int i, int j, double v) {
            lu.at(i, j) += v;
            if (i != j) lu.at(j, i) += v;
        };
        for (int r = 0; r < m; ++r) {
            sym(V(r), V(r), mom[r][0]);
            sym(V(r), S(r), mom[r][1]);
            sym(S(r), S(r), mom[r][2] + mu);
            if (r > 0) {
                sym(S(r - 1), S(r - 1), mu);
                sym(S(r), S(r - 1), -mu);
            }
            if (r + 1 < m) {
                const double g = us[r + 1] - us[r];
                sym(Lm(r), V(r + 1), 1.0);
                sym(Lm(r), V(r), -1.0);
                sym(Lm(r), S(r), -g);
            }
        }
        sym(V(0), V(0), mu);
        for (int j = 0; j < n; ++j) {
            double c = 0.0;
            for (int i = std::max(0, j - 3); i <= std::min(n - 1, j + 3); ++i) c += std::abs(lu.at(i, j));
            norm1 = std::max(norm1, c);
        }
    }
    if (!lu.factor()) return false;
    const Eigen::VectorXd z = lu.solve(rhs);
    if (!z.allFinite()) return false;
    a.resize(m + 1);
    a[0] = z[V(0)];
    for (int r = 0; r < m; ++r) a[order[r] + 1] = z[S(r)] - (r > 0 ? z[S(r - 1)] : 0.0);
    // K is symmetric, so Hager's estimate of ‖K⁻¹‖₁ applies.
    cond = norm1 * inverse_norm1_estimate(n, [&](const Eigen::VectorXd& x) { return lu.solve(x); });
    return true;
}

}  // namespace ttnn
