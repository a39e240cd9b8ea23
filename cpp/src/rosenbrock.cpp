// Rosenbrock 4(3) for stiff autonomous systems (docs/maths/dynamics.md#stiff-steps).
//
// Each step solves, with W = I/(γh) − J and J the Jacobian of rhs at y,
//   W g_i = rhs(y + Σ_{j<i} α_ij g_j) + Σ_{j<i} (c_ij / h) g_j,   i = 1..4,
// (the form of Hairer & Wanner II §IV.7 that needs no product J·g), then
//   y_new = y + Σ b_i g_i  (order 4),   err = Σ e_i g_i  (order-4 minus order-3).
// Coefficients: Shampine's A-stable set (γ = 1/2); stage 4 reuses the argument of
// stage 3, so a step costs 3 calls of rhs besides the Jacobian.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "ttnn/dense_lu.hpp"
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
// Polls between columns: the n calls of rhs take minutes at large n.
void jacobian(const OdeRhs& rhs, const Eigen::VectorXd& y, const Eigen::VectorXd& f0,
              Eigen::MatrixXd& J, Eigen::VectorXd& work, Eigen::VectorXd& f, const Poll& poll) {
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
        if (poll && poll()) throw Interrupted{};
    }
}

}  // namespace

std::vector<Eigen::VectorXd> ode_solve_rosenbrock(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                                  const std::vector<double>& times,
                                                  const OdeOptions& opt, const Poll& poll,
                                                  OdeStats* stats, const OdeOutput& on_output,
                                                  const OdeAccept& accept) {
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
    Eigen::VectorXd y = y0, f0(n), f(n), tmp(n), work(n), g1(n), g2(n), g3(n), g4(n), y4(n),
        f4(n), err(n);
    Eigen::MatrixXd J(n, n), W(n, n);
    DenseLU lu;  // interruptible: an O(n³) factorisation per step
    rhs(y, f0);
    ++st.rhs_calls;
    if (!f0.allFinite()) throw DivergenceError(0, "the right-hand side is not finite at the start");
    if (on_output) on_output(0);

    double h = ode_initial_step(y, f0, opt);
    double t = times.front();
    auto last_poll = clock::now();
    bool have_jacobian = false;  // J is at the current y

    for (std::size_t s = 1; s < times.size(); ++s) {
        const double t_stop = times[s];
        while (t < t_stop) {
            ode_step_prologue(opt, st, t, times.back(), last_poll, poll);
            if (!have_jacobian) {
                jacobian(rhs, y, f0, J, work, f, poll);
                st.rhs_calls += n;
                have_jacobian = true;
            }
            bool last = false;
            double hs = h;
            if (t + 1.01 * hs >= t_stop) {
                hs = t_stop - t;
                last = true;
            }
            // A pass over an n × n matrix takes ~0.5 s at n = 20 001 (a solve, a
            // copy), and the first one, which touches fresh pages, was 16 s:
            // poll between solves, and build W by blocks of columns.
            const auto stop = [&] {
                if (poll && poll()) throw Interrupted{};
            };
            for (Eigen::Index c = 0; c < n; c += 256) {
                const Eigen::Index cb = std::min<Eigen::Index>(256, n - c);
                W.middleCols(c, cb) = -J.middleCols(c, cb);
                stop();
            }
            W.diagonal().array() += 1.0 / (gam * hs);
            if (!lu.compute(W, poll)) throw Interrupted{};
            g1 = lu.solve(f0);
            stop();
            tmp = y + a21 * g1;
            rhs(tmp, f);
            g2 = lu.solve(f + (c21 / hs) * g1);
            stop();
            tmp = y + a31 * g1 + a32 * g2;
            rhs(tmp, f);
            g3 = lu.solve(f + (c31 / hs) * g1 + (c32 / hs) * g2);
            stop();
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
                                          "the state became non-finite at " + std::string(opt.time_name) + " = " + ode_time_string(t));
                }
                continue;
            }
            if (e <= 1.0) {
                rhs(y4, f4);
                ++st.rhs_calls;
                if (accept && y4.allFinite() && f4.allFinite() && !accept(y4)) {
                    // The caller refuses the step (the finite-η limit: its loss
                    // would rise): retry shorter from the same y, same Jacobian.
                    h = 0.5 * hs;
                    ++st.rejected;
                    if (!(h > 1e-14 * std::max(1.0, std::abs(t)))) {
                        throw DivergenceError(st.accepted + 1,
                                              "step size underflow at " +
                                                  std::string(opt.time_name) + " = " +
                                                  ode_time_string(t) +
                                                  ": no step keeps the loss from increasing");
                    }
                    continue;
                }
                t = last ? t_stop : t + hs;
                y.swap(y4);
                f0.swap(f4);
                ++st.accepted;
                if (!y.allFinite() || !f0.allFinite()) {
                    throw DivergenceError(st.accepted, "the state became non-finite at " +
                                                           std::string(opt.time_name) + " = " +
                                                           ode_time_string(t));
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
        if (on_output) on_output(s);
        if (poll && poll(1)) throw Interrupted{};
    }
    if (stats) *stats = st;
    return out;
}

