// The circle ReLU model: sampling, the sorted-angle kernels, the ridge solve by
// conjugate gradients and the two trainings (docs/maths/circle.md).
#include "ttnn/circle.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "ttnn/parallel.hpp"
#include "ttnn/rng.hpp"

namespace ttnn::circle {

namespace {

constexpr double kTwoPi = 2.0 * kPi;
constexpr double kHalfPi = 0.5 * kPi;
constexpr double kSecondMode = 0.4 * kPi;

// For each sorted query angle q_j, the half-open range [lo_j, hi_j) of the doubled
// sorted array (ang, ang + 2π) whose angles a satisfy cos(q_j − a) > 0, i.e.
// q_j − π/2 < a < q_j + π/2. Both ends are monotone in q_j, so one sweep over the
// tripled array (ang − 2π, ang, ang + 2π) finds them all: O(#q + #ang).
void arcs(const std::vector<double>& q, const std::vector<double>& ang,
          std::vector<Eigen::Index>& lo, std::vector<Eigen::Index>& hi) {
    const auto L = static_cast<Eigen::Index>(ang.size());
    const auto at = [&](Eigen::Index k) {
        return k < L ? ang[k] - kTwoPi : k < 2 * L ? ang[k - L] : ang[k - 2 * L] + kTwoPi;
    };
    lo.resize(q.size());
    hi.resize(q.size());
    Eigen::Index pl = 0, ph = 0;
    for (std::size_t j = 0; j < q.size(); ++j) {
        const double a = q[j] - kHalfPi, b = a + kPi;
        while (pl < 3 * L && at(pl) <= a) ++pl;
        if (ph < pl) ph = pl;
        while (ph < 3 * L && at(ph) < b) ++ph;
        // Arcs that start in the first copy (q_j < −π/2) keep its indices; the others
        // are shifted down one period so that lo ∈ [0, L) and hi ≤ 2L.
        const Eigen::Index shift = pl >= L ? L : 0;
        lo[j] = pl - shift;
        hi[j] = ph - shift;
    }
}

// Σ over the doubled range [lo, hi) from the prefix sums P (size L + 1) of one period.
inline double arc_sum(const std::vector<double>& P, Eigen::Index lo, Eigen::Index hi) {
    const auto L = static_cast<Eigen::Index>(P.size()) - 1;
    if (hi <= L) return P[hi] - P[lo];
    return (P[L] - P[lo]) + P[hi - L];
}

inline void prefix(std::vector<double>& P, std::size_t n) {
    P.resize(n + 1);
    P[0] = 0.0;
}

// The population's sums over a sorted source set (angles e_i with weights w_i) for
// sorted queries q_j: K_j = Σ_i w_i k(q_j − e_i) and T_j = Σ_i w_i k̃(q_j − e_i). On
// the source laid out twice (e, e + 2π), the sources "ahead" of q_j (e ∈ (q_j, q_j + π),
// Δ = q_j − e < 0) and "behind" it (e ∈ [q_j + π, q_j + 2π], Δ = q_j + 2π − e ≥ 0) are
// two contiguous ranges, found by one merge sweep; on each, |Δ| and |sin Δ| have a
// fixed sign and the kernels are combinations of Σ w cos e, Σ w sin e, Σ w e cos e and
// Σ w e sin e, read from prefix sums (docs/maths/circle.md#the-model).
struct KernelPrefix {
    std::vector<double> c, s, ec, es;  // over the doubled source, size 2L + 1
};

void kernel_prefix(const std::vector<double>& e, const std::vector<double>& ce,
                   const std::vector<double>& se, const std::vector<double>* w,
                   KernelPrefix& P) {
    const std::size_t L = e.size();
    for (auto* v : {&P.c, &P.s, &P.ec, &P.es}) {
        v->resize(2 * L + 1);
        (*v)[0] = 0.0;
    }
    for (std::size_t k = 0; k < 2 * L; ++k) {
        const std::size_t i = k < L ? k : k - L;
        const double ang = k < L ? e[i] : e[i] + kTwoPi;
        const double wi = w ? (*w)[i] : 1.0;
        P.c[k + 1] = P.c[k] + wi * ce[i];
        P.s[k + 1] = P.s[k] + wi * se[i];
        P.ec[k + 1] = P.ec[k] + wi * ang * ce[i];
        P.es[k + 1] = P.es[k] + wi * ang * se[i];
    }
}

void kernel_windows(const std::vector<double>& q, const std::vector<double>& e, KernelWindows& W) {
    const auto L = static_cast<Eigen::Index>(e.size());
    const auto at = [&](Eigen::Index k) { return k < L ? e[k] : e[k - L] + kTwoPi; };
    W.a0.resize(q.size());
    W.a1.resize(q.size());
    W.b1.resize(q.size());
    Eigen::Index p0 = 0, p1 = 0, p2 = 0;
    for (std::size_t j = 0; j < q.size(); ++j) {
        while (p0 < 2 * L && at(p0) <= q[j]) ++p0;
        if (p1 < p0) p1 = p0;
        while (p1 < 2 * L && at(p1) < q[j] + kPi) ++p1;
        if (p2 < p1) p2 = p1;
        while (p2 < 2 * L && at(p2) <= q[j] + kTwoPi) ++p2;
        W.a0[j] = p0;
        W.a1[j] = p1;
        W.b1[j] = p2;
    }
}

// K and T (either may be null) for queries q with cos, sin qc, qs.
void kernel_sums(const std::vector<double>& q, const std::vector<double>& qc,
                 const std::vector<double>& qs, const KernelWindows& W, const KernelPrefix& P,
                 double* K, double* T) {
    constexpr double kInv = 1.0 / kTwoPi;
    for (std::size_t j = 0; j < q.size(); ++j) {
        const double c = qc[j], s = qs[j];
        const auto sums = [&](Eigen::Index lo, Eigen::Index hi, double& sin_s, double& cos_s,
                              double& ecos, double& esin) {
            const double C = P.c[hi] - P.c[lo], S = P.s[hi] - P.s[lo];
            const double U = P.ec[hi] - P.ec[lo], V = P.es[hi] - P.es[lo];
            sin_s = s * C - c * S;  // Σ w sin(q − e)
            cos_s = c * C + s * S;  // Σ w cos(q − e)
            ecos = c * U + s * V;   // Σ w e cos(q − e)
            esin = s * U - c * V;   // Σ w e sin(q − e)
        };
        double sa, ca, eca, esa, sb, cb, ecb, esb;
        sums(W.a0[j], W.a1[j], sa, ca, eca, esa);
        sums(W.a1[j], W.b1[j], sb, cb, ecb, esb);
        const double ahead = kPi + q[j];           // π − |Δ| = π + q − e
        const double behind = kPi - q[j] - kTwoPi;  // π − |Δ| = π − (q + 2π) + e
        if (K) K[j] = ((-sa + ahead * ca - eca) + (sb + behind * cb + ecb)) * kInv;
        if (T) T[j] = -((ahead * sa - esa) + (behind * sb + esb)) * kInv;
    }
}

// k(Δ) from cos Δ, sin Δ and Δ wrapped to [−π, π).
inline double kernel_cs(double d, double cosd, double sind) {
    return (std::abs(sind) + (kPi - std::abs(d)) * cosd) / kTwoPi;
}

// The CDF-like antiderivative of q(θ) = 1 / (1 + γ sin²(θ/2)), continuous on R:
// ∫₀^θ q = (2/c) Q(θ) with c = √(1 + γ) and Q(θ) = atan(c tan(θ/2)) + kπ on the
// k-th period (θ ∈ [−π + 2πk, π + 2πk)).
inline double q_primitive(double theta, double c) {
    const double k = std::floor((theta + kPi) / kTwoPi);
    const double t = theta - kTwoPi * k;
    return std::atan(c * std::tan(0.5 * t)) + kPi * k;
}

void check_gamma(double gamma) {
    if (!(std::isfinite(gamma) && gamma >= 0.0)) {
        throw std::invalid_argument("gamma must be finite and >= 0");
    }
}

}  // namespace

double wrap_angle(double theta) {
    double t = std::fmod(theta + kPi, kTwoPi);
    if (t < 0) t += kTwoPi;
    t -= kPi;
    return t >= kPi ? -kPi : t;
}

double arccos_kernel(double delta) {
    const double d = wrap_angle(delta);
    return kernel_cs(d, std::cos(d), std::sin(d));
}

double rho(double theta, double gamma) {
    check_gamma(gamma);
    const double c = std::sqrt(1.0 + gamma);
    const double s0 = std::sin(0.5 * theta), s1 = std::sin(0.5 * (theta - kSecondMode));
    const double q = 1.0 / (1.0 + gamma * s0 * s0) + 0.5 / (1.0 + gamma * s1 * s1);
    // Each mode has mass 2π/c: the mixture's is 3π/c.
    return q * c / (3.0 * kPi);
}

Eigen::VectorXd rho_cell_masses(Eigen::Index cells, double gamma) {
    check_gamma(gamma);
    if (cells < 1) throw std::invalid_argument("cells must be >= 1");
    const double c = std::sqrt(1.0 + gamma);
    const double h = kTwoPi / static_cast<double>(cells);
    Eigen::VectorXd m(cells);
    // mass of [a, b) = (2/c)(Q(b) − Q(a)) per mode, normalised by 3π/c.
    for (Eigen::Index k = 0; k < cells; ++k) {
        const double a = -kPi + h * static_cast<double>(k);
        const double b = k + 1 == cells ? kPi : a + h;
        const double m0 = q_primitive(b, c) - q_primitive(a, c);
        const double m1 = q_primitive(b - kSecondMode, c) - q_primitive(a - kSecondMode, c);
        m[k] = (2.0 * m0 + m1) / (3.0 * kPi);
    }
    return m;
}

Eigen::VectorXd sample_rho(Eigen::Index count, double gamma, std::uint64_t seed,
                           std::uint64_t stream) {
    check_gamma(gamma);
    if (count < 0) throw std::invalid_argument("count must be >= 0");
    const double c = std::sqrt(1.0 + gamma);
    Rng rng(seed, stream);
    Eigen::VectorXd out(count);
    for (Eigen::Index i = 0; i < count; ++i) {
        const bool second = rng.uniform() * 3.0 >= 2.0;  // weights 2 : 1
        const double v = rng.uniform();
        // Inverse of F(θ) = (atan(c tan(θ/2)) + π/2) / π on [−π, π).
        const double theta = 2.0 * std::atan(std::tan(kPi * (v - 0.5)) / c);
        out[i] = wrap_angle(second ? theta + kSecondMode : theta);
    }
    return out;
}

Eigen::VectorXd uniform_angles(Eigen::Index count, std::uint64_t seed, std::uint64_t stream) {
    if (count < 0) throw std::invalid_argument("count must be >= 0");
    Rng rng(seed, stream);
    Eigen::VectorXd out(count);
    for (Eigen::Index i = 0; i < count; ++i) out[i] = wrap_angle(-kPi + kTwoPi * rng.uniform());
    return out;
}

Eigen::MatrixXd gaussian_inputs(Eigen::Index n, std::uint64_t seed, std::uint64_t stream) {
    if (n < 0) throw std::invalid_argument("n must be >= 0");
    Rng rng(seed, stream);
    Eigen::MatrixXd X(n, 2);
    for (Eigen::Index i = 0; i < n; ++i) {
        X(i, 0) = rng.normal();
        X(i, 1) = rng.normal();
    }
    return X;
}

Method method_from_name(const std::string& name) {
    if (name == "varpro") return Method::varpro;
    if (name == "2ts") return Method::two_timescale;
    throw std::invalid_argument("method must be 'varpro' or '2ts', got '" + name + "'");
}

// ---------------------------------------------------------------- neurons

Neurons Neurons::from(const Eigen::VectorXd& theta, const Eigen::VectorXd& u) {
    if (theta.size() != u.size()) throw std::invalid_argument("u must have one entry per angle");
    if (!theta.allFinite()) throw std::invalid_argument("theta must be finite");
    if (!u.allFinite()) throw std::invalid_argument("u must be finite");
    const auto M = static_cast<std::size_t>(theta.size());
    std::vector<Eigen::Index> idx(M);
    std::iota(idx.begin(), idx.end(), Eigen::Index{0});
    std::vector<double> wrapped(M);
    for (std::size_t j = 0; j < M; ++j) wrapped[j] = wrap_angle(theta[static_cast<Eigen::Index>(j)]);
    std::stable_sort(idx.begin(), idx.end(), [&](Eigen::Index a, Eigen::Index b) {
        return wrapped[static_cast<std::size_t>(a)] < wrapped[static_cast<std::size_t>(b)];
    });
    Neurons nr;
    nr.theta.resize(M);
    nr.u.resize(M);
    nr.id = idx;
    for (std::size_t k = 0; k < M; ++k) {
        nr.theta[k] = wrapped[static_cast<std::size_t>(idx[k])];
        nr.u[k] = u[idx[k]];
    }
    nr.refresh_trig();
    return nr;
}

void Neurons::refresh_trig() {
    c.resize(theta.size());
    s.resize(theta.size());
    for (std::size_t j = 0; j < theta.size(); ++j) {
        c[j] = std::cos(theta[j]);
        s[j] = std::sin(theta[j]);
    }
}

void Neurons::resort() {
    const std::size_t M = theta.size();
    for (std::size_t i = 1; i < M; ++i) {
        if (!(theta[i] < theta[i - 1])) continue;
        const double t = theta[i], cc = c[i], ss = s[i], uu = u[i];
        const Eigen::Index ii = id[i];
        std::size_t j = i;
        while (j > 0 && t < theta[j - 1]) {
            theta[j] = theta[j - 1];
            c[j] = c[j - 1];
            s[j] = s[j - 1];
            u[j] = u[j - 1];
            id[j] = id[j - 1];
            --j;
        }
        theta[j] = t;
        c[j] = cc;
        s[j] = ss;
        u[j] = uu;
        id[j] = ii;
    }
}

Eigen::VectorXd Neurons::theta_original() const {
    Eigen::VectorXd out(size());
    for (std::size_t k = 0; k < theta.size(); ++k) out[id[k]] = theta[k];
    return out;
}

Eigen::VectorXd Neurons::u_original() const {
    Eigen::VectorXd out(size());
    for (std::size_t k = 0; k < u.size(); ++k) out[id[k]] = u[k];
    return out;
}

// ---------------------------------------------------------------- problem

Problem::Problem(const Eigen::VectorXd& teacher, const Eigen::MatrixXd& X) : teacher_(teacher) {
    if (teacher.size() < 1) throw std::invalid_argument("teacher must have at least one particle");
    if (!teacher.allFinite()) throw std::invalid_argument("teacher must be finite");
    if (X.rows() > 0 && X.cols() != 2) throw std::invalid_argument("X must have 2 columns");
    if (!X.allFinite()) throw std::invalid_argument("X must be finite");
    const Eigen::Index Mt = teacher.size();
    if (X.rows() == 0) {  // the population: the teacher sorted, with its prefix sums
        tt_.resize(static_cast<std::size_t>(Mt));
        for (Eigen::Index t = 0; t < Mt; ++t) tt_[static_cast<std::size_t>(t)] = wrap_angle(teacher[t]);
        std::sort(tt_.begin(), tt_.end());
        tc_.resize(tt_.size());
        ts_.resize(tt_.size());
        for (std::size_t t = 0; t < tt_.size(); ++t) {
            tc_[t] = std::cos(tt_[t]);
            ts_[t] = std::sin(tt_[t]);
        }
        KernelPrefix P;
        kernel_prefix(tt_, tc_, ts_, nullptr, P);
        tpc_ = P.c;
        tps_ = P.s;
        tpec_ = P.ec;
        tpes_ = P.es;
        // E[y²] = (1/M_t²) Σ_t Σ_t′ k(θ_t − θ_t′).
        KernelWindows W;
        kernel_windows(tt_, tt_, W);
        std::vector<double> K(tt_.size());
        kernel_sums(tt_, tc_, ts_, W, P, K.data(), nullptr);
        double acc = 0.0;
        for (double v : K) acc += v;
        yy_ = acc / (static_cast<double>(Mt) * static_cast<double>(Mt));
        return;
    }
    n_ = X.rows();
    const auto N = static_cast<std::size_t>(n_);
    std::vector<double> ang(N);
    for (std::size_t i = 0; i < N; ++i) {
        const auto ii = static_cast<Eigen::Index>(i);
        ang[i] = wrap_angle(std::atan2(X(ii, 1), X(ii, 0)));
    }
    order_.resize(N);
    std::iota(order_.begin(), order_.end(), Eigen::Index{0});
    std::stable_sort(order_.begin(), order_.end(), [&](Eigen::Index a, Eigen::Index b) {
        return ang[static_cast<std::size_t>(a)] < ang[static_cast<std::size_t>(b)];
    });
    alpha_.resize(N);
    x1_.resize(N);
    x2_.resize(N);
    for (std::size_t k = 0; k < N; ++k) {
        alpha_[k] = ang[static_cast<std::size_t>(order_[k])];
        x1_[k] = X(order_[k], 0);
        x2_[k] = X(order_[k], 1);
    }
    // y = teacher at the samples, by the same sweep as the student.
    const Neurons tn = Neurons::from(teacher, Eigen::VectorXd::Ones(Mt));
    Workspace w;
    bind(tn, w);
    predict(tn, w, y_);
    prefix(py1_, N);
    prefix(py2_, N);
    double acc = 0.0;
    for (std::size_t k = 0; k < N; ++k) {
        py1_[k + 1] = py1_[k] + y_[k] * x1_[k];
        py2_[k + 1] = py2_[k] + y_[k] * x2_[k];
        acc += y_[k] * y_[k];
    }
    yy_ = acc / static_cast<double>(N);
}

Eigen::VectorXd Problem::y_original() const {
    Eigen::VectorXd out(n_);
    for (std::size_t k = 0; k < y_.size(); ++k) out[order_[k]] = y_[k];
    return out;
}

void Problem::bind(const Neurons& nr, Workspace& w) const {
    const std::size_t M = nr.theta.size();
    if (!population()) {
        arcs(nr.theta, alpha_, w.lo, w.hi);
        arcs(alpha_, nr.theta, w.slo, w.shi);
        return;
    }
    // The population: the arcs of each neuron among the neurons and the teacher, and
    // the teacher's terms per neuron (kt_j = Σ_t k / M_t and G's two components).
    KernelWindows tw;
    kernel_windows(nr.theta, tt_, tw);
    kernel_windows(nr.theta, nr.theta, w.nwin);
    const KernelPrefix P{tpc_, tps_, tpec_, tpes_};
    std::vector<double> T(M);
    w.kt.resize(M);
    w.gt1.resize(M);
    w.gt2.resize(M);
    kernel_sums(nr.theta, nr.c, nr.s, tw, P, w.kt.data(), T.data());
    const double inv_mt = 1.0 / static_cast<double>(tt_.size());
    for (std::size_t j = 0; j < M; ++j) {
        const double sk = w.kt[j] * inv_mt, skt = T[j] * inv_mt;
        w.kt[j] = sk;
        // G = k w + k̃ w⊥, w⊥ = (−sin θ, cos θ).
        w.gt1[j] = sk * nr.c[j] - skt * nr.s[j];
        w.gt2[j] = sk * nr.s[j] + skt * nr.c[j];
    }
}

void Problem::phi_t_y(const Neurons& nr, const Workspace& w, std::vector<double>& out) const {
    const std::size_t M = nr.theta.size();
    out.resize(M);
    if (population()) {
        for (std::size_t j = 0; j < M; ++j) out[j] = w.kt[j];
        return;
    }
    const double inv_n = 1.0 / static_cast<double>(n_);
    for (std::size_t j = 0; j < M; ++j) {
        out[j] = (nr.c[j] * arc_sum(py1_, w.lo[j], w.hi[j]) +
                  nr.s[j] * arc_sum(py2_, w.lo[j], w.hi[j])) *
                 inv_n;
    }
}

void Problem::predict(const Neurons& nr, Workspace& w, std::vector<double>& f) const {
    const std::size_t M = nr.theta.size();
    const auto N = static_cast<std::size_t>(n_);
    prefix(w.pa, M);
    prefix(w.pb, M);
    for (std::size_t j = 0; j < M; ++j) {
        w.pa[j + 1] = w.pa[j] + nr.u[j] * nr.c[j];
        w.pb[j + 1] = w.pb[j] + nr.u[j] * nr.s[j];
    }
    const double inv_m = M > 0 ? 1.0 / static_cast<double>(M) : 0.0;
    f.resize(N);
    for (std::size_t n = 0; n < N; ++n) {
        f[n] = (x1_[n] * arc_sum(w.pa, w.slo[n], w.shi[n]) +
                x2_[n] * arc_sum(w.pb, w.slo[n], w.shi[n])) *
               inv_m;
    }
}

void Problem::k_times(const Neurons& nr, Workspace& w, const std::vector<double>& v,
                      std::vector<double>& out) const {
    const std::size_t M = nr.theta.size();
    out.resize(M);
    const double inv_m = 1.0 / static_cast<double>(M);
    if (population()) {
        KernelPrefix P;
        kernel_prefix(nr.theta, nr.c, nr.s, &v, P);
        kernel_sums(nr.theta, nr.c, nr.s, w.nwin, P, out.data(), nullptr);
        for (auto& o : out) o *= inv_m;
        return;
    }
    const auto N = static_cast<std::size_t>(n_);
    // g = Φ v, then Φᵀ g / (N M), both by arc sums.
    prefix(w.pa, M);
    prefix(w.pb, M);
    for (std::size_t j = 0; j < M; ++j) {
        w.pa[j + 1] = w.pa[j] + v[j] * nr.c[j];
        w.pb[j + 1] = w.pb[j] + v[j] * nr.s[j];
    }
    std::vector<double>& P1 = w.g;  // reuse: prefix sums of g x1 and g x2 below
    std::vector<double>& P2 = w.ap;
    prefix(P1, N);
    prefix(P2, N);
    for (std::size_t n = 0; n < N; ++n) {
        const double g = x1_[n] * arc_sum(w.pa, w.slo[n], w.shi[n]) +
                         x2_[n] * arc_sum(w.pb, w.slo[n], w.shi[n]);
        P1[n + 1] = P1[n] + g * x1_[n];
        P2[n + 1] = P2[n] + g * x2_[n];
    }
    const double scale = inv_m / static_cast<double>(N);
    for (std::size_t j = 0; j < M; ++j) {
        out[j] = (nr.c[j] * arc_sum(P1, w.lo[j], w.hi[j]) +
                  nr.s[j] * arc_sum(P2, w.lo[j], w.hi[j])) *
                 scale;
    }
}

Evaluation Problem::evaluate(const Neurons& nr, Workspace& w) const {
    const std::size_t M = nr.theta.size();
    Evaluation ev;
    ev.d1.resize(M);
    ev.d2.resize(M);
    const double inv_m = 1.0 / static_cast<double>(M);
    if (population()) {
        // risk = uᵀ k u / M² − 2 uᵀ kt / M + E[y²]; D_j = (1/M) Σ_i u_i G(θ_j, θ_i) − teacher's.
        KernelPrefix P;
        kernel_prefix(nr.theta, nr.c, nr.s, &nr.u, P);
        std::vector<double> K(M), T(M);
        kernel_sums(nr.theta, nr.c, nr.s, w.nwin, P, K.data(), T.data());
        double quad = 0.0, lin = 0.0;
        for (std::size_t j = 0; j < M; ++j) {
            quad += nr.u[j] * K[j];
            lin += nr.u[j] * w.kt[j];
            const double sk = K[j] * inv_m, skt = T[j] * inv_m;
            ev.d1[j] = (sk * nr.c[j] - skt * nr.s[j]) - w.gt1[j];
            ev.d2[j] = (sk * nr.s[j] + skt * nr.c[j]) - w.gt2[j];
        }
        ev.risk = quad * inv_m * inv_m - 2.0 * lin * inv_m + yy_;
        return ev;
    }
    const auto N = static_cast<std::size_t>(n_);
    predict(nr, w, w.r);
    std::vector<double>& P1 = w.g;
    std::vector<double>& P2 = w.ap;
    prefix(P1, N);
    prefix(P2, N);
    double acc = 0.0;
    for (std::size_t n = 0; n < N; ++n) {
        const double res = w.r[n] - y_[n];
        acc += res * res;
        P1[n + 1] = P1[n] + res * x1_[n];
        P2[n + 1] = P2[n] + res * x2_[n];
    }
    const double inv_n = 1.0 / static_cast<double>(N);
    ev.risk = acc * inv_n;
    for (std::size_t j = 0; j < M; ++j) {
        ev.d1[j] = arc_sum(P1, w.lo[j], w.hi[j]) * inv_n;
        ev.d2[j] = arc_sum(P2, w.lo[j], w.hi[j]) * inv_n;
    }
    return ev;
}

// ---------------------------------------------------------------- ridge by CG

namespace {
double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}
}  // namespace

