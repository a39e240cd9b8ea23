// Distances between measures on the circle (docs/maths/circle.md#distances):
// the energy-distance MMD by sorted half-angles, and the exact W₁.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <numeric>
#include <stdexcept>
#include <utility>
#include <vector>

#include "ttnn/circle.hpp"

namespace ttnn::circle {

namespace {

// Weights normalised to total 1 (uniform when w is empty), after checks.
Eigen::VectorXd weights(const Eigen::VectorXd& x, const Eigen::VectorXd& w, const char* xname,
                        const char* wname) {
    if (x.size() < 1) throw std::invalid_argument(std::string(xname) + " must not be empty");
    if (!x.allFinite()) throw std::invalid_argument(std::string(xname) + " must be finite");
    if (w.size() == 0) {
        return Eigen::VectorXd::Constant(x.size(), 1.0 / static_cast<double>(x.size()));
    }
    if (w.size() != x.size()) {
        throw std::invalid_argument(std::string(wname) + " must have one entry per angle of " +
                                    xname);
    }
    if (!w.allFinite() || (w.array() < 0.0).any()) {
        throw std::invalid_argument(std::string(wname) + " must be finite and >= 0");
    }
    const double total = w.sum();
    if (!(total > 0.0)) throw std::invalid_argument(std::string(wname) + " must not sum to 0");
    return w / total;
}

// Σ_i Σ_j wa_i wb_j 2|sin((a_i − b_j)/2)| with weights as given. With φ = θ + π ∈
// [0, 2π), |sin((φ_a − φ_b)/2)| = ±(sin(φ_a/2) cos(φ_b/2) − cos(φ_a/2) sin(φ_b/2)),
// + when φ_b ≤ φ_a: prefix sums of wb cos(φ_b/2), wb sin(φ_b/2) over sorted b.
double chord_sum_weighted(const Eigen::VectorXd& a, const Eigen::VectorXd& wa,
                          const Eigen::VectorXd& b, const Eigen::VectorXd& wb) {
    const auto m = static_cast<std::size_t>(b.size());
    std::vector<std::pair<double, double>> bs(m);
    for (std::size_t j = 0; j < m; ++j) {
        const auto jj = static_cast<Eigen::Index>(j);
        bs[j] = {0.5 * (wrap_angle(b[jj]) + kPi), wb[jj]};
    }
    std::sort(bs.begin(), bs.end());
    std::vector<double> key(m), pc(m + 1, 0.0), ps(m + 1, 0.0);
    for (std::size_t j = 0; j < m; ++j) {
        key[j] = bs[j].first;
        pc[j + 1] = pc[j] + bs[j].second * std::cos(bs[j].first);
        ps[j + 1] = ps[j] + bs[j].second * std::sin(bs[j].first);
    }
    double total = 0.0;
    for (Eigen::Index i = 0; i < a.size(); ++i) {
        const double ha = 0.5 * (wrap_angle(a[i]) + kPi);
        const std::size_t le = std::upper_bound(key.begin(), key.end(), ha) - key.begin();
        const double c_le = pc[le], s_le = ps[le];
        const double c_gt = pc[m] - c_le, s_gt = ps[m] - s_le;
        const double sum = std::sin(ha) * (c_le - c_gt) - std::cos(ha) * (s_le - s_gt);
        total += wa[i] * 2.0 * sum;
    }
    return total;
}

}  // namespace

double chord_sum(const Eigen::VectorXd& a, const Eigen::VectorXd& wa, const Eigen::VectorXd& b,
                 const Eigen::VectorXd& wb) {
    return chord_sum_weighted(a, weights(a, wa, "a", "wa"), b, weights(b, wb, "b", "wb"));
}

double mmd(const Eigen::VectorXd& a, const Eigen::VectorXd& wa, const Eigen::VectorXd& b,
           const Eigen::VectorXd& wb) {
    const Eigen::VectorXd pa = weights(a, wa, "a", "wa"), pb = weights(b, wb, "b", "wb");
    const double sq = 2.0 * chord_sum_weighted(a, pa, b, pb) - chord_sum_weighted(a, pa, a, pa) -
                      chord_sum_weighted(b, pb, b, pb);
    // Rounding can leave a tiny negative value for (nearly) equal measures.
    return std::sqrt(std::max(sq, 0.0));
}

double w1(const Eigen::VectorXd& a, const Eigen::VectorXd& wa, const Eigen::VectorXd& b,
          const Eigen::VectorXd& wb) {
    const Eigen::VectorXd pa = weights(a, wa, "a", "wa"), pb = weights(b, wb, "b", "wb");
    // W₁ on the circle = min_c ∫ |F − G − c| dθ with F, G the distribution
    // functions from the cut at −π; the minimiser c is a median of F − G under
    // arc length. F − G is piecewise constant between the merged angles.
    std::vector<std::pair<double, double>> pts;
    pts.reserve(static_cast<std::size_t>(a.size() + b.size()));
    for (Eigen::Index i = 0; i < a.size(); ++i) pts.emplace_back(wrap_angle(a[i]), pa[i]);
    for (Eigen::Index j = 0; j < b.size(); ++j) pts.emplace_back(wrap_angle(b[j]), -pb[j]);
    std::sort(pts.begin(), pts.end());
    std::vector<std::pair<double, double>> pieces;  // (value, length)
    pieces.reserve(pts.size() + 1);
    double level = 0.0, from = -kPi;
    for (const auto& [theta, mass] : pts) {
        pieces.emplace_back(level, theta - from);
        level += mass;
        from = theta;
    }
    pieces.emplace_back(level, kPi - from);
    std::vector<std::pair<double, double>> sorted = pieces;
    std::sort(sorted.begin(), sorted.end());
    double half = 0.0;
    for (const auto& pc : sorted) half += pc.second;
    half *= 0.5;
    double acc = 0.0, c = sorted.back().first;
    for (const auto& pc : sorted) {
        acc += pc.second;
        if (acc >= half) {
            c = pc.first;
            break;
        }
    }
    double total = 0.0;
    for (const auto& pc : pieces) total += pc.second * std::abs(pc.first - c);
    return total;
}

Eigen::VectorXd cell_centres(Eigen::Index cells) {
    if (cells < 1) throw std::invalid_argument("cells must be >= 1");
    const double h = 2.0 * kPi / static_cast<double>(cells);
    Eigen::VectorXd c(cells);
    for (Eigen::Index k = 0; k < cells; ++k) c[k] = -kPi + h * (static_cast<double>(k) + 0.5);
    return c;
}

double w2_uniform(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    weights(a, Eigen::VectorXd(), "a", "wa");
    weights(b, Eigen::VectorXd(), "b", "wb");
    if (a.size() != b.size()) throw std::invalid_argument("a and b must have the same size");
    // Between two uniform sets of n points on the circle, an optimal plan for a convex
    // function of the arc length matches the sorted angles by a cyclic shift; each
    // matched pair then travels the shorter arc (a longer one is never cheaper).
    const auto n = static_cast<std::size_t>(a.size());
    std::vector<double> as(n), bs(n);
    for (std::size_t i = 0; i < n; ++i) {
        as[i] = wrap_angle(a[static_cast<Eigen::Index>(i)]);
        bs[i] = wrap_angle(b[static_cast<Eigen::Index>(i)]);
    }
    std::sort(as.begin(), as.end());
    std::sort(bs.begin(), bs.end());
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < n; ++k) {
        double cost = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            const double d = std::abs(wrap_angle(as[i] - bs[(i + k) % n]));
            cost += d * d;
        }
        best = std::min(best, cost);
    }
    return std::sqrt(best / static_cast<double>(n));
}

}  // namespace ttnn::circle