std::vector<Eigen::VectorXd> ode_solve_switching(const OdeRhs& rhs, const OdeImplicit& implicit,
                                                 const Eigen::VectorXd& y0,
                                                 const std::vector<double>& times,
                                                 const OdeOptions& opt, const Poll& poll,
                                                 OdeStats* stats, const OdeOutput& on_output,
                                                 const OdeAccept& accept, double* stiff_from) {
    if (stiff_from) *stiff_from = -1.0;
    OdeOptions explicit_opt = opt;
    explicit_opt.stop_when_stiff = true;
    try {
        return ode_solve(rhs, y0, times, explicit_opt, poll, stats, on_output, accept);
    } catch (StiffnessDetected& stiff) {
        // Go on implicitly from the state reached, over the outputs not yet
        // stored; the restart state is not an output.
        const std::size_t stored = stiff.outputs.size();
        std::vector<double> rest{stiff.t};
        rest.insert(rest.end(), times.begin() + static_cast<std::ptrdiff_t>(stored), times.end());
        OdeOptions implicit_opt = opt;
        const std::int64_t used = stiff.stats.accepted + stiff.stats.rejected;
        if (opt.max_steps > 0) {
            implicit_opt.max_steps = std::max<std::int64_t>(1, opt.max_steps - used);
        }
        const OdeOutput tail_output = [&](std::size_t k) {
            if (on_output && k > 0) on_output(stored + k - 1);
        };
        OdeStats st;
        const auto tail = implicit(stiff.y, rest, implicit_opt, &st, tail_output);
        std::vector<Eigen::VectorXd> ys = std::move(stiff.outputs);
        ys.insert(ys.end(), tail.begin() + 1, tail.end());
        if (stats) {
            stats->accepted = stiff.stats.accepted + st.accepted;
            stats->rejected = stiff.stats.rejected + st.rejected;
            stats->rhs_calls = stiff.stats.rhs_calls + st.rhs_calls;
        }
        if (stiff_from) *stiff_from = stiff.t;
        return ys;
    }
}

std::vector<Eigen::VectorXd> ode_solve_by(OdeMethod method, const OdeRhs& rhs,
                                          const Eigen::VectorXd& y0,
                                          const std::vector<double>& times, const OdeOptions& opt,
                                          const Poll& poll, OdeStats* stats,
                                          const OdeOutput& on_output, const OdeAccept& accept,
                                          double* stiff_from, Eigen::Index implicit_max_size) {
    if (stiff_from) *stiff_from = -1.0;
    if (method == OdeMethod::rosenbrock) {
        return ode_solve_rosenbrock(rhs, y0, times, opt, poll, stats, on_output, accept);
    }
    if (method == OdeMethod::rk45 || y0.size() > implicit_max_size) {
        return ode_solve(rhs, y0, times, opt, poll, stats, on_output, accept);
    }
    const OdeImplicit rosenbrock = [&](const Eigen::VectorXd& y, const std::vector<double>& ts,
                                       const OdeOptions& o, OdeStats* st, const OdeOutput& out) {
        return ode_solve_rosenbrock(rhs, y, ts, o, poll, st, out, accept);
    };
    return ode_solve_switching(rhs, rosenbrock, y0, times, opt, poll, stats, on_output, accept,
                               stiff_from);
}

}  // namespace ttnn
