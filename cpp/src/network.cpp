#include "ttnn/network.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ttnn {

Network::Network(Eigen::VectorXd a_, Eigen::VectorXd u_, double eta_, Activation act_)
    : a(std::move(a_)), u(std::move(u_)), eta(eta_), act(act_) {
    if (a.size() != u.size() + 1) throw std::invalid_argument("len(a) must be len(u) + 1");
    if (!(eta > 0.0) || !std::isfinite(eta)) throw std::invalid_argument("eta must be > 0");
    if (!a.allFinite()) throw std::invalid_argument("a must be finite");
    if (!u.allFinite()) throw std::invalid_argument("u must be finite");
}

namespace {

// s + t = hi + lo exactly (Knuth's TwoSum).
inline void two_sum(double s, double t, double& hi, double& lo) {
    hi = s + t;
    const double v = hi - s;
    lo = (s - (hi - v)) + (t - v);
}

// Σ v_i, compensated (Neumaier), computed at scale 2^−k so that no partial
// sum overflows while the terms are finite; ±inf only when the sum itself
// overflows.
struct SafeSum {
    double scale, hi = 0.0, lo = 0.0;
    explicit SafeSum(double scale) : scale(scale) {}
    void add(double v) {
        double h, l;
        two_sum(hi, v * scale, h, l);
        hi = h;
        lo += l;
    }
    double value() const { return (hi + lo) / scale; }
};

}  // namespace

// f(x) term by term; when that overflows with finite inputs (|x| or |a_j|
// near the float64 maximum), the terms are combined so that they cancel first
// (docs/maths/model.md#the-network): for relu, f = a_0 + x Σ a_j − Σ a_j u_j
// over the neurons with u_j < x (x Σ a_j vanishes when the a_j cancel, however
// large x is), and for cubic and ramp (σ ∈ [0, 1]) the sum is taken at a scale
// 2^−k below the largest |a_j|. The ordinary path is unchanged, bit for bit.
double Network::operator()(double x) const {
    const double plain = dispatch_activation(act, [&](auto A) {
        double f = a[0];
        for (Eigen::Index j = 0; j < m(); ++j) f += a[j + 1] * sigma_eta<A.value>(x - u[j], eta);
        return f;
    });
    if (std::isfinite(plain) || !std::isfinite(x)) return plain;
    const double amax = a.cwiseAbs().maxCoeff();
    const double scale = std::ldexp(1.0, -std::max(0, std::ilogb(amax) + 2));
    if (act == Activation::relu) {
        // a_0 − Σ a_j u_j + x Σ a_j, each sum compensated and scaled; the
        // products a_j u_j are scaled before they are formed.
        SafeSum slope(scale), offset(scale), off2(scale);
        offset.add(a[0]);
        const double us = std::ldexp(1.0, -std::max(0, std::ilogb(std::max(
                                                          1.0, u.cwiseAbs().maxCoeff())) + 1));
        for (Eigen::Index j = 0; j < m(); ++j) {
            if (!(x > u[j])) continue;  // σ = 0 (as x − u_j > 0, even when it overflows)
            slope.add(a[j + 1]);
            off2.add(-a[j + 1] * (u[j] * us));
        }
        const double S = slope.hi + slope.lo;  // at scale
        const double B = (off2.hi + off2.lo) / us;  // at scale
        // (a_0 + x S − B) / scale with x S formed last: it is 0 when the a_j cancel.
        const double rest = offset.hi + offset.lo + B;
        return S == 0.0 ? rest / scale : (rest + x * S) / scale;
    }
    SafeSum f(scale);
    f.add(a[0]);
    dispatch_activation(act, [&](auto A) {
        for (Eigen::Index j = 0; j < m(); ++j) f.add(a[j + 1] * sigma_eta<A.value>(x - u[j], eta));
    });
    return f.value();
}

Eigen::VectorXd Network::operator()(const Eigen::VectorXd& x) const {
    Eigen::VectorXd f(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) f[i] = (*this)(x[i]);
    return f;
}

void Network::gradient(double x, Eigen::VectorXd& grad_a, Eigen::VectorXd& grad_u) const {
    grad_a.resize(m() + 1);
    grad_u.resize(m());
    grad_a[0] = 1.0;
    for (Eigen::Index j = 0; j < m(); ++j) {
        grad_a[j + 1] = sigma_eta(act, x - u[j], eta);
        grad_u[j] = -a[j + 1] * dsigma_eta(act, x - u[j], eta);
    }
}

}  // namespace ttnn