std::int64_t ridge_solve(const Problem& pb, Problem::Workspace& w, Neurons& nr, double lam,
                         bool biased) {
    const std::size_t M = nr.theta.size();
    if (M == 0) return 0;
    std::vector<double>& b = w.b;
    std::vector<double>& r = w.r;  // (evaluate() reuses r afterwards)
    std::vector<double>& p = w.p;
    std::vector<double> ap(M), x = nr.u;
    pb.phi_t_y(nr, w, b);
    if (!biased) {
        for (auto& v : b) v += lam;
    }
    const double bnorm = std::sqrt(dot(b, b));
    if (bnorm == 0.0) {
        std::fill(nr.u.begin(), nr.u.end(), 0.0);
        return 0;
    }
    const double stop = kCgTol * bnorm;
    auto residual = [&]() {  // r = b − (K + λI) x
        pb.k_times(nr, w, x, ap);
        r.resize(M);
        for (std::size_t j = 0; j < M; ++j) r[j] = b[j] - (ap[j] + lam * x[j]);
    };
    residual();
    p = r;
    double rr = dot(r, r);
    std::int64_t it = 0;
    // Enough for CG in exact arithmetic (M steps) with room for rounding; past
    // it the solve has stagnated and we say so rather than return a poor u.
    const std::int64_t max_it = 10 * static_cast<std::int64_t>(M) + 100;
    int checks = 0;
    for (;;) {
        if (std::sqrt(rr) <= stop) {
            // The recursive residual drifts from the true one: confirm on the latter.
            residual();
            const double true_rr = dot(r, r);
            if (std::sqrt(true_rr) <= 2.0 * stop || ++checks > 3) {
                if (std::sqrt(true_rr) > 1e3 * stop) {
                    throw std::runtime_error("the ridge solve stagnated at relative residual " +
                                             std::to_string(std::sqrt(true_rr) / bnorm));
                }
                break;
            }
            p = r;  // restart from the true residual
            rr = true_rr;
        }
        if (it >= max_it) {
            throw std::runtime_error("the ridge solve did not converge in " +
                                     std::to_string(max_it) + " iterations (relative residual " +
                                     std::to_string(std::sqrt(rr) / bnorm) + ")");
        }
        pb.k_times(nr, w, p, ap);
        for (std::size_t j = 0; j < M; ++j) ap[j] += lam * p[j];
        const double pap = dot(p, ap);
        if (!(pap > 0.0)) {
            throw std::runtime_error("the ridge system is not positive definite (lam = " +
                                     std::to_string(lam) + ")");
        }
        const double alpha = rr / pap;
        for (std::size_t j = 0; j < M; ++j) {
            x[j] += alpha * p[j];
            r[j] -= alpha * ap[j];
        }
        const double rr_new = dot(r, r);
        const double beta = rr_new / rr;
        for (std::size_t j = 0; j < M; ++j) p[j] = r[j] + beta * p[j];
        rr = rr_new;
        ++it;
    }
    nr.u = x;
    return it;
}

