// The SGD kernel for the windowed activations (cubic, ramp): the neurons kept
// sorted by u, so that a step costs O(window + prefix sums) instead of O(m)
// (docs/maths/dynamics.md#online-sgd). Its online steps are here, its
// mini-batch steps in sgd_minibatch.hpp; sgd.cpp drives it. Internal to sgd.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>
#include <utility>
#include <vector>

#include "ttnn/activation.hpp"
#include "ttnn/network.hpp"
#include "ttnn/prefix_sums.hpp"
#include "ttnn/sgd_clones.hpp"

namespace ttnn::sgd_detail {

// The store rule: which prefix-sum store (prefix_sums.hpp) the windowed kernel
// keeps. This is the one statement of it; code, tests and docs refer here.
//
//   flat     when m ≤ 8, or when m ≤ 64 and m²·η ≤ 32;
//   blocked  otherwise.
//
// Why: the flat store pays O(m) vectorised work per step for the prefix add,
// plus O(m) per window neuron (set() moves m + 1 sums), about m·(1 + m·η) in
// all; the blocked one pays O(m / 1024 + 64) masked work whatever the window.
// Flat therefore wins while m is small and the windows (about m·η neurons) are
// mostly empty, and at the smallest m whatever the window, where the blocked
// store's fixed masked runs dominate. The bounds are where the two costs cross
// in the side-by-side measurements of bench/RESULTS.md ("Prefix-sum store by
// m and η").
constexpr Eigen::Index kFlatMaxM = 64;
constexpr double kFlatMaxWindowWork = 32.0;  // m²·η
constexpr Eigen::Index kFlatAlwaysM = 8;

inline bool use_flat_store(const Network& net) {
    const double m = static_cast<double>(net.m());
    return net.m() <= kFlatAlwaysM ||
           (net.m() <= kFlatMaxM && m * m * net.eta <= kFlatMaxWindowWork);
}

template <Activation A, class Store>
class SortedKernel {
public:
    static constexpr int kRefresh = 4096;
    static constexpr int kScan = 8;
    static constexpr bool kBlocked = std::is_same_v<Store, BlockedPrefixSums>;
    // From this m·η (mean neurons per window) the blocked store's online steps
    // go through step_blocked: its fixed-order vectorised loops over the window
    // pay once windows hold several neurons, and cost more than step()'s scan
    // while they are mostly empty (bench/RESULTS.md, "Wide windows").
    static constexpr double kWideWindow = 8.0;

    SortedKernel(const Network& net, double h, double eps)
        : m_(static_cast<int>(net.m())), eta_(net.eta), inv_eta_(1.0 / net.eta), h_(h),
          eps_(eps), a0_(net.a[0]),
          nbuckets_(bucket_count(m_)), perm_(sorted_order(net)),
          us_(m_ + kScan, std::numeric_limits<double>::infinity()),
          a_(sorted_a(net, perm_)), bucket_(nbuckets_), hist_(nbuckets_ + 1), window_(m_),
          count_window_(m_ * eta_ >= 1.0), wide_window_(m_ * eta_ >= kWideWindow),
          wa_(m_ + kLanes), ws_(m_ + kLanes), wds_(m_ + kLanes) {
        for (int k = 0; k < m_; ++k) us_[k] = net.u[perm_[k]];
        refresh_buckets();
        refresh_bound();
    }

    // One SGD step; returns false when the new parameters are not finite.
    bool step(double x, double y) {
        if constexpr (kBlocked) {
            if (wide_window_) return step_blocked(x, y);
        }
        // A margin well above rounding makes the prefix/window split agree with
        // the exact formula: neurons just inside the margin are evaluated by
        // σ_η itself, which returns exactly 0 or 1 outside its support.
        const double half = 0.5 * eta_, margin = 1e-9 * eta_;
        const double right = x + half + margin;
        const int lo = count_at_most(x - half - margin);
        const int hi = window_end(lo, right);

        double f = a0_ + a_.sum(lo);
        for (int k = lo; k < hi; ++k) {
            const double z = x - us_[k];
            WindowTerm& t = window_[k - lo];
            t.a = a_.get(k);
            window_activation_inv<A>(z, inv_eta_, t.s, t.ds);
            f += t.a * t.s;
        }
        const double hr = h_ * 2.0 * (f - y);
        if (!std::isfinite(hr)) return false;

        if (!update_saturated(lo, hr)) return false;
        // v · 0 is 0 for finite v and NaN for inf/NaN: one test at the end
        // instead of a branch per parameter. The order of u over [lo − 1, hi]
        // is checked in the same loop, pair by pair as each u moves (a
        // separate vectorised pass adds its own loop and a mispredicted exit
        // to every step), and restored only when broken: restore_order's
        // loops mispredict their exits.
        double nonfinite = a0_ * 0.0;
        if (hi > lo) {
            double prev = lo > 0 ? us_[lo - 1] : -std::numeric_limits<double>::infinity();
            int unordered = 0;  // NaN compares false: unordered, then not finite
            for (int k = lo; k < hi; ++k) {
                const WindowTerm& t = window_[k - lo];
                const double a = a_.set(k, t.a - hr * t.s);
                us_[k] += eps_ * hr * t.a * t.ds;
                nonfinite += us_[k] * 0.0 + a * 0.0;
                unordered |= !(prev <= us_[k]);
                prev = us_[k];
            }
            unordered |= !(prev <= us_[hi]);  // us_[m] is +inf: always a valid pair
            if (unordered) restore_order(lo, hi);
        }
        if (--until_refresh_ == 0) {
            // Also recompute the prefix sums: their incremental updates round
            // differently from a direct sum, and resyncing every few thousand
            // steps keeps that difference to a few ulps over any run length.
            a_.resync();
            refresh_buckets();
            refresh_bound();
        }
        return nonfinite == 0.0;
    }

