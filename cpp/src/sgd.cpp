#include "ttnn/sgd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <type_traits>
#include <utility>

#include "ttnn/inner_threads.hpp"
#include "ttnn/loss.hpp"
#include "ttnn/parallel.hpp"
#include "ttnn/prefix_sums.hpp"

namespace ttnn {

namespace {

// The prefix sums are recomputed every kResyncEvery steps (at fixed step
// numbers, so that results never depend on when a run was polled).
constexpr std::int64_t kResyncEvery = std::int64_t{1} << 20;
// Steps between two polls: about 2²² neuron updates, a few milliseconds of
// work whatever m is, so that Ctrl-C lands quickly at large m too.
constexpr std::int64_t kPollWork = std::int64_t{1} << 22;

// Which prefix-sum store the windowed kernel keeps (prefix_sums.hpp). The
// flat one costs O(m) vectorised work per step for the prefix add, plus O(m)
// per window neuron (set() moves m + 1 sums), about m·(1 + m·η) in all; the
// blocked one costs O(m / 1024 + 64) masked work whatever the window. Flat
// pays up to m = 64 while windows are mostly empty, and at any m ≤ 8. Measured
// (C++ harness, drawing, medians of 5; flat / blocked steps/s): η = 4e-3:
// m = 16 1.9×, 32 1.5×, 40 1.43×, 56 1.22×, 64 1.18×; m²·η ≈ 30: m = 32 (η =
// 0.03) 1.09×, 40 (0.02) 1.11×, 64 (0.0075) 1.01×; m²·η ≈ 50: m = 12 (η = 0.3)
// 0.86×, 16 (0.2) 0.91×, 32 (0.05) 0.81×, 48 (0.02) 0.97×; m = 8, η = 1 (the
// whole network in every window): 1.30×. bench/RESULTS.md, "Prefix-sum store
// by m and η".
constexpr Eigen::Index kFlatMaxM = 64;
constexpr double kFlatMaxWindowWork = 32.0;  // m²·η
constexpr Eigen::Index kFlatAlwaysM = 8;

bool use_flat_store(const Network& net) {
    const double m = static_cast<double>(net.m());
    return net.m() <= kFlatAlwaysM ||
           (net.m() <= kFlatMaxM && m * m * net.eta <= kFlatMaxWindowWork);
}

// The mini-batch step runs split over threads (step_batch_parts) from this
// much work per step: B · (m·η + 64) for the windowed kernel (B windows of
// ~m·η neurons, plus each sample's prefix sum), B · m for relu's. A split
// step costs three synchronisations of the threads, and the windowed kernel's
// serial residual sums and superblock walk stay on one thread, so its split
// pays only from a larger step than relu's (whose update is all neuron work).
// Measured speedups around both thresholds: bench/RESULTS.md, "Threads inside
// one SGD run".
constexpr double kPartWorkWindowed = 1e5;
constexpr double kPartWorkRelu = 2e4;
// Samples per part of the forward passes: their window terms are kept per
// part, so that each part's list is written by one thread.
constexpr int kSampleChunk = 16;
// Neurons per part of relu's mini-batch update.
constexpr int kNeuronBlock = 256;

// Kernel for cubic and ramp, O(window + cost of the prefix sums) per step
// instead of O(m).
//
// σ_η(x − u) is 1 for u ≤ x − η/2 and 0 for u ≥ x + η/2. With the neurons kept
// sorted by u, the saturated ones form a prefix: f(x) is a_0 plus a prefix sum
// of a plus the few window terms, and the update of a on the saturated prefix
// is one prefix add (σ′ = 0 there, so their u do not move). `Store` keeps a in
// sorted order with those two operations (prefix_sums.hpp): FlatPrefixSums
// for small m and narrow windows, BlockedPrefixSums otherwise
// (use_flat_store). Plain sums, no cancellation, and the window terms from
// z·(1/η) (window_activation_inv), so the result stays within rounding of the
// straightforward loop of ttnn.reference.
//
// The window [lo, hi) is found from a bucket table over [0, 1) (first sorted
// position per bucket, rebuilt every kRefresh steps) and a short linear scan
// that corrects it: the result never depends on the table being fresh, and at
// small m this avoids the mispredicted branches of a binary search, which cost
// more than the arithmetic of a step (issue 2, bench/sgd.py).
template <Activation A, class Store>
class SortedKernel {
public:
    static constexpr int kRefresh = 4096;
    static constexpr int kScan = 8;
    static constexpr bool kBlocked = std::is_same_v<Store, BlockedPrefixSums>;
    // From this m·η (mean neurons per window) the blocked store's steps go
    // through step_blocked: at m = 10⁴ (m·η = 40) 272 vs 528 ns/step with the
    // rest of this work; at m = 1000 (m·η = 4) it was slower, 129 vs 106.
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
        // separate vectorised pass cost ~50 instructions and a mispredicted
        // exit per step at m = 1000), and restored only when broken:
        // restore_order's loops mispredict their exits.
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
    // (~40 neurons per window at m = 10⁴, m·η): their a read per block
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

