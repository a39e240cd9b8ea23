// The activations of docs/maths/model.md#activations and their scaled versions σ_η, σ′_η.
//
// Header-only and templated on the activation so that the SGD kernel's inner
// loop compiles to straight-line code without a branch on the activation kind.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace ttnn {

enum class Activation { cubic, ramp, relu };

Activation parse_activation(const std::string& name);
const char* activation_name(Activation act);

// cubic: σ(z) = 0 (z ≤ −½), 4(z+½)³ on [−½,0], 1 − 4(½−z)³ on [0,½], 1 (z ≥ ½).
inline double cubic_sigma(double z) {
    if (z <= -0.5) return 0.0;
    if (z >= 0.5) return 1.0;
    if (z <= 0.0) {
        const double s = z + 0.5;
        return 4.0 * s * s * s;
    }
    const double s = 0.5 - z;
    return 1.0 - 4.0 * s * s * s;
}

// σ′(z) = 12(z+½)² on [−½,0], 12(½−z)² on [0,½], 0 elsewhere; ∫σ′ = 1.
inline double cubic_dsigma(double z) {
    if (z <= -0.5 || z >= 0.5) return 0.0;
    const double s = z <= 0.0 ? z + 0.5 : 0.5 - z;
    return 12.0 * s * s;
}

// ramp: σ(z) = clip(z + ½, 0, 1), the authors' first version.
inline double ramp_sigma(double z) { return std::clamp(z + 0.5, 0.0, 1.0); }
inline double ramp_dsigma(double z) { return (z > -0.5 && z < 0.5) ? 1.0 : 0.0; }

// σ_η(z) and σ′_η(z) for a compile-time activation. relu ignores η
// (σ_η(z) = max(z, 0), docs/maths/model.md#activations); the others are σ(z/η) and σ′(z/η)/η.
// z/η is a true division, as in ttnn.reference, so that both round alike.
template <Activation A>
inline double sigma_eta(double z, double eta) {
    if constexpr (A == Activation::cubic) return cubic_sigma(z / eta);
    else if constexpr (A == Activation::ramp) return ramp_sigma(z / eta);
    else return z > 0.0 ? z : 0.0;
}

template <Activation A>
inline double dsigma_eta(double z, double eta) {
    if constexpr (A == Activation::cubic) return cubic_dsigma(z / eta) / eta;
    else if constexpr (A == Activation::ramp) return ramp_dsigma(z / eta) / eta;
    else return z > 0.0 ? 1.0 : 0.0;
}

// σ_η(z) and σ′_η(z) as above, bit for bit, for the hot loops (the loss's
// quadrature nodes; the SGD window has window_activation_inv below). For the
// cubic, without branches: inside the window the sign of z is a coin flip,
// and mispredicting it costs more than evaluating both sides. With z clamped
// to [−½, ½] and s = ½ − |z| (equal to z + ½ for z ≤ 0 and to ½ − z above, as
// in cubic_sigma), σ = 4s³ or 1 − 4s³ and σ′ = 12s², which also gives 0 and 1
// (and σ′ = 0) at and beyond the window's edges.
// `cond ? a : b` through bit masks: GCC compiles the conditional expression
// to a branch, which mispredicts half the time on the sign of z (measured in
// the SGD window at m = 1000).
inline double select_bits(bool cond, double a, double b) {
    std::uint64_t ia, ib;
    std::memcpy(&ia, &a, sizeof ia);
    std::memcpy(&ib, &b, sizeof ib);
    const std::uint64_t mask = -static_cast<std::uint64_t>(cond);
    ia = (ia & mask) | (ib & ~mask);
    std::memcpy(&a, &ia, sizeof a);
    return a;
}

template <Activation A>
inline void window_activation(double z, double eta, double& s, double& ds) {
    if constexpr (A == Activation::cubic) {
        const double zc = std::min(std::max(z / eta, -0.5), 0.5);
        const double w = 0.5 - std::abs(zc);
        const double c = 4.0 * w * w * w;
        s = select_bits(zc <= 0.0, c, 1.0 - c);
        ds = 12.0 * w * w / eta;
    } else {
        s = sigma_eta<A>(z, eta);
        ds = dsigma_eta<A>(z, eta);
    }
}

