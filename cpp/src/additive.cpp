#include "ttnn/additive.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "ttnn/parallel.hpp"
#include "ttnn/sgd.hpp"  // snapshot_steps

namespace ttnn {

namespace {

// The batch, sorted once per dimension: xs[k][p] is the p-th smallest x_ik and
// rows[k][p] its row i.
//
// For cubic and ramp, σ_η(x − u) is 0 for x ≤ u − η/2 and 1 for x ≥ u + η/2.
// For one neuron (j, k), the points sorted along dimension k therefore split
// into [0, lo) (σ = 0), the window [lo, hi) (evaluated by σ_η itself) and the
// saturated suffix [hi, n) (σ = 1), found by two binary searches. Hence, per
// dimension and epoch:
//   forward:  Σ_j a_j σ(x − u_j) = (running sum of a_j over neurons whose
//             suffix has started) + window terms: a difference array over points;
//   ∇_a:      Σ_i r_i σ(x_i − u_j) = (suffix sum of r from hi) + window terms;
//   ∇_u:      −a_j Σ_i r_i σ′(x_i − u_j) = window terms only (σ′ = 0 outside).
// A margin well above rounding makes the split agree with the direct formula:
// points just inside the margin are evaluated by σ_η, which returns exactly 0
// or 1 outside its support. relu never saturates: the direct O(n·d·m) loop.
template <Activation A>
class AdditiveKernel {
public:
    // With `poll`, asks it for a stop between the per-dimension sorts (each
    // O(n log n): about a second at n = 10⁷ on a loaded core).
    explicit AdditiveKernel(const AdditiveMatrix& X, const Poll* poll = nullptr)
        : n_(static_cast<int>(X.rows())), d_(static_cast<int>(X.cols())), X_(X) {
        if constexpr (is_windowed(A)) {
            xs_.resize(d_);
            rows_.resize(d_);
            for (int k = 0; k < d_; ++k) {
                if (poll != nullptr && (*poll)()) throw Interrupted{};
                rows_[k].resize(n_);
                std::iota(rows_[k].begin(), rows_[k].end(), 0);
                std::stable_sort(rows_[k].begin(), rows_[k].end(),
                                 [&](int i, int j) { return X(i, k) < X(j, k); });
                xs_[k].resize(n_);
                for (int p = 0; p < n_; ++p) xs_[k][p] = X(rows_[k][p], k);
            }
            diff_.resize(n_ + 1);
            win_.resize(n_);
            rs_.resize(n_);
            suffix_.resize(n_ + 1);
        }
    }

    // f(X) into f; returns a rough operation count (for polling). With `poll`,
    // asks it for a stop between rows (relu) or dimensions (windowed) once
    // ~kPollWork terms are done: an epoch of relu costs O(n·d·m) and lasts
    // seconds at large n·d·m, so polling once per epoch would let Ctrl-C wait
    // that long.
    std::int64_t forward(const AdditiveNetwork& net, Eigen::VectorXd& f,
                         const Poll* poll = nullptr) {
        PollEvery every(poll);
        const int m = static_cast<int>(net.m());
        f.setConstant(n_, net.has_bias ? net.bias : 0.0);
        std::int64_t work = 0;
        if constexpr (is_windowed(A)) {
            for (int k = 0; k < d_; ++k) {
                const std::vector<double>& xs = xs_[k];
                std::fill(diff_.begin(), diff_.end(), 0.0);
                std::fill(win_.begin(), win_.end(), 0.0);
                for (int j = 0; j < m; ++j) {
                    const double a = net.a(j, k), u = net.u(j, k);
                    int lo, hi;
                    window(xs, u, net.eta, lo, hi);
                    diff_[hi] += a;
                    for (int p = lo; p < hi; ++p) win_[p] += a * sigma_eta<A>(xs[p] - u, net.eta);
                    work += hi - lo;
                }
                every(work);
                double run = 0.0;
                const std::vector<int>& rows = rows_[k];
                for (int p = 0; p < n_; ++p) {
                    run += diff_[p];
                    f[rows[p]] += run + win_[p];
                }
                work += n_;
            }
        } else {
            for (int i = 0; i < n_; ++i) {
                double s = 0.0;
                for (int k = 0; k < d_; ++k) {
                    const double x = X_(i, k);
                    for (int j = 0; j < m; ++j) s += net.a(j, k) * sigma_eta<A>(x - net.u(j, k), net.eta);
                }
                f[i] += s;
                every(std::int64_t{i + 1} * d_ * m);
            }
            work += std::int64_t{n_} * d_ * m;
        }
        return work;
    }