    // step() for the blocked store when m·η ≥ kWideWindow: the same update, with the
    // window's terms in separate fixed-order loops the compiler vectorises
    // (at least kWideWindow neurons per window on average): their a read per block
    // (get_range), σ_η and σ′_η, then f's window share in kLanes partial sums
    // over the zero-padded window, the new a and u, and the new a written per
    // block (set_range). The window's share of f is summed in another order
    // than step()'s: within rounding of it, and a fixed function of m.
    bool step_blocked(double x, double y) {
        const double half = 0.5 * eta_, margin = 1e-9 * eta_;
        const double right = x + half + margin;
        const int lo = count_at_most(x - half - margin);
        const int hi = count_where<false>(right, lo);
        const int len = hi - lo;

        double* wa = wa_.data();
        double* ws = ws_.data();
        double* wds = wds_.data();
        a_.get_range(lo, hi, wa);
        window_activations_inv<A>(x, us_.data() + lo, len, inv_eta_, ws, wds);
        for (int i = 0; i < kLanes; ++i) {  // zero the padding up to a whole number of lanes
            wa[len + i] = 0.0;
            ws[len + i] = 0.0;
        }
        double acc[kLanes] = {};
        for (int i = 0; i < len; i += kLanes) {
            for (int j = 0; j < kLanes; ++j) acc[j] += wa[i + j] * ws[i + j];
        }
        for (int w = kLanes / 2; w >= 1; w /= 2) {
            for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
        }
        const double f = (a0_ + a_.sum(lo)) + acc[0];
        const double hr = h_ * 2.0 * (f - y);
        if (!std::isfinite(hr)) return false;

        if (!update_saturated(lo, hr)) return false;
        const double eps_hr = eps_ * hr;
        double* us = us_.data() + lo;
        int bad = !std::isfinite(a0_);  // an int: the loop below vectorises
        for (int i = 0; i < len; ++i) {
            us[i] += eps_hr * wa[i] * wds[i];
            wa[i] -= hr * ws[i];
            bad |= !(std::abs(us[i]) <= std::numeric_limits<double>::max());
        }
        bad |= !a_.set_range(lo, hi, wa);
        if (len > 0 && !in_order(lo, hi)) restore_order(lo, hi);
        if (--until_refresh_ == 0) {
            a_.resync();
            refresh_buckets();
            refresh_bound();
        }
        return bad == 0;
    }


    // Mini-batch steps (defined in sgd_minibatch.hpp): the mean of B online
    // updates at the pre-step parameters, serially (step_batch) or split over
    // threads with the same bits (step_batch_parts, the blocked store only).
    bool step_batch(const double* xs, const double* ys, int B);
    bool step_batch_parts(const double* xs, const double* ys, int B, int threads);
    // The measure of a mini-batch step's work that the split's threshold
    // compares with (sgd_minibatch.hpp): B windows of ~m·η neurons, plus each
    // sample's prefix sum.
    double batch_work(int B) const { return B * (m_ * eta_ + 64.0); }
    int m() const { return m_; }

    void resync() { a_.resync(); }

    void write(double* a, double* u) const {
        a[0] = a0_;
        for (int k = 0; k < m_; ++k) {
            a[perm_[k] + 1] = a_.get(k);
            u[perm_[k]] = us_[k];
        }
    }

private:
    // Mini-batch helpers (sgd_minibatch.hpp).
    void after_batch_step(int B);
    std::pair<int, int> part_range(int q) const;
    // The bodies of step_batch_parts's parallel loops, cloned and flattened
    // as the driver's step loop is (sgd_clones.hpp): OpenMP outlines them out
    // of it.
    TTNN_STEP_CLONES void forward_chunk(int c, const double* xs, const double* ys, int B);
    TTNN_STEP_CLONES void update_part(int q, bool prefixes_done);
    TTNN_STEP_CLONES void refresh_part(int q, int nparts);

