// Label noise ξ of online SGD (docs/maths/dynamics.md#online-sgd): y = f*(x) + ξ.
#pragma once

#include "ttnn/rng.hpp"

namespace ttnn {

struct Noise {
    enum class Kind { none, uniform, gaussian };
    Kind kind = Kind::none;
    double scale = 0.0;  // r of U[−r, r], or the standard deviation s

    // ξ for a kind known at compile time (hot loops: no switch per draw).
    template <Kind K>
    static double draw_as(Rng& rng, double scale) {
        if constexpr (K == Kind::uniform) return scale * (2.0 * rng.uniform() - 1.0);
        else if constexpr (K == Kind::gaussian) return scale * rng.normal();
        else return 0.0;
    }

    double draw(Rng& rng) const {
        switch (kind) {
            case Kind::uniform: return draw_as<Kind::uniform>(rng, scale);
            case Kind::gaussian: return draw_as<Kind::gaussian>(rng, scale);
            default: return draw_as<Kind::none>(rng, scale);
        }
    }
};

}  // namespace ttnn