    // One mini-batch step on samples (xs[b], ys[b]), b < B: the mean of the B
    // online updates, every one computed at the pre-step parameters. All B
    // forward passes come first (f_b = a_0 + prefix sum + window terms, as in
    // step); then the B prefix adds are applied together (add_prefixes), the
    // window terms one by one, and the order restored once over the union of
    // the windows: O(B · window + cost of the prefix sums) per step.
    bool step_batch(const double* xs, const double* ys, int B) {
        const double half = 0.5 * eta_, margin = 1e-9 * eta_;
        const double h_mean = h_ / B;
        terms_.clear();
        samples_.clear();
        double sum_hr = 0.0, abs_hr = 0.0;
        for (int b = 0; b < B; ++b) {
            const double x = xs[b];
            const int lo = count_at_most(x - half - margin);
            const int hi = window_end(lo, x + half + margin);
            double f = a0_ + a_.sum(lo);
            for (int k = lo; k < hi; ++k) {
                WindowTerm t;
                t.a = a_.get(k);
                window_activation_inv<A>(x - us_[k], inv_eta_, t.s, t.ds);
                f += t.a * t.s;
                terms_.push_back(t);
            }
            const double hr = h_mean * 2.0 * (f - ys[b]);
            if (!std::isfinite(hr)) return false;
            samples_.push_back(BatchSample{lo, hi, hr});
            sum_hr += hr;
            abs_hr += std::abs(hr);
        }
        a0_ -= sum_hr;
        prefix_adds_.clear();
        for (const BatchSample& smp : samples_) prefix_adds_.emplace_back(smp.lo, -smp.hr);
        a_.add_prefixes(prefix_adds_);
        // As in step: the prefix adds may overflow neurons no window visits;
        // Σ_b |hr_b| bounds what they (and the window terms) add to any |a_k|.
        bound_ += abs_hr;
        if (!(bound_ <= std::numeric_limits<double>::max())) {
            if (!refresh_bound()) return false;
            bound_ += abs_hr;  // the window terms are not applied yet
        }
        std::size_t t = 0;
        for (const BatchSample& smp : samples_) {
            for (int k = smp.lo; k < smp.hi; ++k, ++t) {
                const WindowTerm& w = terms_[t];
                a_.add_deferred(k, -smp.hr * w.s);
                us_[k] += eps_ * smp.hr * w.a * w.ds;
            }
        }
        a_.settle();
        // The array is sorted when every adjacent pair that touches a moved
        // neuron is: check those, and only sort the moved ones back when not
        // (rare when ε h is small).
        double nonfinite = a0_ * 0.0;
        bool in_order = true;
        for (const BatchSample& smp : samples_) {
            for (int k = smp.lo; k < smp.hi; ++k) {
                nonfinite += us_[k] * 0.0 + a_.get(k) * 0.0;
                in_order = in_order && (k == 0 || us_[k - 1] <= us_[k]);
            }
            in_order = in_order && (smp.hi == smp.lo || us_[smp.hi - 1] <= us_[smp.hi]);
        }
        if (!in_order) {
            intervals_.clear();
            for (const BatchSample& smp : samples_) {
                if (smp.hi > smp.lo) intervals_.emplace_back(smp.lo, smp.hi);
            }
            restore_order_of(intervals_);
        }
        after_batch_step(B);
        return nonfinite == 0.0;
    }