    // grad_a = c Σ_i r_i σ_η(x_ik − u_jk), grad_u = −c a_jk Σ_i r_i σ′_η(x_ik − u_jk),
    // grad_bias = c Σ_i r_i.
    std::int64_t gradient(const AdditiveNetwork& net, const Eigen::VectorXd& r, double c,
                          AdditiveMatrix& ga, AdditiveMatrix& gu, double& gb,
                          const Poll* poll = nullptr) {
        PollEvery every(poll);
        const int m = static_cast<int>(net.m());
        ga.setZero(m, d_);
        gu.setZero(m, d_);
        gb = net.has_bias ? c * r.sum() : 0.0;
        std::int64_t work = 0;
        if constexpr (is_windowed(A)) {
            for (int k = 0; k < d_; ++k) {
                const std::vector<double>& xs = xs_[k];
                const std::vector<int>& rows = rows_[k];
                for (int p = 0; p < n_; ++p) rs_[p] = r[rows[p]];
                suffix_[n_] = 0.0;
                for (int p = n_ - 1; p >= 0; --p) suffix_[p] = suffix_[p + 1] + rs_[p];
                for (int j = 0; j < m; ++j) {
                    const double u = net.u(j, k);
                    int lo, hi;
                    window(xs, u, net.eta, lo, hi);
                    double sa = 0.0, su = 0.0;
                    for (int p = lo; p < hi; ++p) {
                        const double z = xs[p] - u;
                        sa += rs_[p] * sigma_eta<A>(z, net.eta);
                        su += rs_[p] * dsigma_eta<A>(z, net.eta);
                    }
                    ga(j, k) = c * (suffix_[hi] + sa);
                    gu(j, k) = -c * net.a(j, k) * su;
                    work += hi - lo;
                }
                work += n_;
                every(work);
            }
        } else {
            for (int i = 0; i < n_; ++i) {
                every(std::int64_t{i} * d_ * m);
                const double ri = r[i];
                for (int k = 0; k < d_; ++k) {
                    const double x = X_(i, k);
                    for (int j = 0; j < m; ++j) {
                        const double z = x - net.u(j, k);
                        ga(j, k) += ri * sigma_eta<A>(z, net.eta);
                        gu(j, k) += ri * dsigma_eta<A>(z, net.eta);
                    }
                }
            }
            ga *= c;
            gu = (-c * net.a.array() * gu.array()).matrix();
            work += std::int64_t{n_} * d_ * m;
        }
        return work;
    }

private:
    // Asks `poll` whether to stop (throwing Interrupted) each time the work count
    // passes another kPollWork terms; a null poll is never asked.
    class PollEvery {
    public:
        explicit PollEvery(const Poll* poll) : poll_(poll) {}
        void operator()(std::int64_t work) {
            if (poll_ == nullptr || work < next_) return;
            next_ = work + kPollWork;
            if ((*poll_)()) throw Interrupted{};
        }

    private:
        static constexpr std::int64_t kPollWork = std::int64_t{1} << 20;
        const Poll* poll_;
        std::int64_t next_ = kPollWork;
    };

    static void window(const std::vector<double>& xs, double u, double eta, int& lo, int& hi) {
        const double half = 0.5 * eta, margin = 1e-9 * eta;
        lo = static_cast<int>(std::upper_bound(xs.begin(), xs.end(), u - half - margin) -
                              xs.begin());
        hi = static_cast<int>(std::lower_bound(xs.begin() + lo, xs.end(), u + half + margin) -
                              xs.begin());
    }

