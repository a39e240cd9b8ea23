// Implementation of sweep_pieces (see quadrature.hpp); a template, so it lives
// in a header.
#pragma once

#include <algorithm>
#include <iterator>
#include <limits>
#include <numeric>
#include <vector>

namespace ttnn {

template <class Visit>
void sweep_pieces(const Network& net, const Target& target, Visit&& visit) {
    const int m = static_cast<int>(net.m());
    const bool windowed = is_windowed(net.act);
    const double half = windowed ? 0.5 * net.eta : 0.0;

    // Scratch reused across calls on this thread: the loss is called millions of
    // times on small networks, where a call is short enough for its eight
    // allocations to weigh.
    // A nested sweep (from inside `visit`) gets fresh buffers.
    struct Buffers {
        std::vector<int> order, window, saturated_new;
        std::vector<double> enter, mid, leave, points, merged;
        bool busy = false;
    };
    thread_local Buffers shared;
    Buffers fresh;
    Buffers& b = shared.busy ? fresh : shared;
    struct Release {
        Buffers& b;
        ~Release() { b.busy = false; }
    } release{b};
    b.busy = true;
    auto& [order, window, saturated_new, enter, mid, leave, points, merged, busy] = b;
    (void)busy;

    // Each neuron enters its window at u_j − η/2 and saturates at u_j + η/2
    // (never, for relu): both orders are the order of u, so one argsort gives
    // them, and the breakpoints come from merging sorted runs, not a sort.
    order.resize(m);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int i, int j) { return net.u[i] < net.u[j]; });
    enter.resize(m);
    mid.resize(m);
    leave.resize(m);  // in the order of u
    for (int k = 0; k < m; ++k) {
        mid[k] = net.u[order[k]];
        enter[k] = mid[k] - half;
        leave[k] = windowed ? mid[k] + half : std::numeric_limits<double>::infinity();
    }

    points.clear();
    points.push_back(0.0);
    for (double p : target.breakpoints()) {
        if (p > 0.0 && p < 1.0) points.push_back(p);
    }
    points.push_back(1.0);
    for (const auto* run : {&enter, &mid, &leave}) {
        merged.clear();
        std::merge(points.begin(), points.end(), run->begin(), run->end(),
                   std::back_inserter(merged));
        points.swap(merged);
    }
    // Keep [0, 1] only (0 and 1 themselves are in), without repeats.
    points.erase(std::remove_if(points.begin(), points.end(),
                                [](double p) { return !(p >= 0.0 && p <= 1.0); }),
                 points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());

    window.clear();
    saturated_new.clear();
    // A piecewise-constant target is one value per piece (found by walking its
    // breaks); a teacher is evaluated at each node by the caller (target_at).
    const PiecewiseConstant* steps = target.piecewise_constant();
    std::size_t next_enter = 0, next_leave = 0, next_break = 0;
    double saturated_sum = net.a[0];
    for (std::size_t k = 0; k + 1 < points.size(); ++k) {
        const double lo = points[k], hi = points[k + 1];
        // Every state change happens at a point, so testing `lo` decides the piece.
        while (next_enter < enter.size() && enter[next_enter] <= lo) {
            window.push_back(order[next_enter++]);
        }
        saturated_new.clear();
        while (next_leave < leave.size() && leave[next_leave] <= lo) {
            const int j = order[next_leave++];
            window.erase(std::find(window.begin(), window.end(), j));
            saturated_sum += net.a[j + 1];
            saturated_new.push_back(j);
        }
        double value = 0.0;
        if (steps != nullptr) {
            while (next_break < steps->breaks.size() && steps->breaks[next_break] <= lo) {
                ++next_break;
            }
            value = steps->values[next_break];
        }
        visit(Piece{lo, hi, value, steps != nullptr, &target, saturated_sum, &window,
                    &saturated_new});
    }
}

}  // namespace ttnn
