#include "ttnn/sgd.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ttnn/loss.hpp"
#include "ttnn/parallel.hpp"

namespace ttnn {

namespace {

constexpr std::int64_t kPollEvery = std::int64_t{1} << 20;  // ~10–50 ms of work

// Kernel for cubic and ramp, O(window + log m) per step instead of O(m).
//
// σ_η(x − u) is 1 for u ≤ x − η/2 and 0 for u ≥ x + η/2. With the neurons kept
// sorted by u, the saturated ones form a prefix: f(x) is a_0 plus a prefix sum
// of a plus the few window terms, and the update of a on the saturated prefix
// is one prefix add (σ′ = 0 there, so their u do not move). Prefix sums and
// prefix adds use blocks of kBlock neurons with a lazy per-block offset:
// a_k = val[k] + lazy[k / kBlock]. Plain sums, no cancellation, so the result
// stays within rounding of the straightforward loop of ttnn.reference.
template <Activation A>
class SortedKernel {
public:
    static constexpr int kShift = 5;
    static constexpr int kBlock = 1 << kShift;

    SortedKernel(const Network& net, double h, double eps)
        : m_(static_cast<int>(net.m())), eta_(net.eta), h_(h), eps_(eps), a0_(net.a[0]),
          perm_(m_), us_(m_), val_(m_), lazy_((m_ + kBlock - 1) / kBlock, 0.0),
          block_sum_(lazy_.size(), 0.0) {
        std::iota(perm_.begin(), perm_.end(), 0);
        // Stable: neurons at equal u keep their input order.
        std::stable_sort(perm_.begin(), perm_.end(),
                         [&](int i, int j) { return net.u[i] < net.u[j]; });
        for (int k = 0; k < m_; ++k) {
            us_[k] = net.u[perm_[k]];
            val_[k] = net.a[perm_[k] + 1];
        }
        resync();
        window_.reserve(m_);
    }

    // One SGD step; returns false when the new parameters are not finite.
    bool step(double x, double y) {
        // A margin well above rounding makes the prefix/window split agree with
        // the exact formula: neurons just inside the margin are evaluated by
        // σ_η itself, which returns exactly 0 or 1 outside its support.
        const double half = 0.5 * eta_, margin = 1e-9 * eta_;
        const int lo = static_cast<int>(
            std::upper_bound(us_.begin(), us_.end(), x - half - margin) - us_.begin());
        const int hi = static_cast<int>(
            std::lower_bound(us_.begin() + lo, us_.end(), x + half + margin) - us_.begin());

        double f = a0_ + prefix_sum(lo);
        window_.clear();
        for (int k = lo; k < hi; ++k) {
            const double z = x - us_[k];
            const WindowTerm t{a_at(k), sigma_eta<A>(z, eta_), dsigma_eta<A>(z, eta_)};
            f += t.a * t.s;
            window_.push_back(t);
        }
        const double hr = h_ * 2.0 * (f - y);
        if (!std::isfinite(hr)) return false;

        a0_ -= hr;
        prefix_add(lo, -hr);
        bool finite = std::isfinite(a0_);
        for (int k = lo; k < hi; ++k) {
            const WindowTerm& t = window_[k - lo];
            set_a(k, t.a - hr * t.s);
            us_[k] += eps_ * hr * t.a * t.ds;
            finite = finite && std::isfinite(us_[k]) && std::isfinite(a_at(k));
        }
        if (hi > lo) restore_order(lo, hi);
        return finite;
    }

    // Recomputes the block sums from scratch, so that their incremental
    // updates cannot drift over a long run.
    void resync() {
        for (std::size_t b = 0; b < block_sum_.size(); ++b) {
            const int end = std::min(m_, static_cast<int>((b + 1) * kBlock));
            double s = 0.0;
            for (int k = static_cast<int>(b) * kBlock; k < end; ++k) s += val_[k];
            block_sum_[b] = s;
        }
    }

    void write(double* a, double* u) const {
        a[0] = a0_;
        for (int k = 0; k < m_; ++k) {
            a[perm_[k] + 1] = a_at(k);
            u[perm_[k]] = us_[k];
        }
    }

private:
    struct WindowTerm {
        double a, s, ds;
    };

