// Implementation of sweep_pieces (see quadrature.hpp); a template, so it lives
// in a header.
#pragma once

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

namespace ttnn {

template <class Visit>
void sweep_pieces(const Network& net, const PiecewiseConstant& target, Visit&& visit) {
    const int m = static_cast<int>(net.m());
    const bool windowed = is_windowed(net.act);
    const double half = windowed ? 0.5 * net.eta : 0.0;

    // Where each neuron enters its window and where it saturates (never, for relu).
    std::vector<double> enter(m), leave(m);
    for (int j = 0; j < m; ++j) {
        enter[j] = net.u[j] - half;
        leave[j] = windowed ? net.u[j] + half : std::numeric_limits<double>::infinity();
    }

    std::vector<double> points = {0.0, 1.0};
    points.insert(points.end(), target.breaks.begin(), target.breaks.end());
    for (int j = 0; j < m; ++j) {
        for (double p : {enter[j], net.u[j], leave[j]}) {
            if (p > 0.0 && p < 1.0) points.push_back(p);
        }
    }
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());

    std::vector<int> by_enter(m), by_leave(m);
    std::iota(by_enter.begin(), by_enter.end(), 0);
    std::iota(by_leave.begin(), by_leave.end(), 0);
    std::sort(by_enter.begin(), by_enter.end(), [&](int i, int j) { return enter[i] < enter[j]; });
    std::sort(by_leave.begin(), by_leave.end(), [&](int i, int j) { return leave[i] < leave[j]; });

    std::vector<int> window, saturated_new;
    window.reserve(m);
    std::size_t next_enter = 0, next_leave = 0, next_break = 0;
    double saturated_sum = net.a[0];
    for (std::size_t k = 0; k + 1 < points.size(); ++k) {
        const double lo = points[k], hi = points[k + 1];
        // Every state change happens at a point, so testing `lo` decides the piece.
        while (next_enter < by_enter.size() && enter[by_enter[next_enter]] <= lo) {
            window.push_back(by_enter[next_enter++]);
        }
        saturated_new.clear();
        while (next_leave < by_leave.size() && leave[by_leave[next_leave]] <= lo) {
            const int j = by_leave[next_leave++];
            window.erase(std::find(window.begin(), window.end(), j));
            saturated_sum += net.a[j + 1];
            saturated_new.push_back(j);
        }
        while (next_break < target.breaks.size() && target.breaks[next_break] <= lo) ++next_break;
        visit(Piece{lo, hi, target.values[next_break], saturated_sum, &window, &saturated_new});
    }
}

}  // namespace ttnn
