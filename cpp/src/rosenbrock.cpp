// Rosenbrock 4(3) for stiff autonomous systems (docs/maths/dynamics.md#stiff-steps).
//
// Each step solves, with W = I/(γh) − J and J the Jacobian of rhs at y,
//   W g_i = rhs(y + Σ_{j<i} α_ij g_j) + Σ_{j<i} (c_ij / h) g_j,   i = 1..4,
// (the form of Hairer & Wanner II §IV.7 that needs no product J·g), then
//   y_new = y + Σ b_i g_i  (order 4),   err = Σ e_i g_i  (order-4 minus order-3).
// Coefficients: Shampine's A-stable set (γ = 1/2); stage 4 reuses the argument of
// stage 3, so a step costs 3 calls of rhs besides the Jacobian.
#include <Eigen/LU>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "ttnn/ode.hpp"

namespace ttnn {

namespace {

constexpr double gam = 0.5;
constexpr double a21 = 2.0;
constexpr double a31 = 48.0 / 25, a32 = 6.0 / 25;
constexpr double c21 = -8.0;
constexpr double c31 = 372.0 / 25, c32 = 12.0 / 5;
constexpr double c41 = -112.0 / 125, c42 = -54.0 / 125, c43 = -2.0 / 5;
constexpr double b1 = 19.0 / 9, b2 = 1.0 / 2, b3 = 25.0 / 108, b4 = 125.0 / 108;
constexpr double e1 = 17.0 / 54, e2 = 7.0 / 36, e3 = 0.0, e4 = 125.0 / 108;

// J = ∂rhs/∂y at y by forward differences; f0 = rhs(y). The increment balances
// truncation against rounding (√machine-epsilon relative to |y_j|, at least to 1).
void jacobian(const OdeRhs& rhs, const Eigen::VectorXd& y, const Eigen::VectorXd& f0,
              Eigen::MatrixXd& J, Eigen::VectorXd& work, Eigen::VectorXd& f) {
    const Eigen::Index n = y.size();
    J.resize(n, n);
    work = y;
    for (Eigen::Index j = 0; j < n; ++j) {
        const double delta = 1.4901161193847656e-8 * std::max(1.0, std::abs(y[j]));
        work[j] = y[j] + delta;
        const double dj = work[j] - y[j];  // the increment actually represented
        rhs(work, f);
        J.col(j) = (f - f0) / dj;
        work[j] = y[j];
    }
}

}  // namespace

std::vector<Eigen::VectorXd> ode_solve_rosenbrock(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                                  const std::vector<double>& times,
                                                  const OdeOptions& opt, const Poll& poll,
                                                  OdeStats* stats) {
    using clock = std::chrono::steady_clock;
    const Eigen::Index n = y0.size();
    std::vector<Eigen::VectorXd> out;
    out.reserve(times.size());
    out.push_back(y0);
    OdeStats st;
    if (n == 0) {
        out.assign(times.size(), y0);
        if (stats) *stats = st;
        return out;
    }
    Eigen::VectorXd y = y0, f0(n), f(n), tmp(n), work(n), g1(n), g2(n), g3(n), g4(n), y4(n),
        err(n);
    Eigen::MatrixXd J(n, n), W(n, n);
    Eigen::PartialPivLU<Eigen::MatrixXd> lu;
    rhs(y, f0);
    ++st.rhs_calls;
    if (!f0.allFinite()) throw DivergenceError(0, "the right-hand side is not finite at the start");

    double h;
    {
        const Eigen::ArrayXd sc = opt.atol + opt.rtol * y.array().abs();
        const double d0 = std::sqrt((y.array() / sc).square().mean());
        const double d1 = std::sqrt((f0.array() / sc).square().mean());
        h = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    }
    double t = times.front();
    auto last_poll = clock::now();
    bool have_jacobian = false;  // J is at the current y

    for (std::size_t s = 1; s < times.size(); ++s) {
        const double t_stop = times[s];
        while (t < t_stop) {
            ode_step_prologue(opt, st, t, times.back(), last_poll, poll);
            if (!have_jacobian) {
                jacobian(rhs, y, f0, J, work, f);
                st.rhs_calls += n;
                have_jacobian = true;
            }
            bool last = false;
            double hs = h;
            if (t + 1.01 * hs >= t_stop) {
                hs = t_stop - t;
                last = true;
            }
            W = -J;
            W.diagonal().array() += 1.0 / (gam * hs);
            lu.compute(W);
            g1 = lu.solve(f0);
            tmp = y + a21 * g1;
            rhs(tmp, f);
            g2 = lu.solve(f + (c21 / hs) * g1);
            tmp = y + a31 * g1 + a32 * g2;
            rhs(tmp, f);
            g3 = lu.solve(f + (c31 / hs) * g1 + (c32 / hs) * g2);
            g4 = lu.solve(f + (c41 / hs) * g1 + (c42 / hs) * g2 + (c43 / hs) * g3);
            y4 = y + b1 * g1 + b2 * g2 + b3 * g3 + b4 * g4;
            err = e1 * g1 + e2 * g2 + e3 * g3 + e4 * g4;
            st.rhs_calls += 2;
            const Eigen::ArrayXd sc = opt.atol + opt.rtol * y.array().abs().max(y4.array().abs());
            const double e = std::sqrt((err.array() / sc).square().mean());
            if (!std::isfinite(e)) {
                h = 0.1 * hs;
                ++st.rejected;
                if (h < 1e-300 || !(h > 1e-14 * std::max(1.0, std::abs(t)))) {
                    throw DivergenceError(st.accepted + 1,
                                          "the state became non-finite at t = " + ode_time_string(t));
                }
                continue;
            }
            if (e <= 1.0) {
                t = last ? t_stop : t + hs;
                y.swap(y4);
                rhs(y, f0);
                ++st.rhs_calls;
                ++st.accepted;
                if (!y.allFinite() || !f0.allFinite()) {
                    throw DivergenceError(st.accepted,
                                          "the state became non-finite at t = " + ode_time_string(t));
                }
                have_jacobian = false;
                // The embedded estimate is of order 3: local error ~ h⁴.
                const double fac = e == 0.0 ? 5.0 : std::clamp(0.9 * std::pow(e, -0.25), 0.2, 5.0);
                h = last ? std::max(h, hs * fac) : hs * fac;
            } else {
                h = hs * std::max(0.2, 0.9 * std::pow(e, -0.25));
                ++st.rejected;
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
