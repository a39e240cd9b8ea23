// Piecewise-constant target f*(x) = f*_0 + Σ_i Δ_i 1[x > v_i] (DESIGN.md §1).
#pragma once

#include <vector>

namespace ttnn {

struct PiecewiseConstant {
    std::vector<double> breaks;  // 0 < v_1 < … < v_{n−1} < 1
    std::vector<double> values;  // f*_0, …, f*_{n−1}

    PiecewiseConstant(std::vector<double> breaks, std::vector<double> values);

    // values[#{i : v_i < x}]: at a break the value on the left is taken.
    double operator()(double x) const {
        std::size_t i = 0;
        while (i < breaks.size() && breaks[i] < x) ++i;
        return values[i];
    }
};

}  // namespace ttnn