double criterion(const Evaluation& ev, const Neurons& nr, double lam, bool biased) {
    double reg = 0.0;
    for (double v : nr.u) {
        const double d = biased ? v : v - 1.0;
        reg += d * d;
    }
    return ev.risk / (2.0 * lam) + reg / (2.0 * static_cast<double>(nr.u.size()));
}

StepInfo prepare(const Problem& pb, Problem::Workspace& w, Neurons& nr, Method method,
                 double lam, bool biased, bool project) {
    StepInfo info;
    pb.bind(nr, w);
    if (method == Method::varpro || project) info.cg = ridge_solve(pb, w, nr, lam, biased);
    info.ev = pb.evaluate(nr, w);
    info.criterion = criterion(info.ev, nr, lam, biased);
    return info;
}

void move(Neurons& nr, const Evaluation& ev, Method method, double lam, bool biased, double dt) {
    const std::size_t M = nr.theta.size();
    // ∇_{w_j} J = u_j D_j / (λM) at learning rate M·dt: w_j ← w_j − dt u_j D_j / λ.
    const double step = dt / lam;
    for (std::size_t j = 0; j < M; ++j) {
        const double w1 = nr.c[j] - step * nr.u[j] * ev.d1[j];
        const double w2 = nr.s[j] - step * nr.u[j] * ev.d2[j];
        nr.theta[j] = wrap_angle(std::atan2(w2, w1));  // back to the circle
    }
    if (method == Method::two_timescale) {
        // ∂J/∂u_j = (e_j + λ(u_j − 1)) / (λM), e_j = D_j·w_j; learning rate λM.
        for (std::size_t j = 0; j < M; ++j) {
            const double e = ev.d1[j] * nr.c[j] + ev.d2[j] * nr.s[j];
            nr.u[j] -= e + lam * (biased ? nr.u[j] : nr.u[j] - 1.0);
        }
    }
    nr.refresh_trig();
}

