#include "ttnn/ode.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

namespace ttnn {

namespace {

// Dormand–Prince 5(4) tableau (FSAL).
constexpr double c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9;
constexpr double a21 = 1.0 / 5;
constexpr double a31 = 3.0 / 40, a32 = 9.0 / 40;
constexpr double a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9;
constexpr double a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561,
                 a54 = -212.0 / 729;
constexpr double a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176,
                 a65 = -5103.0 / 18656;
constexpr double b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192, b5 = -2187.0 / 6784,
                 b6 = 11.0 / 84;
// Error weights: 5th-order minus embedded 4th-order solution.
constexpr double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200,
                 e6 = 22.0 / 525, e7 = -1.0 / 40;

}  // namespace

std::string ode_time_string(double t) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", t);
    return buf;
}

StepLimitError::StepLimitError(std::int64_t steps, double t, double t_end, const char* time_name)
    : std::runtime_error("max_steps = " + std::to_string(steps) +
                         " steps were not enough: the integration reached " + time_name + " = " +
                         ode_time_string(t) +
                         " of " + ode_time_string(t_end) +
                         " (raise max_steps, loosen rtol/atol, or try another method)"),
      steps(steps),
      t(t) {}

double ode_initial_step(const Eigen::VectorXd& y, const Eigen::VectorXd& f,
                        const OdeOptions& opt) {
    const Eigen::ArrayXd sc = opt.atol + opt.rtol * y.array().abs();
    const double d0 = std::sqrt((y.array() / sc).square().mean());
    const double d1 = std::sqrt((f.array() / sc).square().mean());
    return (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
}

std::vector<Eigen::VectorXd> ode_without_unknowns(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                                  const std::vector<double>& times,
                                                  const OdeOutput& on_output) {
    if (!on_output) return std::vector<Eigen::VectorXd>(times.size(), y0);
    Eigen::VectorXd none;
    rhs(y0, none);  // so that the caller's by-products exist
    std::vector<Eigen::VectorXd> out;
    for (std::size_t s = 0; s < times.size(); ++s) {
        out.push_back(y0);
        on_output(s);
    }
    return out;
}

std::vector<Eigen::VectorXd> ode_solve(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                       const std::vector<double>& times, const OdeOptions& opt,
                                       const Poll& poll, OdeStats* stats,
                                       const OdeOutput& on_output, const OdeAccept& accept) {
    using clock = std::chrono::steady_clock;
    const Eigen::Index n = y0.size();
    if (n == 0) {  // nothing moves (the limit of a network without neurons)
        if (stats) *stats = OdeStats{};
        return ode_without_unknowns(rhs, y0, times, on_output);
    }
    std::vector<Eigen::VectorXd> out;
    out.reserve(times.size());
    out.push_back(y0);
    OdeStats st;
    Eigen::VectorXd y = y0, k1(n), k2(n), k3(n), k4(n), k5(n), k6(n), k7(n), tmp(n), y5(n), err(n);
    rhs(y, k1);
    ++st.rhs_calls;
    if (!k1.allFinite()) throw DivergenceError(0, "the right-hand side is not finite at the start");
    if (on_output) on_output(0);

    double h = ode_initial_step(y, k1, opt);
    double t = times.front();
    auto last_poll = clock::now();
    double err_prev = 1e-4;  // PI controller memory
    int stiff_steps = 0, nonstiff_steps = 0;  // stiffness detection (opt.stop_when_stiff)

    for (std::size_t s = 1; s < times.size(); ++s) {
        const double t_stop = times[s];
        while (t < t_stop) {
            ode_step_prologue(opt, st, t, times.back(), last_poll, poll);
            bool last = false;
            double hs = h;
            if (t + hs >= t_stop || t + 1.01 * hs >= t_stop) {
                hs = t_stop - t;
                last = true;
            }
            tmp = y + hs * a21 * k1;
            rhs(tmp, k2);
            tmp = y + hs * (a31 * k1 + a32 * k2);
            rhs(tmp, k3);
            tmp = y + hs * (a41 * k1 + a42 * k2 + a43 * k3);
            rhs(tmp, k4);
            tmp = y + hs * (a51 * k1 + a52 * k2 + a53 * k3 + a54 * k4);
            rhs(tmp, k5);
            tmp = y + hs * (a61 * k1 + a62 * k2 + a63 * k3 + a64 * k4 + a65 * k5);
            rhs(tmp, k6);
            y5 = y + hs * (b1 * k1 + b3 * k3 + b4 * k4 + b5 * k5 + b6 * k6);
            rhs(y5, k7);
            st.rhs_calls += 6;
            err = hs * (e1 * k1 + e3 * k3 + e4 * k4 + e5 * k5 + e6 * k6 + e7 * k7);
            const Eigen::ArrayXd sc =
                opt.atol + opt.rtol * y.array().abs().max(y5.array().abs());
            double e = std::sqrt((err.array() / sc).square().mean());
            if (!std::isfinite(e)) {
                if (!y5.allFinite() && hs < 1e-300) {
                    throw DivergenceError(st.accepted + 1, "the state became non-finite at " + std::string(opt.time_name) + " = " + ode_time_string(t));
                }
                h = 0.1 * hs;
                ++st.rejected;
                if (h < 1e-300) {
                    throw DivergenceError(st.accepted + 1,
                                          "the state became non-finite at " + std::string(opt.time_name) + " = " + ode_time_string(t));
                }
                continue;
            }
            if (e <= 1.0 && accept && !accept(y5)) {
                h = 0.5 * hs;
                ++st.rejected;
                if (!(h > 1e-14 * std::max(1.0, std::abs(t)))) {
                    throw DivergenceError(st.accepted + 1,
                                          "step size underflow at " + std::string(opt.time_name) + " = " + ode_time_string(t) +
                                              ": no step keeps the loss from increasing");
                }
                continue;
            }
            if (e <= 1.0 && opt.stop_when_stiff) {
                // tmp is the argument of stage 6 and k6 its slope; both are at t + hs like y5.
                const double den = (y5 - tmp).squaredNorm();
                if (den > 0.0) {
                    const double h_rho = hs * std::sqrt((k7 - k6).squaredNorm() / den);
                    if (h_rho > 3.25) {
                        nonstiff_steps = 0;
                        ++stiff_steps;
                    } else if (++nonstiff_steps == 6) {
                        stiff_steps = 0;
                    }
                }
            }
            if (e <= 1.0) {
                // Accept; PI step-size control (Hairer & Wanner II, §IV.2).
                t = last ? t_stop : t + hs;
                y.swap(y5);
                k1.swap(k7);
                ++st.accepted;
                if (!y.allFinite()) {
                    throw DivergenceError(st.accepted, "the state became non-finite at " + std::string(opt.time_name) + " = " + ode_time_string(t));
                }
                const double fac = e == 0.0 ? 5.0
                                             : std::clamp(0.9 * std::pow(e, -0.7 / 5) *
                                                              std::pow(err_prev, 0.4 / 5),
                                                          0.2, 5.0);
                err_prev = std::max(e, 1e-4);
                // A step shortened to land on t_stop must not shrink the next one.
                h = last ? std::max(h, hs * fac) : hs * fac;
                if (stiff_steps >= 15) {
                    throw StiffnessDetected{t, y, out, st};
                }
            } else {
                h = hs * std::max(0.2, 0.9 * std::pow(e, -1.0 / 5));
                ++st.rejected;
                if (!(h > 1e-14 * std::max(1.0, std::abs(t)))) {
                    throw DivergenceError(st.accepted + 1,
                                          "step size underflow at " + std::string(opt.time_name) + " = " + ode_time_string(t));
                }
            }
        }
        out.push_back(y);
        if (on_output) on_output(s);
        if (poll && poll(1)) throw Interrupted{};
    }
    if (stats) *stats = st;
    return out;
}

}  // namespace ttnn