    // The work of one mini-batch step of B samples (see kPartWork), and
    // whether it may be split over threads: only the blocked store can be,
    // whose superblocks are the parts of the update.
    // The bookkeeping every mini-batch step ends with, serial or split: the
    // bucket table and the overflow bound are refreshed every kRefresh samples.
    void after_batch_step(int B) {
        until_refresh_ -= B;
        if (until_refresh_ <= 0) {
            a_.resync();
            refresh_buckets();
            refresh_bound();
        }
    }

    static constexpr bool kCanPart = kBlocked;
    static constexpr double kPartWork = kPartWorkWindowed;
    double batch_work(int B) const { return B * (m_ * eta_ + 64.0); }

    // step_batch split over `threads` threads, with the same bits as
    // step_batch whatever their number. The forward passes are independent
    // (parts of kSampleChunk samples, each its own list of window terms);
    // the sums of hr over the batch stay serial, in sample order. The update
    // is split by superblock of sorted positions (1024 neurons): a superblock's
    // prefix adds, a_k and u_k, and its block and superblock totals are only
    // touched by the thread that owns it, which applies the samples' updates in
    // sample order, as step_batch does; the superblocks below each prefix add
    // take their share in one serial pass (add_prefixes_above). So every
    // number is computed by the same operations in the same order as in
    // step_batch.
    bool step_batch_parts(const double* xs, const double* ys, int B, int threads) {
        if constexpr (!kBlocked) {
            (void)threads;
            return step_batch(xs, ys, B);
        } else {
            const double half = 0.5 * eta_, margin = 1e-9 * eta_;
            const double h_mean = h_ / B;
            const int nchunks = (B + kSampleChunk - 1) / kSampleChunk;
            if (static_cast<int>(chunk_terms_.size()) < nchunks) chunk_terms_.resize(nchunks);
            parts_.resize(B);
            const int nparts = a_.superblocks();
            part_bad_.assign(nparts, 0);
            part_unordered_.assign(nparts, 0);
            bool ok = true, prefixes_done = false;
#pragma omp parallel num_threads(threads)
            {
#pragma omp for schedule(static)
                for (int c = 0; c < nchunks; ++c) {
                    std::vector<WindowTerm>& terms = chunk_terms_[c].terms;
                    terms.clear();
                    const int end = std::min(B, (c + 1) * kSampleChunk);
                    for (int b = c * kSampleChunk; b < end; ++b) {
                        const double x = xs[b];
                        const int lo = count_at_most(x - half - margin);
                        const int hi = window_end(lo, x + half + margin);
                        double f = a0_ + a_.sum(lo);
                        parts_[b].offset = static_cast<int>(terms.size());
                        for (int k = lo; k < hi; ++k) {
                            WindowTerm t;
                            t.a = a_.get(k);
                            window_activation_inv<A>(x - us_[k], inv_eta_, t.s, t.ds);
                            f += t.a * t.s;
                            terms.push_back(t);
                        }
                        parts_[b].lo = lo;
                        parts_[b].hi = hi;
                        parts_[b].hr = h_mean * 2.0 * (f - ys[b]);
                    }
                }
#pragma omp single
                {
                    double sum_hr = 0.0, abs_hr = 0.0;
                    for (int b = 0; b < B && ok; ++b) {
                        ok = std::isfinite(parts_[b].hr);
                        sum_hr += parts_[b].hr;
                        abs_hr += std::abs(parts_[b].hr);
                    }
                    if (ok) {
                        a0_ -= sum_hr;
                        prefix_adds_.clear();
                        for (int b = 0; b < B; ++b) prefix_adds_.emplace_back(parts_[b].lo, -parts_[b].hr);
                        a_.add_prefixes_above(prefix_adds_);
                        bound_ += abs_hr;
                        if (!(bound_ <= std::numeric_limits<double>::max())) {
                            // As in step_batch: the bound is refreshed after the
                            // prefix adds (rare: serially here).
                            for (const auto& [n, v] : prefix_adds_) a_.add_within_superblock(n, v);
                            prefixes_done = true;
                            ok = refresh_bound();
                            bound_ += abs_hr;
                        }
                    }
                }
                if (ok) {
#pragma omp for schedule(static)
                    for (int q = 0; q < nparts; ++q) update_part(q, B, prefixes_done);
                }
            }
            if (!ok) return false;
            bool bad = !std::isfinite(a0_), unordered = false;
            for (int q = 0; q < nparts; ++q) {
                bad = bad || part_bad_[q];
                unordered = unordered || part_unordered_[q];
                // The pairs across parts, which update_part leaves: checking one
                // whose neurons did not move is harmless (it was in order).
                if (q > 0) {
                    const int p0 = part_range(q).first;
                    unordered = unordered || !(us_[p0 - 1] <= us_[p0]);
                }
            }
            if (unordered) {
                intervals_.clear();
                for (int b = 0; b < B; ++b) {
                    if (parts_[b].hi > parts_[b].lo) intervals_.emplace_back(parts_[b].lo, parts_[b].hi);
                }
                restore_order_of(intervals_);
            }
            after_batch_step(B);
            return !bad;
        }
    }

