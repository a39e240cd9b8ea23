// Arrays a_0..a_{m−1} with the two operations the SGD kernel for windowed
// activations needs at every step (sgd_sorted.hpp, SortedKernel): the prefix sum
// Σ_{k<n} a_k (the saturated neurons' share of f(x)) and the prefix add
// a_k += v for k < n (their share of the update a_j ← a_j − h r_p σ_η).
// Both stores keep plain sums, never differences of large sums, so a prefix
// sum stays within rounding of summing the a_k directly; resync() recomputes
// the incrementally updated sums so that this error cannot grow over a run.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace ttnn {

// `keep ? v : 0.0` through a bit mask: the conditional may otherwise compile
// to a branch, which mispredicts when `keep` depends on the data.
inline double keep_if(bool keep, double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    bits &= -static_cast<std::uint64_t>(keep);
    std::memcpy(&v, &bits, sizeof bits);
    return v;
}

// For small m: the a_k and their exclusive prefix sums P_n = Σ_{k<n} a_k.
// A prefix sum is one load; a prefix add and a change of one a_k update all
// m + 1 sums, with fixed trip counts and no data-dependent branch, loops the
// compiler vectorises. For small m and narrow windows (few changes of one a_k
// per step) that beats the blocked store's fixed masked runs; which store a
// run keeps is the store rule, sgd_sorted.hpp (use_flat_store).
class FlatPrefixSums {
public:
    explicit FlatPrefixSums(const std::vector<double>& a)
        : m_(static_cast<int>(a.size())), a_(a), p_(m_ + 1), index_(m_ + 1) {
        for (int k = 0; k <= m_; ++k) index_[k] = k;
        resync();
    }

    double get(int k) const { return a_[k]; }
    double sum(int n) const { return p_[n]; }

    // a_k = v; returns get(k) (here v).
    double set(int k, double v) {
        const double d = v - a_[k];
        a_[k] = v;
        for (int n = 0; n <= m_; ++n) p_[n] += keep_if(n > k, d);
        return v;
    }

    // a_k += v for k < n, hence P_j += v · min(j, n).
    void add_prefix(int n, double v) {
        const double nd = n;
        // Compared as doubles so that the vectorised mask is one comparison.
        for (int k = 0; k < m_; ++k) a_[k] += index_[k] < nd ? v : 0.0;
        for (int j = 0; j <= m_; ++j) p_[j] += v * std::min(index_[j], nd);
    }

    void swap_adjacent(int k) {
        std::swap(a_[k], a_[k + 1]);
        p_[k + 1] = p_[k] + a_[k];
    }

    // The mini-batch step's bulk updates (sgd_minibatch.hpp, SortedKernel::step_batch):
    // a_k += v, and a_k += Σ_{i : n_i > k} v_i for the pairs (n_i, v_i) of
    // `adds` (any order). Here they leave the prefix sums stale, so that a batch
    // costs one O(m) settle() instead of O(m) per update.
    void add_deferred(int k, double v) { a_[k] += v; }
    void add_prefixes(const std::vector<std::pair<int, double>>& adds) {
        diff_.resize(m_ + 1, 0.0);  // diff_[n] = Σ of the v_i with n_i = n; left zeroed
        int top = 0;
        for (const auto& [n, v] : adds) {
            diff_[n] += v;
            top = std::max(top, n);
        }
        double s = 0.0;
        for (int k = top; k-- > 0;) {
            s += diff_[k + 1];
            diff_[k + 1] = 0.0;
            a_[k] += s;
        }
        diff_[0] = 0.0;
    }
    void settle() { resync(); }

    void resync() {
        p_[0] = 0.0;
        for (int k = 0; k < m_; ++k) p_[k + 1] = p_[k] + a_[k];
    }

private:
    int m_;
    std::vector<double> a_, p_;
    std::vector<double> index_;  // 0, 1, …, m as doubles, for the vectorised min
    std::vector<double> diff_;   // scratch of add_prefixes
};