    struct WindowTerm {
        double a, s, ds;
    };
    // f(x) at the pre-step parameters for a mini-batch sample: the window [lo, hi)
    // of x (widened by `margin`), its terms appended to `terms`, in the order of step.
    double forward_window(double x, double half, double margin, int& lo, int& hi,
                          std::vector<WindowTerm>& terms) const;
    struct BatchSample {
        int lo, hi;  // its window of sorted positions
        double hr;   // (h / B) r_b
    };
    struct PartSample {
        int lo, hi;  // its window of sorted positions
        int offset;  // of its window terms in its chunk's list
        double hr;   // (h / B) r_b
    };

    static std::vector<int> sorted_order(const Network& net) {
        std::vector<int> perm(net.m());
        std::iota(perm.begin(), perm.end(), 0);
        // Stable: neurons at equal u keep their input order.
        std::stable_sort(perm.begin(), perm.end(),
                         [&](int i, int j) { return net.u[i] < net.u[j]; });
        return perm;
    }

    static std::vector<double> sorted_a(const Network& net, const std::vector<int>& perm) {
        std::vector<double> a(perm.size());
        for (std::size_t k = 0; k < perm.size(); ++k) a[k] = net.a[perm[k] + 1];
        return a;
    }

    // At least four buckets per neuron (a power of two, so that q · nbuckets
    // and b / nbuckets are exact): the correcting scan is then mostly empty.
    // At least 512 (2 KiB): more buckets still help at small m (measured).
    static int bucket_count(int m) {
        int n = 512;
        while (n < 4 * m) n *= 2;
        return n;
    }

    // a_0 −= h r and the prefix add of the step on the saturated neurons
    // [0, lo); false when some a_k is no longer finite. The prefix add changes
    // neurons this step does not visit, and one of them may overflow. Every
    // |a_k| is at most bound_ + |hr| after the step (σ_η ∈ [0, 1]), and
    // rounding is monotone, so while that sum is finite no a_k can be
    // infinite; only when it is not are they scanned.
    bool update_saturated(int lo, double hr) {
        a0_ -= hr;
        a_.add_prefix(lo, -hr);
        bound_ += std::abs(hr);
        if (!(bound_ <= std::numeric_limits<double>::max())) {
            if (!refresh_bound()) return false;
            bound_ += std::abs(hr);  // the window's new a are not written yet
        }
        return true;
    }

    // bound_ = max_k |a_k|, exactly; false when some a_k is not finite.
    bool refresh_bound() {
        double mx = 0.0;
        bool finite = true;
        for (int k = 0; k < m_; ++k) {
            const double v = a_.get(k);
            finite = finite && std::isfinite(v);
            mx = std::max(mx, std::abs(v));
        }
        bound_ = mx;
        return finite;
    }

    // bucket_[b] = number of neurons with u < b / nbuckets (at the last refresh).
    // Counted without a branch per neuron: u < b / n ⇔ u·n < b (n a power of
    // two, so u·n is exact) ⇔ b ≥ ⌊u·n⌋ + 1, so a histogram of ⌊u·n⌋ + 1
    // (clamped to [0, n]) and its running sum give the table, instead of a
    // scan with a data-dependent loop exit per neuron and a division per
    // bucket, whose mispredictions showed in the steps/s (bench/RESULTS.md).
    // The table only seeds the window search, so it never changes a result.
    void refresh_buckets() {
        const double n = nbuckets_;
        std::fill(hist_.begin(), hist_.end(), 0);
        for (int k = 0; k < m_; ++k) {
            double t = std::floor(us_[k] * n) + 1.0;
            t = t > 0.0 ? t : 0.0;  // also maps NaN (a diverging step) to 0
            t = t < n ? t : n;
            ++hist_[static_cast<int>(t)];
        }
        int count = 0;
        for (int b = 0; b < nbuckets_; ++b) {
            count += hist_[b];
            bucket_[b] = count;
        }
        until_refresh_ = kRefresh;
    }

    // Number of neurons with u ≤ q, i.e. the sorted position of the first one
    // above q.
    int count_at_most(double q) const { return count_where<true>(q, 0); }

    // The number of neurons with u ≤ q (AtMost) or u < q, at least `from` (a
    // position known to be at or below the answer): from the bucket of q and
    // scans that correct it to the exact answer. With four buckets per neuron
    // the scans are mostly empty, so the wide-window step (step_blocked) finds
    // the window's end this way too instead of by window_end's scan to it,
    // whose exit mispredicts when windows hold tens of neurons.
    // Branch-free first steps before the scans were slower (a longer chain).
    template <bool AtMost>
    int count_where(double q, int from) const {
        const auto below = [q](double u) { return AtMost ? u <= q : u < q; };
        const double t = q * nbuckets_;
        const int b = t > 0.0 ? (t < nbuckets_ ? static_cast<int>(t) : nbuckets_ - 1) : 0;
        int k = from == 0 ? bucket_[b] : std::max(bucket_[b], from);  // no max at from = 0
        while (below(us_[k])) ++k;  // stops at the +inf padding
        while (k > from && !below(us_[k - 1])) --k;
        return k;
    }