// ---------------------------------------------------------------- runs

void validate(const RunSpec& spec) {
    if (spec.theta0.size() < 1) throw std::invalid_argument("theta0 must have at least one angle");
    if (!spec.theta0.allFinite()) throw std::invalid_argument("theta0 must be finite");
    if (!(std::isfinite(spec.lam) && spec.lam > 0.0)) {
        throw std::invalid_argument("lam must be finite and > 0");
    }
    if (!(std::isfinite(spec.dt) && spec.dt > 0.0)) {
        throw std::invalid_argument("dt must be finite and > 0");
    }
    if (spec.iterations < 0) throw std::invalid_argument("iterations must be >= 0");
    for (std::size_t k = 0; k < spec.record.size(); ++k) {
        if (spec.record[k] < 0 || spec.record[k] > spec.iterations) {
            throw std::invalid_argument("record must lie within [0, iterations]");
        }
        if (k > 0 && spec.record[k] <= spec.record[k - 1]) {
            throw std::invalid_argument("record must be strictly increasing");
        }
    }
    if (spec.density.size() > 0) {
        if (spec.density.rows() != static_cast<Eigen::Index>(spec.record.size())) {
            throw std::invalid_argument("density must have one row per recorded iteration");
        }
        if (spec.density.cols() < 1 || !spec.density.allFinite() ||
            (spec.density.array() < 0.0).any()) {
            throw std::invalid_argument("density must be finite and >= 0");
        }
        for (Eigen::Index k = 0; k < spec.density.rows(); ++k) {
            if (!(spec.density.row(k).sum() > 0.0)) {
                throw std::invalid_argument("density rows must not sum to 0");
            }
        }
    }
}

