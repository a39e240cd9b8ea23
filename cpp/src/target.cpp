#include "ttnn/target.hpp"

#include <algorithm>
#include <cmath>
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