// window_activation for the SGD kernel's window (sgd.cpp), from inv_eta = 1/η:
// z·(1/η) where window_activation divides, one multiply instead of two true
// divisions per window neuron, a visible share of a step at large m
// (docs/dev/bench-history.md). z·(1/η) is within an ulp of z/η: the window terms round
// like ttnn.reference's to an ulp instead of exactly, and the kernel (whose
// prefix sums already round differently) stays within its cross-checks' 1e-10.
template <Activation A>
inline void window_activation_inv(double z, double inv_eta, double& s, double& ds) {
    if constexpr (A == Activation::cubic) {
        const double zc = std::min(std::max(z * inv_eta, -0.5), 0.5);
        const double w = 0.5 - std::abs(zc);
        const double c = 4.0 * w * w * w;
        s = select_bits(zc <= 0.0, c, 1.0 - c);
        ds = 12.0 * w * w * inv_eta;
    } else if constexpr (A == Activation::ramp) {
        const double zs = z * inv_eta;
        s = ramp_sigma(zs);
        ds = ramp_dsigma(zs) * inv_eta;
    } else {
        s = sigma_eta<A>(z, 1.0);
        ds = dsigma_eta<A>(z, 1.0);
    }
}

// window_activation_inv for the n window terms z_i = x − u_i, into s and ds,
// as a loop the compiler vectorises (a call per entry kept it scalar, ~25% of
// a step at m = 10⁴ with ~40 neurons per window). For the cubic, GCC does not
// if-convert floating-point compares under its default -ftrapping-math, so the
// clamp and the select work on the bit patterns instead: for non-negative
// doubles these order like integers, so min(|z/η|, ½) is an integer min, and
// the side is the sign bit (at z = ±0 both sides give ½). The same operations
// on the same values otherwise: bit for bit window_activation_inv for every
// non-NaN z (a NaN z gives σ ∈ {0, 1} here, NaN there).
template <Activation A>
inline void window_activations_inv(double x, const double* u, int n, double inv_eta, double* s,
                                   double* ds) {
    if constexpr (A == Activation::cubic) {
        const auto bits = [](double v) {
            std::int64_t i;
            std::memcpy(&i, &v, sizeof i);
            return i;
        };
        const auto value = [](std::int64_t i) {
            double v;
            std::memcpy(&v, &i, sizeof v);
            return v;
        };
        const std::int64_t half = bits(0.5);
        for (int i = 0; i < n; ++i) {
            const std::int64_t z = bits((x - u[i]) * inv_eta);
            const std::int64_t d = (z & std::numeric_limits<std::int64_t>::max()) - half;
            const double w = 0.5 - value(half + (d & (d >> 63)));  // ½ − min(|z|, ½)
            const double c = 4.0 * w * w * w;
            const double one_minus_c = 1.0 - c;
            const std::int64_t neg = z >> 63;  // all ones when z < 0 (or −0)
            s[i] = value((bits(c) & neg) | (bits(one_minus_c) & ~neg));
            ds[i] = 12.0 * w * w * inv_eta;
        }
    } else {
        for (int i = 0; i < n; ++i) window_activation_inv<A>(x - u[i], inv_eta, s[i], ds[i]);
    }
}

// cubic and ramp are 0 left of u − η/2 and 1 right of u + η/2: "windowed".
// relu has no window: it never saturates.
constexpr bool is_windowed(Activation act) { return act != Activation::relu; }

// Runtime dispatch for code that is not hot.
inline double sigma_eta(Activation act, double z, double eta) {
    switch (act) {
        case Activation::cubic: return sigma_eta<Activation::cubic>(z, eta);
        case Activation::ramp: return sigma_eta<Activation::ramp>(z, eta);
        default: return sigma_eta<Activation::relu>(z, eta);
    }
}

inline double dsigma_eta(Activation act, double z, double eta) {
    switch (act) {
        case Activation::cubic: return dsigma_eta<Activation::cubic>(z, eta);
        case Activation::ramp: return dsigma_eta<Activation::ramp>(z, eta);
        default: return dsigma_eta<Activation::relu>(z, eta);
    }
}

// Calls f(std::integral_constant<Activation, A>{}) with the runtime activation
// turned into a compile-time one: one switch per run instead of one per step.
template <class F>
decltype(auto) dispatch_activation(Activation act, F&& f) {
    switch (act) {
        case Activation::cubic:
            return f(std::integral_constant<Activation, Activation::cubic>{});
        case Activation::ramp:
            return f(std::integral_constant<Activation, Activation::ramp>{});
        default:
            return f(std::integral_constant<Activation, Activation::relu>{});
    }
}

}  // namespace ttnn