// Σ_{j<n} (x_j + width · lazy_j) over a run of len entries (len a multiple of
// kLanes; lazy may be null), every entry loaded and masked by index_j < n
// (index_j = j as a double, one vector compare): the trip count never depends
// on n, so no loop exit mispredicts, and the compiler vectorises the loop.
// kLanes interleaved partial sums combined pairwise in a fixed order: the
// order is explicit, so the AVX2 and the default clone round alike.
constexpr int kLanes = 8;
inline double masked_sum(const double* x, const double* lazy, double width,
                         const double* index, int len, double n) {
    double acc[kLanes] = {};
    if (lazy != nullptr) {
        for (int k = 0; k < len; k += kLanes) {
            for (int j = 0; j < kLanes; ++j) {
                acc[j] += keep_if(index[k + j] < n, x[k + j] + width * lazy[k + j]);
            }
        }
    } else {
        for (int k = 0; k < len; k += kLanes) {
            for (int j = 0; j < kLanes; ++j) acc[j] += keep_if(index[k + j] < n, x[k + j]);
        }
    }
    for (int w = kLanes / 2; w >= 1; w /= 2) {
        for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
    }
    return acc[0];
}

// x_j += v for j < n over a run of len entries, masked as in masked_sum.
inline void masked_add(double* x, const double* index, int len, double n, double v) {
    for (int j = 0; j < len; ++j) x[j] += keep_if(index[j] < n, v);
}

// For large m: two levels of lazy offsets. Entries in blocks of 32, blocks in
// superblocks of 32 (1024 entries):
//   a_k = val[k] + (lazy[k / 32] + lazy2[k / 1024]),
// with bsum[b] = Σ val over block b and ssum[s] = Σ_{b ∈ s} (bsum[b] + 32 lazy[b]).
// A prefix sum adds masked runs of fixed length (masked_sum): the superblock
// totals below n, the block totals below n within its superblock, the entries
// below n within its block; a prefix add likewise adds to lazy2, lazy and val
// over three masked runs. O(m / 1024 + 64) work with fixed trip counts, no
// data-dependent branch; changing one a_k is O(1).
//
// The arrays are padded (zeros) to whole superblocks, past m, so that the
// masked runs at n = m stay in bounds. resync() folds the lazy offsets into
// val and recomputes the totals, so that neither the offsets nor the rounding
// of the incremental totals grow over a run.
class BlockedPrefixSums {
public:
    static constexpr int kShift = 5, kBlock = 1 << kShift;
    static constexpr int kSuperShift = 2 * kShift, kSuper = 1 << kSuperShift;

    explicit BlockedPrefixSums(const std::vector<double>& a)
        : m_(static_cast<int>(a.size())),
          nsuper_((m_ >> kSuperShift) + 1),
          top_len_((nsuper_ + kLanes - 1) / kLanes * kLanes),
          mid_len_(nsuper_ > 1 ? kBlock : ((m_ >> kShift) + kLanes) / kLanes * kLanes),
          val_(static_cast<std::size_t>(nsuper_) * kSuper, 0.0),
          lazy_(static_cast<std::size_t>(nsuper_) * kBlock, 0.0),
          bsum_(lazy_.size(), 0.0),
          lazy2_(top_len_, 0.0),
          ssum_(top_len_, 0.0),
          index_(std::max(top_len_, kBlock)) {
        std::copy(a.begin(), a.end(), val_.begin());
        for (std::size_t j = 0; j < index_.size(); ++j) index_[j] = static_cast<double>(j);
        resync();
    }

    double get(int k) const { return val_[k] + offset(k); }

    // a_k = v, stored as v minus its offset; returns get(k) (v to rounding),
    // from the one offset.
    double set(int k, double v) { return set_into(k, v, ssum_[k >> kSuperShift]); }

    // set() and add_deferred() with k's superblock total in `ssum` (a copy of
    // super_total(k / kSuper) that the caller writes back): the mini-batch
    // step split over threads keeps each superblock's total in a local, so
    // that threads owning neighbouring superblocks do not write the same
    // cache line at every update. The same additions, in the same order.
    double set_into(int k, double v, double& ssum) {
        const double off = offset(k);
        const double nv = v - off;
        const double d = nv - val_[k];
        val_[k] = nv;
        bsum_[k >> kShift] += d;
        if (nsuper_ > 1) ssum += d;  // else never read
        return nv + off;
    }
    void add_deferred_into(int k, double v, double& ssum) { set_into(k, get(k) + v, ssum); }
    double& super_total(int s) { return ssum_[s]; }

