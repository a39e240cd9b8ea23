// Mini-batch SGD (sgd.hpp): the kernels' mini-batch steps, serial and split
// over threads, and the adapter that feeds a kernel B draws at a time.
// Internal to sgd.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "ttnn/sgd_dense.hpp"
#include "ttnn/sgd_sorted.hpp"

namespace ttnn::sgd_detail {

// The mini-batch step runs split over threads (step_batch_parts) from this
// much work per step (each kernel's batch_work): B · (m·η + 64) for the
// windowed kernel, B · m for relu's. A split step costs three synchronisations
// of the threads, which a smaller step does not repay. The windowed kernel's
// update is split by superblock of 1024 neurons, so it is split only from
// kMinSplitM neurons (two whole superblocks): below, only its forward passes
// would run in parallel. Measured speedups around both thresholds:
// bench/RESULTS.md, "Threads inside one SGD run".
constexpr double kPartWorkWindowed = 2e4;
constexpr double kPartWorkRelu = 2e4;
constexpr int kMinSplitM = 2 * BlockedPrefixSums::kSuper;
// Samples per part of the forward passes: their window terms are kept per
// part, so that each part's list is written by one thread.
constexpr int kSampleChunk = 16;
// Neurons per part of relu's mini-batch update.
constexpr int kNeuronBlock = 256;

// Whether a mini-batch step of B samples is split when threads are given:
// only the blocked store's can be (its superblocks are the parts of the
// update), and only above the kernel's threshold.
template <Activation A, class Store>
bool splits(const SortedKernel<A, Store>& kernel, int B) {
    return SortedKernel<A, Store>::kBlocked && kernel.m() >= kMinSplitM &&
           kernel.batch_work(B) >= kPartWorkWindowed;
}
template <Activation A>
bool splits(const DenseKernel<A>& kernel, int B) {
    return kernel.batch_work(B) >= kPartWorkRelu;
}

template <Activation A, class Store>
inline double SortedKernel<A, Store>::forward_window(double x, double half, double margin,
                                                      int& lo, int& hi,
                                                      std::vector<WindowTerm>& terms) const {
    lo = count_at_most(x - half - margin);
    hi = window_end(lo, x + half + margin);
    double f = a0_ + a_.sum(lo);
    for (int k = lo; k < hi; ++k) {
        WindowTerm t;
        t.a = a_.get(k);
        window_activation_inv<A>(x - us_[k], inv_eta_, t.s, t.ds);
        f += t.a * t.s;
        terms.push_back(t);
    }
    return f;
}

// One mini-batch step on samples (xs[b], ys[b]), b < B: the mean of the B
// online updates, every one computed at the pre-step parameters. All B
// forward passes come first (f_b = a_0 + prefix sum + window terms, as in
// step); then the B prefix adds are applied together (add_prefixes), the
// window terms one by one, and the order restored once over the union of
// the windows: O(B · window + cost of the prefix sums) per step.
template <Activation A, class Store>
bool SortedKernel<A, Store>::step_batch(const double* xs, const double* ys, int B) {
    const double half = 0.5 * eta_, margin = 1e-9 * eta_;
    const double h_mean = h_ / B;
    terms_.clear();
    samples_.clear();
    double sum_hr = 0.0, abs_hr = 0.0;
    for (int b = 0; b < B; ++b) {
        int lo, hi;
        const double f = forward_window(xs[b], half, margin, lo, hi, terms_);
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

// The bookkeeping every mini-batch step ends with, serial or split: the
// bucket table and the overflow bound are refreshed every kRefresh samples.
template <Activation A, class Store>
void SortedKernel<A, Store>::after_batch_step(int B) {
    until_refresh_ -= B;
    if (until_refresh_ <= 0) {
        a_.resync();
        refresh_buckets();
        refresh_bound();
    }
}

// step_batch split over `threads` threads, with the same bits as
// step_batch whatever their number. The forward passes are independent
// (parts of kSampleChunk samples, each its own list of window terms);
// the sums of hr over the batch stay serial, in sample order, and so does the
// walk that gives each superblock its share of the prefix adds above it
// (add_prefixes_above: O(B + m / 1024)), with the list of the samples each
// superblock's update needs. The update is split by superblock of sorted
// positions (1024 neurons): a superblock's prefix adds, a_k and u_k, and its
// block and superblock totals are only touched by the thread that owns it,
// which applies the samples' updates in sample order, as step_batch does. So
// every number is computed by the same operations in the same order as in
// step_batch. The periodic refresh (after_batch_step) is split by superblock
// too when the order needs no repair (refresh_part).
template <Activation A, class Store>
bool SortedKernel<A, Store>::step_batch_parts(const double* xs, const double* ys, int B,
                                              int threads) {
    if constexpr (!kBlocked) {
        (void)threads;
        return step_batch(xs, ys, B);
    } else {
        constexpr int shift = BlockedPrefixSums::kSuperShift;
        const int nchunks = (B + kSampleChunk - 1) / kSampleChunk;
        if (static_cast<int>(chunk_terms_.size()) < nchunks) chunk_terms_.resize(nchunks);
        parts_.resize(B);
        const int nparts = a_.superblocks();
        part_state_.resize(nparts);
        bool ok = true, prefixes_done = false;
#pragma omp parallel num_threads(threads)
        {
#pragma omp for schedule(static)
            for (int c = 0; c < nchunks; ++c) forward_chunk(c, xs, ys, B);
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
                    // Sample b concerns superblocks lo / 1024 (its prefix add)
                    // through (hi − 1) / 1024 (its window): each superblock's
                    // samples, in sample order, as one flat list (counts, then
                    // offsets, then the entries).
                    part_first_.assign(nparts + 1, 0);
                    for (int b = 0; b < B; ++b) {
                        const int q0 = parts_[b].lo >> shift;
                        const int q1 = std::max(q0, (parts_[b].hi - 1) >> shift);
                        for (int q = q0; q <= q1; ++q) ++part_first_[q + 1];
                    }
                    for (int q = 0; q < nparts; ++q) part_first_[q + 1] += part_first_[q];
                    part_samples_.resize(part_first_[nparts]);
                    for (int q = 0; q < nparts; ++q) part_state_[q].fill = part_first_[q];
                    for (int b = 0; b < B; ++b) {
                        const int q0 = parts_[b].lo >> shift;
                        const int q1 = std::max(q0, (parts_[b].hi - 1) >> shift);
                        for (int q = q0; q <= q1; ++q) part_samples_[part_state_[q].fill++] = b;
                    }
                }
            }
            if (ok) {
#pragma omp for schedule(static)
                for (int q = 0; q < nparts; ++q) update_part(q, prefixes_done);
            }
        }
        if (!ok) return false;
        bool bad = !std::isfinite(a0_), unordered = false;
        for (int q = 0; q < nparts; ++q) {
            bad = bad || part_state_[q].bad;
            unordered = unordered || part_state_[q].unordered;
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
            after_batch_step(B);
        } else if (until_refresh_ - B <= 0) {
            // after_batch_step's refresh, by superblock: the same values (the
            // folds and totals are per superblock, a maximum is exact in any
            // order, and the bucket table only seeds the window search).
#pragma omp parallel for schedule(static) num_threads(threads)
            for (int q = 0; q < nparts; ++q) refresh_part(q, nparts);
            double mx = 0.0;
            for (int q = 0; q < nparts; ++q) mx = std::max(mx, part_state_[q].max_a);
            bound_ = mx;
            until_refresh_ = kRefresh;
        } else {
            until_refresh_ -= B;
        }
        return !bad;
    }
}

// step_batch_parts's forward passes of chunk c: samples [16c, 16c + 16) ∩
// [0, B), their window terms in the chunk's own list.
template <Activation A, class Store>
void SortedKernel<A, Store>::forward_chunk(int c, const double* xs, const double* ys, int B) {
    const double half = 0.5 * eta_, margin = 1e-9 * eta_;
    const double h_mean = h_ / B;
    std::vector<WindowTerm>& terms = chunk_terms_[c].terms;
    terms.clear();
    const int end = std::min(B, (c + 1) * kSampleChunk);
    for (int b = c * kSampleChunk; b < end; ++b) {
        parts_[b].offset = static_cast<int>(terms.size());
        int lo, hi;
        const double f = forward_window(xs[b], half, margin, lo, hi, terms);
        parts_[b].lo = lo;
        parts_[b].hi = hi;
        parts_[b].hr = h_mean * 2.0 * (f - ys[b]);
    }
}

// Sorted positions [q·1024, (q + 1)·1024) ∩ [0, m): superblock q of the store.
template <Activation A, class Store>
std::pair<int, int> SortedKernel<A, Store>::part_range(int q) const {
    constexpr int shift = BlockedPrefixSums::kSuperShift;
    return {q << shift, std::min(m_, (q + 1) << shift)};
}

// step_batch_parts's update of superblock q: its share of the prefix adds
// (unless done), then of every window's terms, over the samples that concern
// it (part_samples_), in sample order.
template <Activation A, class Store>
void SortedKernel<A, Store>::update_part(int q, bool prefixes_done) {
    if constexpr (kBlocked) {
        constexpr int shift = BlockedPrefixSums::kSuperShift;
        const auto [p0, p1] = part_range(q);
        const int* first = part_samples_.data() + part_first_[q];
        const int* last = part_samples_.data() + part_first_[q + 1];
        double ssum = a_.super_total(q);  // written back below (set_into)
        if (!prefixes_done) {
            for (const int* it = first; it != last; ++it) {
                const PartSample& smp = parts_[*it];
                if ((smp.lo >> shift) == q) a_.add_within_superblock_into(smp.lo, -smp.hr, ssum);
            }
        }
        for (const int* it = first; it != last; ++it) {
            const PartSample& smp = parts_[*it];
            const int lo = std::max(smp.lo, p0), hi = std::min(smp.hi, p1);
            const WindowTerm* w =
                chunk_terms_[*it / kSampleChunk].terms.data() + smp.offset - smp.lo;
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
        for (const int* it = first; it != last; ++it) {
            const PartSample& smp = parts_[*it];
            const int lo = std::max(smp.lo, p0), hi = std::min(smp.hi, p1);
            for (int k = lo; k < hi; ++k) {
                nonfinite += us_[k] * 0.0 + a_.get(k) * 0.0;
                in_order = in_order && (k == p0 || us_[k - 1] <= us_[k]);
            }
            if (smp.hi > smp.lo && smp.hi - 1 >= p0 && smp.hi < p1) {
                in_order = in_order && us_[smp.hi - 1] <= us_[smp.hi];
            }
        }
        part_state_[q].bad = !(nonfinite == 0.0);
        part_state_[q].unordered = !in_order;
    }
}

// after_batch_step's refresh of superblock q (of nparts): the store's resync
// of it, the largest |a_k| in it (part_state_[q].max_a; the caller takes the
// maximum over parts), and the slice q of the bucket table, from the sorted u
// (bucket_[b] = the number of u < b / nbuckets, as refresh_buckets counts it).
template <Activation A, class Store>
void SortedKernel<A, Store>::refresh_part(int q, int nparts) {
    if constexpr (kBlocked) {
        a_.resync_superblock(q);
        const auto [p0, p1] = part_range(q);
        double mx = 0.0;
        for (int k = p0; k < p1; ++k) mx = std::max(mx, std::abs(a_.get(k)));
        part_state_[q].max_a = mx;
        const double n = nbuckets_;
        const int b0 = static_cast<int>(static_cast<std::int64_t>(q) * nbuckets_ / nparts);
        const int b1 = static_cast<int>(static_cast<std::int64_t>(q + 1) * nbuckets_ / nparts);
        // refresh_buckets's histogram and running sum, over the slice: the
        // neurons counted before it (u·n < b0, i.e. t_k = ⌊u_k·n⌋ + 1 ≤ b0)
        // and those whose t_k falls inside it are both found by bisection,
        // the u being sorted.
        const auto below = [&](double v) {
            return static_cast<int>(
                std::partition_point(us_.begin(), us_.begin() + m_,
                                     [&](double u) { return u * n < v; }) -
                us_.begin());
        };
        const int first = below(b0), last = below(b1 - 1.0);
        std::fill(bucket_.begin() + b0, bucket_.begin() + b1, 0);
        const double tlo = b0, thi = b1 - 1.0;
        for (int k = first; k < last; ++k) {
            double t = std::floor(us_[k] * n) + 1.0;
            t = t > tlo ? t : tlo;  // within the slice whatever u (NaN: b0)
            t = t < thi ? t : thi;
            ++bucket_[static_cast<int>(t)];
        }
        int count = first;
        for (int b = b0; b < b1; ++b) {
            count += bucket_[b];
            bucket_[b] = count;
        }
    }
}

// The mean of B online updates at the pre-step parameters: O(B · m).
template <Activation A>
bool DenseKernel<A>::step_batch(const double* xs, const double* ys, int B) {
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

// step_batch split over `threads` threads, with its bits: the B forward
// passes are independent (each one's sum over j in step_batch's order),
// and the update is split over blocks of kNeuronBlock neurons, each
// accumulating the samples' terms in sample order, as step_batch does, then
// applying them to its neurons (the same element-wise operations as
// step_batch's a −= da, u += ε du), so that only a_0's sum stays serial.
// When some residual is not finite the step fails, as step_batch's does.
template <Activation A>
bool DenseKernel<A>::step_batch_parts(const double* xs, const double* ys, int B,
                                      int threads) {
    hr_.resize(B);
    da_.resize(m_ + 1);
    du_.resize(m_);
    const int nblocks = (m_ + kNeuronBlock - 1) / kNeuronBlock;
    block_bad_.assign(nblocks, BlockFlag{});
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
            for (int j = j0; j < j1; ++j) da_[j + 1] = du_[j] = 0.0;
            for (int b = 0; b < B; ++b) {
                for (int j = j0; j < j1; ++j) {
                    const double z = xs[b] - u_[j];
                    da_[j + 1] += hr_[b] * sigma_eta<A>(z, eta_);
                    du_[j] += hr_[b] * a_[j + 1] * dsigma_eta<A>(z, eta_);
                }
            }
            bool finite = true;
            for (int j = j0; j < j1; ++j) {
                a_[j + 1] -= da_[j + 1];
                u_[j] += eps_ * du_[j];
                finite = finite && std::isfinite(a_[j + 1]) && std::isfinite(u_[j]);
            }
            block_bad_[q].bad = !finite;
        }
    }
    da_[0] = 0.0;
    for (int b = 0; b < B; ++b) {
        if (!std::isfinite(hr_[b])) return false;
        da_[0] += hr_[b];
    }
    a_[0] -= da_[0];
    bool bad = !std::isfinite(a_[0]);
    for (const BlockFlag& flag : block_bad_) bad = bad || flag.bad;
    return !bad;
}

// Feeds a kernel B draws at a time (the driver's loop stays one draw per
// iteration): draw p of a step is buffered, and the B-th applies the step.
// With `threads` > 1 and a step's work above the threshold (splits), the kernel's
// step_batch_parts splits each step over the threads (same bits as step_batch).
template <class Kernel>
class MiniBatch {
public:
    MiniBatch(Kernel& kernel, int batch, int threads)
        : kernel_(kernel), batch_(batch), threads_(parted(kernel, batch, threads) ? threads : 1),
          x_(batch), y_(batch) {}

    static bool parted(const Kernel& kernel, int batch, int threads) {
        return threads > 1 && splits(kernel, batch);
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

}  // namespace ttnn::sgd_detail