    void resync() { a_.resync(); }

    void write(double* a, double* u) const {
        a[0] = a0_;
        for (int k = 0; k < m_; ++k) {
            a[perm_[k] + 1] = a_.get(k);
            u[perm_[k]] = us_[k];
        }
    }

private:
    struct WindowTerm {
        double a, s, ds;
    };
    struct BatchSample {
        int lo, hi;  // its window of sorted positions
        double hr;   // (h / B) r_b
    };
    struct PartSample {
        int lo, hi;  // its window of sorted positions
        int offset;  // of its window terms in its chunk's list
        double hr;   // (h / B) r_b
    };

    // Sorted positions [q·1024, (q + 1)·1024) ∩ [0, m): superblock q of the store.
    std::pair<int, int> part_range(int q) const {
        constexpr int shift = BlockedPrefixSums::kSuperShift;
        return {q << shift, std::min(m_, (q + 1) << shift)};
    }

    // step_batch_parts's update of superblock q: its share of the prefix adds
    // (unless done), then of every window's terms, samples in order.
    void update_part(int q, int B, bool prefixes_done) {
        if constexpr (kBlocked) {
            constexpr int shift = BlockedPrefixSums::kSuperShift;
            const auto [p0, p1] = part_range(q);
            double ssum = a_.super_total(q);  // written back below (set_into)
            if (!prefixes_done) {
                for (int b = 0; b < B; ++b) {
                    if ((parts_[b].lo >> shift) == q) {
                        a_.add_within_superblock_into(parts_[b].lo, -parts_[b].hr, ssum);
                    }
                }
            }
            for (int b = 0; b < B; ++b) {
                const PartSample& smp = parts_[b];
                const int lo = std::max(smp.lo, p0), hi = std::min(smp.hi, p1);
                const WindowTerm* w =
                    chunk_terms_[b / kSampleChunk].terms.data() + smp.offset - smp.lo;
                for (int k = lo; k < hi; ++k) {
                    a_.add_deferred_into(k, -smp.hr * w[k].s, ssum);
                    us_[k] += eps_ * smp.hr * w[k].a * w[k].ds;
                }
            }
            a_.super_total(q) = ssum;
            // step_batch's checks on the part's moved neurons, now final: finite,
            // and in order with their left neighbours and each window's last
            // with the next, for the pairs within the part (the caller checks
            // those across parts).
            double nonfinite = 0.0;
            bool in_order = true;
            for (int b = 0; b < B; ++b) {
                const PartSample& smp = parts_[b];
                const int lo = std::max(smp.lo, p0), hi = std::min(smp.hi, p1);
                for (int k = lo; k < hi; ++k) {
                    nonfinite += us_[k] * 0.0 + a_.get(k) * 0.0;
                    in_order = in_order && (k == p0 || us_[k - 1] <= us_[k]);
                }
                if (smp.hi > smp.lo && smp.hi - 1 >= p0 && smp.hi < p1) {
                    in_order = in_order && us_[smp.hi - 1] <= us_[smp.hi];
                }
            }
            part_bad_[q] = !(nonfinite == 0.0);
            part_unordered_[q] = !in_order;
        }
    }

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
    // (clamped to [0, n]) and its running sum give the table. The scan it
    // replaces (a data-dependent loop exit per neuron, a division per bucket)
    // cost 14% of the steps/s at m = 10⁴ and 5% at m = 1000 (bench/RESULTS.md).
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
    // whose exit mispredicts (~40 neurons at m = 10⁴: 487 vs 515 ns/step).
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
    std::vector<char> part_bad_, part_unordered_;
};

// Kernel for relu (no saturation, so no prefix structure): the direct O(m)
// loop of docs/maths/dynamics.md#online-sgd.
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

