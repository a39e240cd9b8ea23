// Label noise ξ of online SGD (docs/maths/dynamics.md#online-sgd): y = f*(x) + ξ.
#pragma once

#include "ttnn/rng.hpp"

namespace ttnn {

struct Noise {
    enum class Kind { none, uniform, gaussian };
    Kind kind = Kind::none;
    double scale = 0.0;  // r of U[−r, r], or the standard deviation s

    double draw(Rng& rng) const {
        switch (kind) {
            case Kind::uniform: return scale * (2.0 * rng.uniform() - 1.0);
            case Kind::gaussian: return scale * rng.normal();
            default: return 0.0;
        }
    }
};

}  // namespace ttnn
