// The draws (x_p, y_p) an SGD run consumes (docs/maths/dynamics.md): sampled
// from the stream Rng(seed, stream) — per draw a uniform x, then its noise ξ,
// y = f*(x) + ξ — or replayed from data. They are served a block at a time:
// producing them is then a tight loop of its own, with no per-draw branch on
// the noise kind or on the source and a branch-free f* (PiecewiseConstant),
// instead of work interleaved with the step's latency-bound dependency chain,
// whose mispredicted branches cost about as much as the step itself.
// The numbers are exactly those of drawing one sample per step.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ttnn/noise.hpp"
#include "ttnn/rng.hpp"
#include "ttnn/sgd.hpp"
#include "ttnn/target.hpp"

namespace ttnn {

class Draws {
public:
    static constexpr int kBlock = 256;

    struct Span {
        const double* x;
        const double* y;
    };

    // `target` is only read when `data.x` is null (sampling).
    Draws(const Target* target, const Noise& noise, std::uint64_t seed, std::uint64_t stream,
          SgdData data)
        : target_(target), noise_(noise), rng_(seed, stream), data_(data) {
        if (data_.x == nullptr || data_.order != nullptr || data_.n > 0) {
            x_.resize(kBlock);
            y_.resize(kBlock);
        }
    }

    // Draws p, …, p + n − 1 (n ≤ kBlock). A sampled run asks for its draws in
    // order: p is at most one past the last draw it asked for before (it may
    // ask again for draws it did not use), never before the previous p.
    Span next(std::int64_t p, int n) {
        if (data_.x == nullptr) {
            std::int64_t off = p - base_;
            if (off + n > filled_) {
                // Keep the draws from p on, then extend the stream to a full block.
                const int keep = static_cast<int>(filled_ - off);
                std::copy(x_.begin() + off, x_.begin() + filled_, x_.begin());
                std::copy(y_.begin() + off, y_.begin() + filled_, y_.begin());
                sample(keep, kBlock - keep);
                base_ = p;
                filled_ = kBlock;
                off = 0;
            }
            return Span{x_.data() + off, y_.data() + off};
        }
        if (data_.order == nullptr && data_.n == 0) {
            return Span{data_.x + p, data_.y + p};  // contiguous: no copy
        }
        for (int i = 0; i < n; ++i) {
            const std::int64_t j = data_.index(p + i);
            x_[i] = data_.x[j];
            y_[i] = data_.y[j];
        }
        return Span{x_.data(), y_.data()};
    }

private:
    // Draws into positions [from, from + n) of the block. The stream's order
    // (x, then its noise, per draw) is kept; the noise's kind is switched on
    // once per block, and f* is added in a second pass (IEEE addition is
    // commutative, so y is bit for bit f*(x) + ξ as when drawn one by one).
    void sample(int from, int n) {
        double* x = x_.data() + from;
        double* y = y_.data() + from;
        switch (noise_.kind) {
            case Noise::Kind::uniform:
                for (int i = 0; i < n; ++i) {
                    x[i] = rng_.uniform();
                    y[i] = noise_.scale * (2.0 * rng_.uniform() - 1.0);
                }
                break;
            case Noise::Kind::gaussian:
                for (int i = 0; i < n; ++i) {
                    x[i] = rng_.uniform();
                    y[i] = noise_.scale * rng_.normal();
                }
                break;
            default:
                for (int i = 0; i < n; ++i) {
                    x[i] = rng_.uniform();
                    y[i] = 0.0;
                }
        }
        if (const PiecewiseConstant* pc = target_->piecewise_constant()) {
            for (int i = 0; i < n; ++i) y[i] = (*pc)(x[i]) + y[i];
        } else {
            const Network& teacher = *target_->teacher();
            for (int i = 0; i < n; ++i) y[i] = teacher(x[i]) + y[i];
        }
    }

    const Target* target_;
    Noise noise_;
    Rng rng_;
    SgdData data_;
    std::vector<double> x_, y_;  // the current block, when not read in place
    std::int64_t base_ = 0;      // sampling: the draw at x_[0], y_[0]
    std::int64_t filled_ = 0;    // and how many are in the block
};

}  // namespace ttnn
