// Arrays a_0..a_{m−1} with the two operations the SGD kernel for windowed
// activations needs at every step (sgd.cpp, SortedKernel): the prefix sum
// Σ_{k<n} a_k (the saturated neurons' share of f(x)) and the prefix add
// a_k += v for k < n (their share of the update a_j ← a_j − h r_p σ_η).
// Both stores keep plain sums, never differences of large sums, so a prefix
// sum stays within rounding of summing the a_k directly; resync() recomputes
// the incrementally updated sums so that this error cannot grow over a run.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
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
// compiler vectorises. At m = 20 that beats the blocked store, whose cost is
// dominated by mispredicted loop exits.
class FlatPrefixSums {
public:
    explicit FlatPrefixSums(const std::vector<double>& a)
        : m_(static_cast<int>(a.size())), a_(a), p_(m_ + 1), index_(m_ + 1) {
        for (int k = 0; k <= m_; ++k) index_[k] = k;
        resync();
    }

    double get(int k) const { return a_[k]; }
    double sum(int n) const { return p_[n]; }

    void set(int k, double v) {
        const double d = v - a_[k];
        a_[k] = v;
        for (int n = 0; n <= m_; ++n) p_[n] += keep_if(n > k, d);
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

    // The mini-batch step's bulk updates (sgd.cpp, SortedKernel::step_batch):
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

// For large m: blocks of kBlock entries with a lazy offset per block,
// a_k = val[k] + lazy[k / kBlock], and the sum of val per block. A prefix sum
// or add costs O(m / kBlock + kBlock); changing one a_k costs O(1).
//
// A prefix sum adds the blocks' totals in Acc interleaved partial sums (a
// power of two, combined pairwise): the sum is a dependency chain of m / (32 Acc)
// additions. Acc = 2 up to ~2000 neurons; 8 above, where the chain of Acc = 2
// was a tenth of a step at m = 10⁴ (bench/RESULTS.md). Acc changes how a
// prefix sum rounds (within rounding of the direct sum either way), so it is
// a fixed function of m (sgd.cpp): the same seed gives the same run.
template <int Acc>
class BlockedPrefixSums {
    static_assert(Acc >= 1 && (Acc & (Acc - 1)) == 0, "Acc must be a power of two");

public:
    static constexpr int kShift = 5;
    static constexpr int kBlock = 1 << kShift;

    explicit BlockedPrefixSums(const std::vector<double>& a)
        : m_(static_cast<int>(a.size())), val_(a), lazy_((m_ + kBlock - 1) / kBlock, 0.0),
          block_sum_(lazy_.size(), 0.0) {
        resync();
    }

    double get(int k) const { return val_[k] + lazy_[k >> kShift]; }

    void set(int k, double v) {
        const double new_val = v - lazy_[k >> kShift];
        block_sum_[k >> kShift] += new_val - val_[k];
        val_[k] = new_val;
    }

    double sum(int n) const {
        const int full = n >> kShift, base = full << kShift;
        double acc[Acc] = {};
        int b = 0;
        for (; b + Acc <= full; b += Acc) {
            for (int j = 0; j < Acc; ++j) acc[j] += block_sum_[b + j] + kBlock * lazy_[b + j];
        }
        for (; b < full; ++b) acc[0] += block_sum_[b] + kBlock * lazy_[b];
        for (int w = 1; w < Acc; w *= 2) {
            for (int j = 0; j + w < Acc; j += 2 * w) acc[j] += acc[j + w];
        }
        double p0 = 0.0, p1 = 0.0;
        int k = base;
        for (; k + 1 < n; k += 2) {
            p0 += val_[k];
            p1 += val_[k + 1];
        }
        if (k < n) p0 += val_[k];
        double s = acc[0];
        if (n > base) s += (p0 + p1) + (n - base) * lazy_[full];
        return s;
    }

    void add_prefix(int n, double v) {
        const int full = n >> kShift, base = full << kShift;
        for (int b = 0; b < full; ++b) lazy_[b] += v;
        for (int k = base; k < n; ++k) val_[k] += v;
        if (n > base) block_sum_[full] += (n - base) * v;
    }

    // As FlatPrefixSums's: here every update keeps the sums exact, and a set of
    // prefix adds costs O(n_max / kBlock + kBlock · #adds), not O(m · #adds):
    // each add touches the entries of its own partial block, and the blocks
    // below it take their total as a lazy offset (one pass for all adds).
    void add_deferred(int k, double v) { set(k, get(k) + v); }
    void add_prefixes(const std::vector<std::pair<int, double>>& adds) {
        block_diff_.resize(lazy_.size() + 1, 0.0);  // left zeroed
        int top = 0;
        for (const auto& [n, v] : adds) {
            const int q = n >> kShift, base = q << kShift;
            for (int k = base; k < n; ++k) val_[k] += v;
            if (n > base) block_sum_[q] += (n - base) * v;
            block_diff_[q] += v;  // for every block below q
            top = std::max(top, q);
        }
        double s = 0.0;
        for (int q = top; q-- > 0;) {
            s += block_diff_[q + 1];
            block_diff_[q + 1] = 0.0;
            lazy_[q] += s;
        }
        block_diff_[0] = 0.0;
    }
    void settle() {}

    void swap_adjacent(int k) {
        if ((k >> kShift) == ((k + 1) >> kShift)) {
            std::swap(val_[k], val_[k + 1]);  // same lazy offset: exact
        } else {
            const double ak = get(k), ak1 = get(k + 1);
            set(k, ak1);
            set(k + 1, ak);
        }
    }

    void resync() {
        for (std::size_t b = 0; b < block_sum_.size(); ++b) {
            const int end = std::min(m_, static_cast<int>((b + 1) * kBlock));
            double s = 0.0;
            for (int k = static_cast<int>(b) * kBlock; k < end; ++k) s += val_[k];
            block_sum_[b] = s;
        }
    }

private:
    int m_;
    std::vector<double> val_;   // a minus the block's lazy offset
    std::vector<double> lazy_;  // pending prefix adds per block
    std::vector<double> block_sum_;
    std::vector<double> block_diff_;  // scratch of add_prefixes
};

}  // namespace ttnn