    // The mean of B online updates at the pre-step parameters: O(B · m).
    bool step_batch(const double* xs, const double* ys, int B) {
        hr_.resize(B);
        for (int b = 0; b < B; ++b) {
            double f = a_[0];
            for (int j = 0; j < m_; ++j) f += a_[j + 1] * sigma_eta<A>(xs[b] - u_[j], eta_);
            hr_[b] = h_ / B * 2.0 * (f - ys[b]);
            if (!std::isfinite(hr_[b])) return false;
        }
        da_.setZero(m_ + 1);
        du_.setZero(m_);
        for (int b = 0; b < B; ++b) {
            da_[0] += hr_[b];
            for (int j = 0; j < m_; ++j) {
                const double z = xs[b] - u_[j];
                da_[j + 1] += hr_[b] * sigma_eta<A>(z, eta_);
                du_[j] += hr_[b] * a_[j + 1] * dsigma_eta<A>(z, eta_);
            }
        }
        a_ -= da_;
        u_ += eps_ * du_;
        return a_.allFinite() && u_.allFinite();
    }

    static constexpr bool kCanPart = true;
    static constexpr double kPartWork = kPartWorkRelu;
    double batch_work(int B) const { return static_cast<double>(B) * m_; }

    // step_batch split over `threads` threads, with its bits: the B forward
    // passes are independent (each one's sum over j in step_batch's order),
    // and the update is split over blocks of kNeuronBlock neurons, each
    // accumulating the samples' terms in sample order, as step_batch does.
    bool step_batch_parts(const double* xs, const double* ys, int B, int threads) {
        hr_.resize(B);
        da_.setZero(m_ + 1);
        du_.setZero(m_);
        const int nblocks = (m_ + kNeuronBlock - 1) / kNeuronBlock;
#pragma omp parallel num_threads(threads)
        {
#pragma omp for schedule(static)
            for (int b = 0; b < B; ++b) {
                double f = a_[0];
                for (int j = 0; j < m_; ++j) f += a_[j + 1] * sigma_eta<A>(xs[b] - u_[j], eta_);
                hr_[b] = h_ / B * 2.0 * (f - ys[b]);
            }
#pragma omp for schedule(static)
            for (int q = 0; q < nblocks; ++q) {
                const int j0 = q * kNeuronBlock, j1 = std::min(m_, j0 + kNeuronBlock);
                for (int b = 0; b < B; ++b) {
                    for (int j = j0; j < j1; ++j) {
                        const double z = xs[b] - u_[j];
                        da_[j + 1] += hr_[b] * sigma_eta<A>(z, eta_);
                        du_[j] += hr_[b] * a_[j + 1] * dsigma_eta<A>(z, eta_);
                    }
                }
            }
        }
        for (int b = 0; b < B; ++b) {
            if (!std::isfinite(hr_[b])) return false;
            da_[0] += hr_[b];
        }
        a_ -= da_;
        u_ += eps_ * du_;
        return a_.allFinite() && u_.allFinite();
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
    Eigen::VectorXd hr_, da_, du_;  // scratch of step_batch
};

// Feeds a kernel B draws at a time (the driver's loop stays one draw per
// iteration): draw p of a step is buffered, and the B-th applies the step.
// With `threads` > 1 and a step's work above kPartWork, the kernel's
// step_batch_parts splits each step over the threads (same bits as step_batch).
template <class Kernel>
class MiniBatch {
public:
    MiniBatch(Kernel& kernel, int batch, int threads)
        : kernel_(kernel), batch_(batch), threads_(parted(kernel, batch, threads) ? threads : 1),
          x_(batch), y_(batch) {}

