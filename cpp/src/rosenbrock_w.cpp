// Rosenbrock-W method ROS34PW2 (Rang & Angermann, BIT 45, 2005) for autonomous
// systems (docs/maths/dynamics.md#stiff-steps).
//
// In the published form, with any matrix A in place of the Jacobian,
//   (I − γhA) k_i = h rhs(y + Σ_{j<i} α_ij k_j) + hA Σ_{j<i} γ_ij k_j,   y_new = y + Σ b_i k_i.
// With Γ = (γ_ij) (lower triangular, diagonal γ) and g = Γ k, this is
//   (I/(γh) − A) g_i = rhs(y + Σ_{j<i} a_ij g_j) + Σ_{j<i} (c_ij / h) g_j,
//   a = α Γ⁻¹,  c_ij = −(Γ⁻¹)_ij (i > j),  y_new = y + Σ (bᵀΓ⁻¹)_i g_i,
// which needs no product A·g (Hairer & Wanner II §IV.7); the transformed
// coefficients are computed once from the published ones below. The method is
// of order 3 for any A (a W-method), with an embedded order-2 solution b̂ for
// the error estimate, stiffly accurate and L-stable when A is the Jacobian.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <string>

#include "ttnn/ode.hpp"

namespace ttnn {

namespace {

constexpr int S = 4;  // stages
constexpr double gam = 4.3586652150845900e-01;

struct Tableau {
    double a[S][S] = {};  // a = α Γ⁻¹ (strictly lower)
    double c[S][S] = {};  // c_ij = −(Γ⁻¹)_ij (strictly lower)
    double m[S] = {};     // bᵀ Γ⁻¹
    double e[S] = {};     // (b − b̂)ᵀ Γ⁻¹: the error estimate's weights
};

Tableau transformed_tableau() {
    // Published coefficients (α_ij, γ_ij strictly lower; b order 3, b̂ order 2).
    const double alpha[S][S] = {{0, 0, 0, 0},
                                {8.7173304301691801e-01, 0, 0, 0},
                                {8.4457060015369423e-01, -1.1299064236484185e-01, 0, 0},
                                {0, 0, 1, 0}};
    const double gamma[S][S] = {{gam, 0, 0, 0},
                                {-8.7173304301691801e-01, gam, 0, 0},
                                {-9.0338057013044082e-01, 5.4180672388095326e-02, gam, 0},
                                {2.4212380706095346e-01, -1.2232505839045147e+00,
                                 5.4526025533510214e-01, gam}};
    const double b[S] = {2.4212380706095346e-01, -1.2232505839045147e+00,
                         1.5452602553351020e+00, gam};
    const double bhat[S] = {3.7810903145819369e-01, -9.6042292212423178e-02, 0.5,
                            2.1793326075422950e-01};
    // Γ⁻¹ by forward substitution, column by column.
    double inv[S][S] = {};
    for (int j = 0; j < S; ++j) {
        for (int i = 0; i < S; ++i) {
            double v = i == j ? 1.0 : 0.0;
            for (int k = 0; k < i; ++k) v -= gamma[i][k] * inv[k][j];
            inv[i][j] = v / gamma[i][i];
        }
    }
    Tableau t;
    for (int i = 0; i < S; ++i) {
        for (int j = 0; j < i; ++j) {
            for (int k = j; k < i; ++k) t.a[i][j] += alpha[i][k] * inv[k][j];
            t.c[i][j] = -inv[i][j];
        }
    }
    for (int j = 0; j < S; ++j) {
        for (int i = j; i < S; ++i) {
            t.m[j] += b[i] * inv[i][j];
            t.e[j] += (b[i] - bhat[i]) * inv[i][j];
        }
    }
    return t;
}

}  // namespace

std::vector<Eigen::VectorXd> ode_solve_rosenbrock_w(const OdeRhs& rhs, const WMatrix& w,
                                                    const Eigen::VectorXd& y0,
                                                    const std::vector<double>& times,
                                                    const OdeOptions& opt, const Poll& poll,
                                                    OdeStats* stats, int refresh_every) {
    static const Tableau tab = transformed_tableau();
    const Eigen::Index n = y0.size();
    if (n == 0) {  // nothing moves (the limit of a network without neurons)
        if (stats) *stats = OdeStats{};
        return ode_without_unknowns(rhs, y0, times, nullptr);
    }
    std::vector<Eigen::VectorXd> out;
    out.reserve(times.size());
    out.push_back(y0);
    OdeStats st;
    Eigen::VectorXd y = y0, f0(n), f(n), arg(n), y_new(n), err(n);
    std::array<Eigen::VectorXd, S> g;
    rhs(y, f0);
    ++st.rhs_calls;
    if (!f0.allFinite()) throw DivergenceError(0, "the right-hand side is not finite at the start");

    double h = ode_initial_step(y, f0, opt);
    double t = times.front();
    auto last_poll = std::chrono::steady_clock::now();
    int since_fresh = refresh_every;  // accepted steps since A was rebuilt: rebuild now

    for (std::size_t s = 1; s < times.size(); ++s) {
        const double t_stop = times[s];
        while (t < t_stop) {
            ode_step_prologue(opt, st, t, times.back(), last_poll, poll);
            bool last = false;
            double hs = h;
            if (t + 1.01 * hs >= t_stop) {
                hs = t_stop - t;
                last = true;
            }
            const bool fresh = since_fresh >= refresh_every;
            w.set(y, gam * hs, fresh);
            if (fresh) since_fresh = 0;
            for (int i = 0; i < S; ++i) {
                if (i == 0) {
                    f = f0;
                } else {
                    arg = y;
                    for (int j = 0; j < i; ++j) arg += tab.a[i][j] * g[j];
                    rhs(arg, f);
                    ++st.rhs_calls;
                    for (int j = 0; j < i; ++j) f += (tab.c[i][j] / hs) * g[j];
                }
                w.solve(f);
                g[i] = f;
            }
            y_new = y;
            err.setZero();
            for (int i = 0; i < S; ++i) {
                y_new += tab.m[i] * g[i];
                err += tab.e[i] * g[i];
            }
            const Eigen::ArrayXd sc =
                opt.atol + opt.rtol * y.array().abs().max(y_new.array().abs());
            const double e = std::sqrt((err.array() / sc).square().mean());
            if (!std::isfinite(e)) {
                h = 0.1 * hs;
                ++st.rejected;
                if (since_fresh > 0) since_fresh = refresh_every;  // A is stale: rebuild it
                if (!(h > 1e-14 * std::max(1.0, std::abs(t)))) {
                    throw DivergenceError(st.accepted + 1, "the state became non-finite at " + std::string(opt.time_name) + " = " + ode_time_string(t));
                }
                continue;
            }
            if (e <= 1.0) {
                t = last ? t_stop : t + hs;
                y.swap(y_new);
                rhs(y, f0);
                ++st.rhs_calls;
                ++st.accepted;
                ++since_fresh;
                if (!y.allFinite() || !f0.allFinite()) {
                    throw DivergenceError(st.accepted,
                                          "the state became non-finite at " + std::string(opt.time_name) + " = " + ode_time_string(t));
                }
                // The embedded solution is of order 2: local error estimate ~ h³.
                const double fac =
                    e == 0.0 ? 5.0 : std::clamp(0.9 * std::pow(e, -1.0 / 3), 0.2, 5.0);
                h = last ? std::max(h, hs * fac) : hs * fac;
            } else {
                h = hs * std::max(0.2, 0.9 * std::pow(e, -1.0 / 3));
                ++st.rejected;
                if (since_fresh > 0) since_fresh = refresh_every;
                if (!(h > 1e-14 * std::max(1.0, std::abs(t)))) {
                    throw DivergenceError(st.accepted + 1, "step size underflow at " +
                                                               std::string(opt.time_name) + " = " +
                                                               ode_time_string(t));
                }
            }
        }
        out.push_back(y);
        if (poll && poll(1)) throw Interrupted{};
    }
    if (stats) *stats = st;
    return out;
}

}  // namespace ttnn