    // The first sorted position at or after lo with u ≥ right. With about m·η
    // neurons per window its length varies from step to step, and a loop to
    // its end would mispredict its exit: then count the first kScan candidates,
    // a loop of fixed length (the +inf padding of us_ keeps it in bounds).
    // Narrow windows are mostly empty: scan them.
    int window_end(int lo, double right) const {
        int hi = lo;
        if (count_window_) {
            for (int j = 0; j < kScan; ++j) hi += us_[lo + j] < right;
            if (hi < lo + kScan) return hi;
        }
        while (us_[hi] < right) ++hi;
        return hi;
    }

    // Whether u is still sorted over [lo − 1, hi] after the window [lo, hi)
    // moved: a branch-free check, so that the (usual) sorted case costs one
    // well-predicted branch instead of two per window neuron.
    bool in_order(int lo, int hi) const {
        int bad = 0;  // an int, not a bool: the loop vectorises
        // us_[m] is +inf: the pair (hi − 1, hi) is always valid.
        for (int k = std::max(lo, 1); k <= hi; ++k) bad |= !(us_[k - 1] <= us_[k]);
        return bad == 0;
    }

    void swap_adjacent(int k) {
        std::swap(perm_[k], perm_[k + 1]);
        std::swap(us_[k], us_[k + 1]);
        a_.swap_adjacent(k);
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

    // The neurons at sorted positions in `moved` (intervals) changed u; put
    // them back in order by insertion: after the intervals sorted by start,
    // sift each moved one left, then keep going right while the next one is
    // below its left neighbour (a moved neuron overtook it). Positions right
    // of the current one never shift, so the later intervals stay valid, and
    // [0, k) is sorted after position k − 1 is done.
    void restore_order_of(std::vector<std::pair<int, int>>& moved) {
        std::sort(moved.begin(), moved.end());
        int done = 0;  // positions < done are in order
        for (const auto& [lo, hi] : moved) {
            int k = std::max(lo, done);
            for (; k < hi; ++k) sift_left(k);
            while (k < m_ && k > 0 && us_[k] < us_[k - 1]) sift_left(k++);
            done = std::max(done, k);
        }
    }

    void sift_left(int k) {
        for (int j = k; j > 0 && us_[j] < us_[j - 1]; --j) swap_adjacent(j - 1);
    }

    int m_;
    double eta_, inv_eta_, h_, eps_, a0_;
    double bound_ = 0.0;  // ≥ max_k |a_k| (see step)
    int nbuckets_;
    int until_refresh_ = kRefresh;
    std::vector<int> perm_;   // sorted position → neuron index
    std::vector<double> us_;  // u in sorted order, then kScan × +inf (stops the scans)
    Store a_;                 // a_1..a_m in sorted order
    std::vector<int> bucket_;  // see refresh_buckets
    std::vector<int> hist_;    // scratch of refresh_buckets, nbuckets_ + 1 counts
    std::vector<WindowTerm> window_;
    bool count_window_;  // see window_end
    bool wide_window_;   // m·η ≥ kWideWindow (blocked store: step_blocked)
    // The window's a, σ_η, σ′_η (step_blocked), kLanes entries of padding.
    std::vector<double> wa_, ws_, wds_;
    // Scratch of step_batch.
    std::vector<WindowTerm> terms_;
    std::vector<BatchSample> samples_;
    std::vector<std::pair<int, double>> prefix_adds_;
    std::vector<std::pair<int, int>> intervals_;
    // Scratch of step_batch_parts.
    // Each chunk's list on its own cache line: push_back writes the list's
    // end pointer, and neighbouring chunks belong to different threads.
    struct alignas(64) ChunkTerms {
        std::vector<WindowTerm> terms;
    };
    std::vector<ChunkTerms> chunk_terms_;
    std::vector<PartSample> parts_;
    // The samples each superblock's update needs: part_samples_[part_first_[q]
    // .. part_first_[q + 1]), in sample order.
    std::vector<int> part_first_, part_samples_;
    // Each part's results, on its own cache line (parts belong to different
    // threads).
    struct alignas(64) PartState {
        int fill = 0;  // cursor while part_samples_ is filled
        bool bad = false, unordered = false;
        double max_a = 0.0;  // refresh_part
    };
    std::vector<PartState> part_state_;
};

}  // namespace ttnn::sgd_detail