    // a_k = v[k − lo] for lo ≤ k < hi: as set() for each, but the totals of
    // the blocks touched are then recomputed by direct sums (masked_sum over the
    // block), their superblocks' totals moved by the change: one vectorised
    // pass instead of a chain through memory, bsum[b] += d per entry, which
    // was a visible share of a wide-window step. Returns whether every a_k
    // read back (get) is finite.
    bool set_range(int lo, int hi, const double* v) {
        int bad = 0;  // an int: the loop vectorises
        for (int b = lo >> kShift, k = lo; k < hi; ++b) {
            const int end = std::min(hi, (b + 1) << kShift);
            const double off = lazy_[b] + lazy2_[b >> kShift];
            for (; k < end; ++k) {
                const double nv = v[k - lo] - off;
                val_[k] = nv;
                bad |= !(std::abs(nv + off) <= std::numeric_limits<double>::max());
            }
            const double total = masked_sum(val_.data() + (b << kShift), nullptr, 0.0,
                                            index_.data(), kBlock, kBlock);
            ssum_[b >> kShift] += total - bsum_[b];
            bsum_[b] = total;
        }
        return bad == 0;
    }

    // out[k − lo] = a_k for lo ≤ k < hi, one offset per block.
    void get_range(int lo, int hi, double* out) const {
        int k = lo;
        while (k < hi) {
            const int b = k >> kShift, end = std::min(hi, (b + 1) << kShift);
            const double off = lazy_[b] + lazy2_[b >> kShift];
            for (; k < end; ++k) out[k - lo] = val_[k] + off;
        }
    }

    double sum(int n) const {
        const int s = n >> kSuperShift, b = n >> kShift;
        const int b0 = s << kShift, base = b << kShift;
        // One superblock (m < 1024): no superblock below any n.
        const double top = nsuper_ == 1 ? 0.0
                                        : masked_sum(ssum_.data(), lazy2_.data(), kSuper,
                                                     index_.data(), top_len_, s);
        const double mid = masked_sum(bsum_.data() + b0, lazy_.data() + b0, kBlock,
                                      index_.data(), mid_len_, b - b0);
        const double low = masked_sum(val_.data() + base, nullptr, 0.0, index_.data(), kBlock,
                                      n - base);
        return top + ((mid + (n - (s << kSuperShift)) * lazy2_[s]) +
                      (low + (n - base) * lazy_[b]));
    }

    void add_prefix(int n, double v) {
        const int s = n >> kSuperShift;
        if (nsuper_ > 1) masked_add(lazy2_.data(), index_.data(), top_len_, s, v);
        add_within_superblock(n, v);
    }

    // As FlatPrefixSums's: here every update keeps the sums exact, and a set of
    // prefix adds costs O(m / 1024 + 64 · #adds): each add does the two lower
    // levels of add_prefix, and the superblocks below it take their total as a
    // lazy offset (one pass for all adds).
    void add_deferred(int k, double v) { set(k, get(k) + v); }
    void add_prefixes(const std::vector<std::pair<int, double>>& adds) {
        for (const auto& [n, v] : adds) add_within_superblock(n, v);
        add_prefixes_above(adds);
    }

    // add_prefixes in two halves that touch disjoint entries, for the
    // mini-batch step split over threads (sgd_minibatch.hpp, step_batch_parts): the
    // superblocks below each n (add_prefixes_above, one pass for all adds),
    // and the part of one add within n's superblock (add_within_superblock),
    // which only touches superblock n / kSuper: adds to different superblocks
    // may run on different threads, and applied in the same order per
    // superblock they give the same bits as add_prefixes.
    int superblocks() const { return nsuper_; }
    void add_prefixes_above(const std::vector<std::pair<int, double>>& adds) {
        super_diff_.resize(top_len_ + 1, 0.0);  // left zeroed
        int top = 0;
        for (const auto& [n, v] : adds) {
            const int s = n >> kSuperShift;
            super_diff_[s] += v;  // for every superblock below s
            top = std::max(top, s);
        }
        double sum = 0.0;
        for (int s = top; s-- > 0;) {
            sum += super_diff_[s + 1];
            super_diff_[s + 1] = 0.0;
            lazy2_[s] += sum;
        }
        super_diff_[0] = 0.0;
    }
    void settle() {}