    double a_at(int k) const { return val_[k] + lazy_[k >> kShift]; }

    void set_a(int k, double v) {
        const double new_val = v - lazy_[k >> kShift];
        block_sum_[k >> kShift] += new_val - val_[k];
        val_[k] = new_val;
    }

    double prefix_sum(int n) const {
        const int full = n >> kShift;
        double s = 0.0;
        for (int b = 0; b < full; ++b) s += block_sum_[b] + kBlock * lazy_[b];
        double partial = 0.0;
        for (int k = full << kShift; k < n; ++k) partial += val_[k];
        if (n > (full << kShift)) s += partial + (n - (full << kShift)) * lazy_[full];
        return s;
    }

    void prefix_add(int n, double v) {
        const int full = n >> kShift;
        for (int b = 0; b < full; ++b) lazy_[b] += v;
        for (int k = full << kShift; k < n; ++k) val_[k] += v;
        if (n > (full << kShift)) block_sum_[full] += (n - (full << kShift)) * v;
    }

    void swap_adjacent(int k) {
        std::swap(perm_[k], perm_[k + 1]);
        std::swap(us_[k], us_[k + 1]);
        if ((k >> kShift) == ((k + 1) >> kShift)) {
            std::swap(val_[k], val_[k + 1]);  // same lazy offset: exact
        } else {
            const double ak = a_at(k), ak1 = a_at(k + 1);
            set_a(k, ak1);
            set_a(k + 1, ak);
        }
    }

    // Only the window neurons [lo, hi) moved, by a little: insertion sort them
    // back, first leftwards (the prefix is sorted), then rightwards.
    void restore_order(int lo, int hi) {
        for (int k = lo; k < hi; ++k) {
            for (int j = k; j > 0 && us_[j] < us_[j - 1]; --j) swap_adjacent(j - 1);
        }
        for (int k = hi - 1; k >= 0; --k) {
            if (k + 1 >= m_ || us_[k] <= us_[k + 1]) break;
            for (int j = k; j + 1 < m_ && us_[j] > us_[j + 1]; ++j) swap_adjacent(j);
        }
    }

    int m_;
    double eta_, h_, eps_, a0_;
    std::vector<int> perm_;      // sorted position → neuron index
    std::vector<double> us_;     // u in sorted order
    std::vector<double> val_;    // a in sorted order, minus the block's lazy offset
    std::vector<double> lazy_;   // pending prefix adds per block
    std::vector<double> block_sum_;
    std::vector<WindowTerm> window_;
};

// Kernel for relu (no saturation, so no prefix structure): the direct O(m)
// loop of DESIGN.md §2.
template <Activation A>
class DenseKernel {
public:
    DenseKernel(const Network& net, double h, double eps)
        : m_(static_cast<int>(net.m())), eta_(net.eta), h_(h), eps_(eps), a_(net.a), u_(net.u),
          s_(m_), ds_(m_) {}

    bool step(double x, double y) {
        double f = a_[0];
        for (int j = 0; j < m_; ++j) {
            const double z = x - u_[j];
            s_[j] = sigma_eta<A>(z, eta_);
            ds_[j] = dsigma_eta<A>(z, eta_);
            f += a_[j + 1] * s_[j];
        }
        const double hr = h_ * 2.0 * (f - y);
        if (!std::isfinite(hr)) return false;
        a_[0] -= hr;
        bool finite = std::isfinite(a_[0]);
        for (int j = 0; j < m_; ++j) {
            const double aj = a_[j + 1];
            a_[j + 1] = aj - hr * s_[j];
            u_[j] += eps_ * hr * aj * ds_[j];
            finite = finite && std::isfinite(a_[j + 1]) && std::isfinite(u_[j]);
        }
        return finite;
    }

    void resync() {}

