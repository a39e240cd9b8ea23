#include "ttnn/target.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ttnn {

// The Python layer gives the friendly messages; these checks keep the core
// safe when it is called directly.
PiecewiseConstant::PiecewiseConstant(std::vector<double> breaks_, std::vector<double> values_)
    : breaks(std::move(breaks_)), values(std::move(values_)) {
    if (values.size() != breaks.size() + 1) {
        throw std::invalid_argument("values must have one more entry than breaks");
    }
    for (std::size_t i = 0; i < breaks.size(); ++i) {
        if (!(breaks[i] > 0.0 && breaks[i] < 1.0)) {
            throw std::invalid_argument("breaks must lie strictly inside (0, 1)");
        }
        if (i > 0 && !(breaks[i] > breaks[i - 1])) {
            throw std::invalid_argument("breaks must be strictly increasing");
        }
    }
    for (double v : values) {
        if (!std::isfinite(v)) throw std::invalid_argument("values must be finite");
    }
    // Cell c is [c/n, (c+1)/n) (exact in binary). The count #{v_i < x} is the
    // same for every x of the cell unless some break v_i lies in it, v_i = c/n
    // included (then x = c/n does not count it and x > c/n does).
    table_.resize(kTable);
    for (int c = 0; c < kTable; ++c) {
        const double lo = static_cast<double>(c) / kTable, hi = static_cast<double>(c + 1) / kTable;
        bool split = false;
        for (double v : breaks) split = split || (v >= lo && v < hi);
        table_[c] = split ? std::numeric_limits<double>::quiet_NaN() : count(lo);
    }
}

Target::Target(PiecewiseConstant target) : kind_(std::move(target)) {
    points_ = std::get<PiecewiseConstant>(kind_).breaks;
}

Target::Target(Network teacher) : kind_(std::move(teacher)) {
    const Network& t = std::get<Network>(kind_);
    const double half = 0.5 * t.eta;
    for (Eigen::Index j = 0; j < t.m(); ++j) {
        points_.push_back(t.u[j]);
        if (is_windowed(t.act)) {
            points_.push_back(t.u[j] - half);
            points_.push_back(t.u[j] + half);
        }
    }
    std::sort(points_.begin(), points_.end());
    points_.erase(std::unique(points_.begin(), points_.end()), points_.end());
}

int Target::degree() const {
    if (const Network* t = teacher()) return piece_degree(t->act);
    return 0;
}

static_assert(piece_degree(Activation::cubic) <= kMaxPieceDegree);

}  // namespace ttnn
