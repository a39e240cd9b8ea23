#include "ttnn/target.hpp"

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

}  // namespace ttnn
