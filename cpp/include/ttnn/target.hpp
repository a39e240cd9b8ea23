// Targets f* (docs/maths/model.md): a piecewise-constant function
// f*(x) = f*_0 + Σ_i Δ_i 1[x > v_i], or a teacher network of any activation,
// width η and number of neurons.
#pragma once

#include <variant>
#include <vector>

#include "ttnn/network.hpp"

namespace ttnn {

// breaks and values are read-only after construction (the Python binding
// exposes them so): the lookup table below is built from them.
struct PiecewiseConstant {
    std::vector<double> breaks;  // 0 < v_1 < … < v_{n−1} < 1
    std::vector<double> values;  // f*_0, …, f*_{n−1}

    PiecewiseConstant(std::vector<double> breaks, std::vector<double> values);

    // values[#{i : v_i < x}]: at a break the value on the left is taken.
    // SGD evaluates f* at every step, at uniform x: one load from a table of
    // kTable equal cells over [0, 1), where a cell holds f* when no break lies
    // in it and NaN when one does; those cells (a few percent) and x outside
    // [0, 1) take the count. The table holds copies of `values`, so both ways
    // give the same number. A count per step is a visible share of a step at
    // small m, where the step itself is short (docs/dev/bench-history.md).
    double operator()(double x) const {
        const double t = x * kTable;  // exact: kTable is a power of two
        if (t >= 0.0 && t < kTable) {
            const double v = table_[static_cast<int>(t)];
            if (v == v) return v;
        }
        return count(x);
    }

    // The same value without the table: branch-free count of the breaks below x.
    double count(double x) const {
        std::size_t i = 0;
        for (double v : breaks) i += v < x;
        return values[i];
    }

private:
    static constexpr int kTable = 256;
    std::vector<double> table_;
};

// Highest polynomial degree of any σ_η piece (the cubic): every integrand of the
// loss, its gradient and the Gram system is then of degree ≤ 2 · 3 = 6 between
// the breakpoints of the student and the target (docs/maths/exact-loss.md).
constexpr int kMaxPieceDegree = 3;

// The one target abstraction of the core: everything that integrates or samples
// f* (loss, gradient, Gram system, SGD's sampling) goes through it.
class Target {
public:
    // Implicit on purpose: a PiecewiseConstant or a Network is a Target.
    Target(PiecewiseConstant target);  // NOLINT(google-explicit-constructor)
    Target(Network teacher);           // NOLINT(google-explicit-constructor)

    double operator()(double x) const {
        if (const auto* pc = std::get_if<PiecewiseConstant>(&kind_)) return (*pc)(x);
        return std::get<Network>(kind_)(x);
    }

    // Non-null for the kind the target is.
    const PiecewiseConstant* piecewise_constant() const {
        return std::get_if<PiecewiseConstant>(&kind_);
    }
    const Network* teacher() const { return std::get_if<Network>(&kind_); }

    // Sorted points (anywhere on the real line) between which f* is one
    // polynomial: the breaks v_i, or the teacher's u_j − η/2, u_j, u_j + η/2
    // (u_j for relu).
    const std::vector<double>& breakpoints() const { return points_; }

    // The degree of f* between consecutive breakpoints: 0 (piecewise constant),
    // 1 (ramp or relu teacher), 3 (cubic teacher); never above kMaxPieceDegree.
    int degree() const;

private:
    std::variant<PiecewiseConstant, Network> kind_;
    std::vector<double> points_;
};

// Degree of σ_η between its breakpoints.
constexpr int piece_degree(Activation act) { return act == Activation::cubic ? 3 : 1; }

}  // namespace ttnn