    void swap_adjacent(int k) {
        if ((k >> kShift) == ((k + 1) >> kShift)) {
            std::swap(val_[k], val_[k + 1]);  // same lazy offsets: exact
        } else {
            const double ak = get(k), ak1 = get(k + 1);
            set(k, ak1);
            set(k + 1, ak);
        }
    }

    // Folds the offsets into val (a_k = get(k), rounded once) and recomputes
    // the totals by direct sums.
    void resync() {
        for (int k = 0; k < m_; ++k) val_[k] = get(k);
        std::fill(lazy_.begin(), lazy_.end(), 0.0);
        std::fill(lazy2_.begin(), lazy2_.end(), 0.0);
        for (std::size_t b = 0; b < bsum_.size(); ++b) {
            bsum_[b] = masked_sum(val_.data() + b * kBlock, nullptr, 0.0, index_.data(), kBlock,
                                  kBlock);
        }
        for (int s = 0; s < nsuper_; ++s) {
            ssum_[s] = masked_sum(bsum_.data() + (s << kShift), nullptr, 0.0, index_.data(),
                                  kBlock, kBlock);
        }
    }

    // resync() of superblock s alone, with the same values: no value in it
    // depends on another superblock, so superblocks may be resynced by
    // different threads. (resync() keeps its own whole-array loops: calling
    // this per superblock made the serial mini-batch step slower.)
    void resync_superblock(int s) {
        const int k0 = s << kSuperShift, k1 = std::min(m_, (s + 1) << kSuperShift);
        for (int k = k0; k < k1; ++k) val_[k] = get(k);
        const int b0 = s << kShift;
        std::fill(lazy_.begin() + b0, lazy_.begin() + b0 + kBlock, 0.0);
        lazy2_[s] = 0.0;
        for (int b = b0; b < b0 + kBlock; ++b) {
            bsum_[b] = masked_sum(val_.data() + static_cast<std::size_t>(b) * kBlock, nullptr,
                                  0.0, index_.data(), kBlock, kBlock);
        }
        ssum_[s] = masked_sum(bsum_.data() + b0, nullptr, 0.0, index_.data(), kBlock, kBlock);
    }

    // The two lower levels of a prefix add: the blocks below n within its
    // superblock take v as a lazy offset, the entries below n within its
    // block take it directly, and the two totals that contain n move by the
    // number of entries changed times v.
    void add_within_superblock(int n, double v) {
        add_within_superblock_into(n, v, ssum_[n >> kSuperShift]);
    }
    // As set_into: with n's superblock total in `ssum`.
    void add_within_superblock_into(int n, double v, double& ssum) {
        const int s = n >> kSuperShift, b = n >> kShift;
        const int b0 = s << kShift, base = b << kShift;
        masked_add(lazy_.data() + b0, index_.data(), mid_len_, b - b0, v);
        masked_add(val_.data() + base, index_.data(), kBlock, n - base, v);
        bsum_[b] += (n - base) * v;
        if (nsuper_ > 1) ssum += (n - (s << kSuperShift)) * v;
    }

private:
    double offset(int k) const { return lazy_[k >> kShift] + lazy2_[k >> kSuperShift]; }

    int m_, nsuper_, top_len_;
    // Blocks per superblock that the masked runs visit: 32, or with a single
    // superblock (m < 1024) only those up to m's, rounded up to kLanes: the
    // runs' fixed cost would otherwise dominate a step at a few hundred neurons.
    int mid_len_;
    std::vector<double> val_;    // a minus its offsets; zero beyond m
    std::vector<double> lazy_;   // pending prefix adds per block
    std::vector<double> bsum_;   // Σ val per block
    std::vector<double> lazy2_;  // pending prefix adds per superblock
    std::vector<double> ssum_;   // Σ (bsum + 32 lazy) per superblock
    std::vector<double> index_;  // 0, 1, 2, … as doubles (the masks' compares)
    std::vector<double> super_diff_;  // scratch of add_prefixes
};

}  // namespace ttnn