RunResult run(const Problem& pb, const RunSpec& spec, const Poll& poll) {
    validate(spec);
    const Eigen::Index M = spec.theta0.size();
    const auto K = static_cast<Eigen::Index>(spec.record.size());
    RunResult out;
    out.iterations = spec.record;
    out.theta.resize(K, M);
    out.u.resize(K, M);
    out.criterion.resize(K);
    out.risk.resize(K);
    out.mmd_teacher.resize(K);
    out.w1_teacher.resize(K);
    const bool with_density = spec.density.size() > 0;
    if (with_density) out.mmd_density.resize(K);
    const Eigen::VectorXd centres =
        with_density ? cell_centres(spec.density.cols()) : Eigen::VectorXd();
    Neurons nr = Neurons::from(spec.theta0, Eigen::VectorXd::Zero(M));
    Problem::Workspace w;
    const Eigen::VectorXd none;
    Eigen::Index k = 0;
    for (std::int64_t i = 0;; ++i) {
        const StepInfo info = prepare(pb, w, nr, spec.method, spec.lam, spec.biased, i == 0);
        out.cg_iterations += info.cg;
        if (!std::isfinite(info.criterion)) {
            throw DivergenceError(i, "the criterion became non-finite at iteration " +
                                         std::to_string(i));
        }
        if (k < K && spec.record[static_cast<std::size_t>(k)] == i) {
            const Eigen::VectorXd th = nr.theta_original();
            out.theta.row(k) = th.transpose();
            out.u.row(k) = nr.u_original().transpose();
            out.criterion[k] = info.criterion;
            out.risk[k] = info.ev.risk;
            out.mmd_teacher[k] = mmd(th, none, pb.teacher(), none);
            out.w1_teacher[k] = w1(th, none, pb.teacher(), none);
            if (with_density) {
                out.mmd_density[k] = mmd(th, none, centres, spec.density.row(k).transpose());
            }
            ++k;
        }
        if (i == spec.iterations) break;
        move(nr, info.ev, spec.method, spec.lam, spec.biased, spec.dt);
        for (std::size_t j = 0; j < nr.theta.size(); ++j) {
            if (!std::isfinite(nr.theta[j]) || !std::isfinite(nr.u[j])) {
                throw DivergenceError(i + 1, "the parameters became non-finite at iteration " +
                                                 std::to_string(i + 1));
            }
        }
        nr.resort();
        if (poll && poll(1)) throw Interrupted{};
    }
    return out;
}

std::vector<RunResult> run_ensemble(const std::vector<std::shared_ptr<const Problem>>& problems,
                                    const std::vector<RunSpec>& specs, int threads,
                                    const Poll& poll, std::vector<std::exception_ptr>* errors) {
    if (problems.size() != specs.size()) {
        throw std::invalid_argument("problems and specs must have the same length");
    }
    for (std::size_t i = 0; i < specs.size(); ++i) {
        if (!problems[i]) throw std::invalid_argument("problems must not contain None");
        validate(specs[i]);
    }
    return parallel_runs<RunResult>(
        static_cast<std::int64_t>(specs.size()), threads, poll,
        [&](std::int64_t i, const Poll& p) {
            const auto ii = static_cast<std::size_t>(i);
            return run(*problems[ii], specs[ii], p);
        },
        errors);
}

}  // namespace ttnn::circle