    void write(double* a, double* u) const {
        std::copy(a_.data(), a_.data() + m_ + 1, a);
        std::copy(u_.data(), u_.data() + m_, u);
    }

private:
    int m_;
    double eta_, h_, eps_;
    Eigen::VectorXd a_, u_, s_, ds_;
};

template <class Kernel>
SgdResult run_with(Kernel& kernel, const Network& net, const PiecewiseConstant* target,
                   const SgdOptions& opt, SgdData data, const Poll& poll) {
    const auto schedule = snapshot_steps(opt.steps, opt.snapshots);
    const Eigen::Index K = opt.snapshots, m = net.m();
    SgdResult res{schedule, RowMatrix(K, m + 1), RowMatrix(K, m), Eigen::VectorXd()};

    Rng rng(opt.seed, opt.stream);
    std::int64_t p = 0;
    for (Eigen::Index k = 0; k < K; ++k) {
        for (; p < schedule[k]; ++p) {
            double x, y;
            if (data.x != nullptr) {
                x = data.x[p];
                y = data.y[p];
            } else {
                x = rng.uniform();
                y = (*target)(x) + opt.noise.draw(rng);
            }
            if (!kernel.step(x, y)) {
                throw DivergenceError(
                    p + 1, "SGD diverged at step " + std::to_string(p + 1) +
                               ": the parameters became non-finite (h = " +
                               std::to_string(opt.h) + "); try a smaller h");
            }
            if (((p + 1) & (kPollEvery - 1)) == 0) {
                kernel.resync();
                if (poll && poll()) throw Interrupted{};
            }
        }
        kernel.write(res.a.row(k).data(), res.u.row(k).data());
    }
    if (target != nullptr) {
        res.l2.resize(K);
        for (Eigen::Index k = 0; k < K; ++k) {
            const Network snap(res.a.row(k).transpose(), res.u.row(k).transpose(), net.eta, net.act);
            res.l2[k] = l2_error(snap, *target);
        }
    }
    return res;
}

}  // namespace

std::vector<std::int64_t> snapshot_steps(std::int64_t steps, std::int64_t snapshots) {
    if (steps < 0) throw std::invalid_argument("steps must be >= 0");
    if (snapshots < 2 || snapshots > steps + 1) {
        throw std::invalid_argument("snapshots must be in [2, steps + 1]");
    }
    std::vector<std::int64_t> out(snapshots);
    const std::int64_t d = snapshots - 1;
    // round(k P / d) with halves up; 128-bit so that k P cannot overflow.
    for (std::int64_t k = 0; k < snapshots; ++k) {
        const __int128 num = static_cast<__int128>(2 * k) * steps + d;
        out[k] = static_cast<std::int64_t>(num / (2 * d));
    }
    return out;
}

SgdResult sgd_run(const Network& net, const PiecewiseConstant* target, const SgdOptions& opt,
                  SgdData data, const Poll& poll) {
    if (!(opt.h > 0.0) || !std::isfinite(opt.h)) throw std::invalid_argument("h must be > 0");
    if (!(opt.eps >= 0.0) || !std::isfinite(opt.eps)) throw std::invalid_argument("eps must be >= 0");
    if (data.x == nullptr && target == nullptr) {
        throw std::invalid_argument("sgd needs a target or replayed data");
    }
    return dispatch_activation(net.act, [&](auto A) {
        if constexpr (is_windowed(A.value)) {
            SortedKernel<A.value> kernel(net, opt.h, opt.eps);
            return run_with(kernel, net, target, opt, data, poll);
        } else {
            DenseKernel<A.value> kernel(net, opt.h, opt.eps);
            return run_with(kernel, net, target, opt, data, poll);
        }
    });
}

std::vector<SgdResult> sgd_ensemble(const std::vector<Network>& nets,
                                    const PiecewiseConstant& target,
                                    const std::vector<SgdOptions>& opts, int threads,
                                    const Poll& poll) {
    if (nets.size() != opts.size()) throw std::invalid_argument("one option set per network");
    return parallel_runs<SgdResult>(
        static_cast<std::int64_t>(nets.size()), threads, poll,
        [&](std::int64_t i, const Poll& run_poll) {
            return sgd_run(nets[i], &target, opts[i], SgdData{}, run_poll);
        });
}

}  // namespace ttnn