    int n_, d_;
    const AdditiveMatrix& X_;
    std::vector<std::vector<double>> xs_;
    std::vector<std::vector<int>> rows_;
    std::vector<double> diff_, win_, rs_, suffix_;
};

void check_data(const AdditiveNetwork& net, const AdditiveMatrix& X, const Eigen::VectorXd& y) {
    if (X.cols() != net.d()) {
        throw std::invalid_argument("X must have d = " + std::to_string(net.d()) + " columns");
    }
    if (X.rows() < 1) throw std::invalid_argument("X must have at least one row");
    if (y.size() != X.rows()) throw std::invalid_argument("y must have one entry per row of X");
    if (!X.allFinite()) throw std::invalid_argument("X must be finite");
    if (!y.allFinite()) throw std::invalid_argument("y must be finite");
}

// ‖r‖₂ as s·q with s = max |r_i| and q = ‖r / s‖₂ ∈ [1, √n] (q = 0 when r = 0):
// the plain √(Σ r_i²) overflows once |r_i| passes ~1e154, so with finite
// parameters a = 1e160 the criterion came out inf and GD stopped "at epoch 0"
// (issue 23). Scaled, the criterion is finite whenever r is; s is inf or NaN
// exactly when r is not finite.
struct ScaledNorm {
    double s, q;
};

ScaledNorm residual(const Eigen::VectorXd& f, const Eigen::VectorXd& y, Eigen::VectorXd& r) {
    r = f - y;
    if (!r.allFinite()) return {std::numeric_limits<double>::infinity(), 0.0};
    const double s = r.size() ? r.cwiseAbs().maxCoeff() : 0.0;
    if (s == 0.0) return {0.0, 0.0};
    // Division, not multiplication by 1 / s, which overflows for subnormal s.
    return {s, std::sqrt((r.array() / s).square().sum())};
}

// C from ‖r‖₂ = s·q and the factor c of its gradient ∇C = c rᵀ J.
struct Criterion {
    double value, scale;
};

Criterion criterion(ScaledNorm norm, double n, GdLoss loss) {
    // mse: ‖r‖²/n may exceed the double range with r finite; it is then inf
    // (the correctly rounded value; docs/guide/errors.md), never NaN.
    if (loss == GdLoss::mse) return {norm.s * (norm.s * (norm.q * norm.q / n)), 2.0 / n};
    // norm: s·(q/n) ≤ s, so finite; c = 1/(n s q) as (1/(n q))/s, where n q cannot overflow.
    if (!(norm.s > 0.0)) return {0.0, 0.0};
    return {norm.s * (norm.q / n), (1.0 / (n * norm.q)) / norm.s};
}

}  // namespace

GdLoss parse_gd_loss(const std::string& name) {
    if (name == "norm") return GdLoss::norm;
    if (name == "mse") return GdLoss::mse;
    throw std::invalid_argument("loss must be 'norm' or 'mse'");
}

AdditiveNetwork::AdditiveNetwork(AdditiveMatrix a_, AdditiveMatrix u_, double eta_,
                                 Activation act_, bool has_bias_, double bias_)
    : a(std::move(a_)), u(std::move(u_)), bias(has_bias_ ? bias_ : 0.0), has_bias(has_bias_),
      eta(eta_), act(act_) {
    if (a.rows() != u.rows() || a.cols() != u.cols()) {
        throw std::invalid_argument("a and u must have the same shape (m, d)");
    }
    if (a.rows() < 1 || a.cols() < 1) throw std::invalid_argument("a and u must be non-empty");
    if (!(eta > 0.0) || !std::isfinite(eta)) throw std::invalid_argument("eta must be > 0");
    if (!a.allFinite() || !u.allFinite() || !std::isfinite(bias)) {
        throw std::invalid_argument("parameters must be finite");
    }
}

Eigen::VectorXd AdditiveNetwork::operator()(const AdditiveMatrix& X) const {
    if (X.cols() != d()) {
        throw std::invalid_argument("X must have d = " + std::to_string(d()) + " columns");
    }
    Eigen::VectorXd f;
    dispatch_activation(act, [&](auto A) {
        AdditiveKernel<A.value> kernel(X);
        kernel.forward(*this, f);
    });
    return f;
}

double additive_criterion_gradient(const AdditiveNetwork& net, const AdditiveMatrix& X,
                                   const Eigen::VectorXd& y, AdditiveMatrix& grad_a,
                                   AdditiveMatrix& grad_u, double& grad_bias, GdLoss loss) {
    check_data(net, X, y);
    const double n = static_cast<double>(X.rows());
    double crit = 0.0;
    dispatch_activation(net.act, [&](auto A) {
        AdditiveKernel<A.value> kernel(X);
        Eigen::VectorXd f, r;
        kernel.forward(net, f);
        const Criterion c = criterion(residual(f, y, r), n, loss);
        crit = c.value;
        kernel.gradient(net, r, c.scale, grad_a, grad_u, grad_bias);
    });
    return crit;
}

AdditiveGdResult additive_gd(const AdditiveNetwork& net, const AdditiveMatrix& X,
                             const Eigen::VectorXd& y, const AdditiveGdOptions& opt,
                             const Poll& poll) {
    check_data(net, X, y);
    if (!(opt.step_a >= 0.0) || !std::isfinite(opt.step_a)) {
        throw std::invalid_argument("step_a must be >= 0");
    }
    if (!(opt.step_u >= 0.0) || !std::isfinite(opt.step_u)) {
        throw std::invalid_argument("step_u must be >= 0");
    }
    if (opt.epochs < 0) throw std::invalid_argument("epochs must be >= 0");
    if (opt.snapshots < 2 || opt.snapshots - 1 > opt.epochs) {
        throw std::invalid_argument("snapshots must be in [2, epochs + 1]");
    }
    const auto schedule = snapshot_steps(opt.epochs, opt.snapshots);
    const Eigen::Index K = opt.snapshots, md = net.m() * net.d();
    AdditiveGdResult res{schedule, AdditiveMatrix(K, md), AdditiveMatrix(K, md),
                         Eigen::VectorXd(K), Eigen::VectorXd(K)};
    const double n = static_cast<double>(X.rows());

    dispatch_activation(net.act, [&](auto A) {
        AdditiveKernel<A.value> kernel(X, &poll);
        AdditiveNetwork cur = net;
        Eigen::VectorXd f, r;
        AdditiveMatrix ga, gu;
        double gb = 0.0;
        Eigen::Index k = 0;
        for (std::int64_t e = 0;; ++e) {
            kernel.forward(cur, f, &poll);
            const ScaledNorm norm = residual(f, y, r);
            if (!std::isfinite(norm.s)) {
                // The parameters are finite here (checked after every update):
                // the network's output itself overflowed the double range.
                throw DivergenceError(e, "additive GD diverged at epoch " + std::to_string(e) +
                                             ": the network's output overflowed the double "
                                             "range; try smaller steps or weights");
            }
            while (k < K && schedule[k] == e) {
                std::copy(cur.a.data(), cur.a.data() + md, res.a.row(k).data());
                std::copy(cur.u.data(), cur.u.data() + md, res.u.row(k).data());
                res.bias[k] = cur.bias;
                res.criterion[k] = criterion(norm, n, opt.loss).value;
                ++k;
            }
            if (e == opt.epochs) break;
            kernel.gradient(cur, r, criterion(norm, n, opt.loss).scale, ga, gu, gb, &poll);
            cur.a -= opt.step_a * ga;
            cur.u -= opt.step_u * gu;
            if (cur.has_bias) cur.bias -= opt.step_a * gb;
            if (!cur.a.allFinite() || !cur.u.allFinite() || !std::isfinite(cur.bias)) {
                throw DivergenceError(e + 1, "additive GD diverged at epoch " +
                                                 std::to_string(e + 1) +
                                                 ": the parameters became non-finite; try "
                                                 "smaller steps");
            }
            // One epoch done (progress counts epochs); the monitor paces the
            // actual polling by time, so this is cheap at any epoch cost.
            if (poll(1)) throw Interrupted{};
        }
    });
    return res;
}

std::vector<AdditiveGdResult> additive_gd_ensemble(const std::vector<AdditiveNetwork>& nets,
                                                   const std::vector<AdditiveMatrix>& X,
                                                   const std::vector<Eigen::VectorXd>& y,
                                                   const std::vector<AdditiveGdOptions>& opts,
                                                   int threads, const Poll& poll,
                                                   std::vector<std::exception_ptr>* errors) {
    const std::size_t R = nets.size();
    if (opts.size() != R) throw std::invalid_argument("one option set per network");
    if (X.size() != y.size() || (X.size() != 1 && X.size() != R)) {
        throw std::invalid_argument("give one data set (X, y) for all runs or one per run");
    }
    return parallel_runs<AdditiveGdResult>(
        static_cast<std::int64_t>(R), threads, poll, [&](std::int64_t i, const Poll& run_poll) {
            const std::size_t di = X.size() == 1 ? 0 : static_cast<std::size_t>(i);
            return additive_gd(nets[i], X[di], y[di], opts[i], run_poll);
        },
        errors);
}

}  // namespace ttnn