    static bool parted(const Kernel& kernel, int batch, int threads) {
        return Kernel::kCanPart && threads > 1 && kernel.batch_work(batch) >= Kernel::kPartWork;
    }

    bool step(double x, double y) {
        x_[filled_] = x;
        y_[filled_] = y;
        if (++filled_ < batch_) return true;
        filled_ = 0;
        if (threads_ > 1) return kernel_.step_batch_parts(x_.data(), y_.data(), batch_, threads_);
        return kernel_.step_batch(x_.data(), y_.data(), batch_);
    }

    void resync() { kernel_.resync(); }
    void write(double* a, double* u) const { kernel_.write(a, u); }

private:
    Kernel& kernel_;
    int batch_, threads_;
    int filled_ = 0;
    std::vector<double> x_, y_;
};

// The step loop, cloned by GCC for AVX2 (chosen at load time where the CPU has it):
// the kernels' fixed-length loops then run four doubles wide, ~17% faster at
// m = 20. Only vertical adds, multiplies and compares vectorise there (no
// reductions, and FMA is not enabled), so both clones round alike.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define TTNN_STEP_CLONES __attribute__((target_clones("avx2", "default"), flatten))
#else
#define TTNN_STEP_CLONES
#endif

// One sample of a sampled run: x ~ U[0, 1), then its label noise.
inline void draw_sample(Rng& rng, const Target& target, const Noise& noise, double& x,
                        double& y) {
    x = rng.uniform();
    y = target(x) + noise.draw(rng);
}

struct StepRange {
    std::int64_t from, to;
};

// Runs steps [from, to); returns 0, or the 1-based step whose update diverged.
// Nothing may be thrown from here (a cloned, flattened loop): the caller polls.
template <class Kernel>
TTNN_STEP_CLONES std::int64_t advance(Kernel& kernel, StepRange r, Rng& rng_io,
                                      const Target* target, const Noise& noise,
                                      SgdData data) {
    Rng rng = rng_io;  // a local copy keeps the generator's state in registers
    std::int64_t bad = 0;
    for (std::int64_t p = r.from; p < r.to; ++p) {
        double x, y;
        if (data.x != nullptr) {
            const std::int64_t i = data.index(p);
            x = data.x[i];
            y = data.y[i];
        } else {
            draw_sample(rng, *target, noise, x, y);
        }
        if (!kernel.step(x, y)) {
            bad = p + 1;
            break;
        }
        if (((p + 1) & (kResyncEvery - 1)) == 0) kernel.resync();
    }
    rng_io = rng;
    return bad;
}

// advance for a run sampling a piecewise-constant f* with noise of kind K:
// no test per draw on the source, the target's kind or the noise's kind.
template <class Kernel, Noise::Kind K>
TTNN_STEP_CLONES std::int64_t advance_sampled(Kernel& kernel, StepRange r, Rng& rng_io,
                                              const PiecewiseConstant& target, double scale) {
    Rng rng = rng_io;  // as in advance
    std::int64_t bad = 0;
    for (std::int64_t p = r.from; p < r.to; ++p) {
        const double x = rng.uniform();
        const double y = target(x) + Noise::draw_as<K>(rng, scale);
        if (!kernel.step(x, y)) {
            bad = p + 1;
            break;
        }
        if (((p + 1) & (kResyncEvery - 1)) == 0) kernel.resync();
    }
    rng_io = rng;
    return bad;
}

// Steps [from, to) of a run, through advance_sampled when it applies.
template <class Kernel>
std::int64_t advance_any(Kernel& kernel, StepRange r, Rng& rng, const Target* target,
                         const Noise& noise, SgdData data) {
    const PiecewiseConstant* pc = target != nullptr ? target->piecewise_constant() : nullptr;
    if (data.x != nullptr || pc == nullptr) return advance(kernel, r, rng, target, noise, data);
    switch (noise.kind) {
        case Noise::Kind::uniform:
            return advance_sampled<Kernel, Noise::Kind::uniform>(kernel, r, rng, *pc, noise.scale);
        case Noise::Kind::gaussian:
            return advance_sampled<Kernel, Noise::Kind::gaussian>(kernel, r, rng, *pc, noise.scale);
        default:
            return advance_sampled<Kernel, Noise::Kind::none>(kernel, r, rng, *pc, noise.scale);
    }
}

template <class Kernel>
SgdResult run_with(Kernel& kernel, const Network& net, const Target* target,
                   const SgdOptions& opt, SgdData data, const Poll& poll) {
    const auto schedule = snapshot_steps(opt.steps, opt.snapshots);
    const Eigen::Index K = opt.snapshots, m = net.m();
    SgdResult res{schedule, RowMatrix(K, m + 1), RowMatrix(K, m), Eigen::VectorXd()};

    Rng rng(opt.seed, opt.stream);
    // Steps are counted in draws (B per step, see MiniBatch); snapshots fall
    // on step boundaries.
    const std::int64_t B = opt.batch;
    const std::int64_t chunk = std::max<std::int64_t>(1, kPollWork / ((m + 1) * B));
    std::int64_t p = 0;
    for (Eigen::Index k = 0; k < K; ++k) {
        while (p < schedule[k]) {
            const std::int64_t to = schedule[k] - p > chunk ? p + chunk : schedule[k];
            const std::int64_t bad_draw =
                advance_any(kernel, StepRange{p * B, to * B}, rng, target, opt.noise, data);
            const std::int64_t bad = (bad_draw + B - 1) / B;
            if (bad != 0) {
                char h_text[32];  // %g: std::to_string(1e300) would print 300 digits
                std::snprintf(h_text, sizeof h_text, "%.6g", opt.h);
                throw DivergenceError(bad, "SGD diverged at step " + std::to_string(bad) +
                                               ": the parameters became non-finite (h = " +
                                               h_text + "); try a smaller h");
            }
            if (poll(to - p)) throw Interrupted{};
            p = to;
        }
        kernel.write(res.a.row(k).data(), res.u.row(k).data());
    }
    if (target != nullptr) {
        res.l2.resize(K);
        for (Eigen::Index k = 0; k < K; ++k) {
            const Network snap(res.a.row(k).transpose(), res.u.row(k).transpose(), net.eta, net.act);
            // The parameters are finite here; a loss that still overflows (|f|
            // beyond ~1e154) is reported as +inf, never as NaN.
            const double l2 = l2_error(snap, *target);
            res.l2[k] = std::isnan(l2) ? std::numeric_limits<double>::infinity() : l2;
            if (poll()) throw Interrupted{};
        }
    }
    return res;
}

}  // namespace

void sample_stream(const Target& target, const Noise& noise, std::uint64_t seed,
                   std::uint64_t stream, std::int64_t draws, double* x, double* y,
                   const Poll& poll) {
    Rng rng(seed, stream);
    // Blocks of 2¹⁶ draws (~1 ms) between polls: 2·10⁸ draws take seconds.
    constexpr std::int64_t block = std::int64_t{1} << 16;
    for (std::int64_t p0 = 0; p0 < draws; p0 += block) {
        if (poll(p0 == 0 ? 0 : block)) throw Interrupted{};
        const std::int64_t p1 = std::min(draws, p0 + block);
        for (std::int64_t p = p0; p < p1; ++p) draw_sample(rng, target, noise, x[p], y[p]);
    }
}

std::vector<std::int64_t> snapshot_steps(std::int64_t steps, std::int64_t snapshots) {
    if (steps < 0) throw std::invalid_argument("steps must be >= 0");
    // snapshots − 1 > steps rather than snapshots > steps + 1: no overflow at 2⁶³ − 1.
    if (snapshots < 2 || snapshots - 1 > steps) {
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

SgdResult sgd_run(const Network& net, const Target* target, const SgdOptions& opt,
                  SgdData data, const Poll& poll) {
    if (!(opt.h > 0.0) || !std::isfinite(opt.h)) throw std::invalid_argument("h must be > 0");
    if (!(opt.eps >= 0.0) || !std::isfinite(opt.eps)) throw std::invalid_argument("eps must be >= 0");
    if (data.x == nullptr && target == nullptr) {
        throw std::invalid_argument("sgd needs a target or replayed data");
    }
    if (opt.batch < 1 || opt.batch > std::numeric_limits<int>::max()) {
        throw std::invalid_argument("batch must be >= 1");
    }
    // B = 1 runs the kernel's own step: bit for bit the online SGD.
    const int threads = inner_threads(opt.threads);
    const auto run = [&](auto& kernel) {
        if (opt.batch == 1) return run_with(kernel, net, target, opt, data, poll);
        MiniBatch<std::decay_t<decltype(kernel)>> batched(kernel, static_cast<int>(opt.batch),
                                                          threads);
        return run_with(batched, net, target, opt, data, poll);
    };
    return dispatch_activation(net.act, [&](auto A) {
        if constexpr (is_windowed(A.value)) {
            if (use_flat_store(net)) {
                SortedKernel<A.value, FlatPrefixSums> kernel(net, opt.h, opt.eps);
                return run(kernel);
            }
            SortedKernel<A.value, BlockedPrefixSums> kernel(net, opt.h, opt.eps);
            return run(kernel);
        } else {
            DenseKernel<A.value> kernel(net, opt.h, opt.eps);
            return run(kernel);
        }
    });
}

std::string sgd_kernel(const Network& net, std::int64_t batch, int threads) {
    if (batch < 1 || batch > std::numeric_limits<int>::max()) {
        throw std::invalid_argument("batch must be >= 1");
    }
    const int B = static_cast<int>(batch), n = inner_threads(threads);
    const auto describe = [&](const auto& kernel, std::string name) {
        using Kernel = std::decay_t<decltype(kernel)>;
        if (B > 1 && MiniBatch<Kernel>::parted(kernel, B, n)) name += "+parts";
        return name;
    };
    return dispatch_activation(net.act, [&](auto A) -> std::string {
        if constexpr (is_windowed(A.value)) {
            if (use_flat_store(net)) {
                return describe(SortedKernel<A.value, FlatPrefixSums>(net, 1.0, 1.0), "flat");
            }
            SortedKernel<A.value, BlockedPrefixSums> kernel(net, 1.0, 1.0);
            const bool wide = B == 1 && static_cast<double>(net.m()) * net.eta >=
                                            SortedKernel<A.value, BlockedPrefixSums>::kWideWindow;
            return describe(kernel, wide ? "blocked-wide" : "blocked");
        } else {
            return describe(DenseKernel<A.value>(net, 1.0, 1.0), "dense");
        }
    });
}

std::vector<SgdResult> sgd_ensemble(const std::vector<Network>& nets, const Target* target,
                                    const std::vector<SgdOptions>& opts,
                                    const std::vector<SgdData>& data, int threads,
                                    const Poll& poll, std::vector<std::exception_ptr>* errors) {
    if (nets.size() != opts.size()) throw std::invalid_argument("one option set per network");
    if (!data.empty() && data.size() != nets.size()) {
        throw std::invalid_argument("data must be empty or hold one entry per network");
    }
    return parallel_runs<SgdResult>(
        static_cast<std::int64_t>(nets.size()), threads, poll,
        [&](std::int64_t i, const Poll& run_poll) {
            return sgd_run(nets[i], target, opts[i], data.empty() ? SgdData{} : data[i], run_poll);
        },
        errors);
}

}  // namespace ttnn
