// The ODE driver (ode_integrate) and Dormand–Prince 5(4), its explicit stepper.
#include "ttnn/ode.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

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

// f is the first stage (k1) and f_new, rhs at the proposal, the last (k7):
// first same as last, so evaluate() has nothing to do.
class DormandPrince final : public OdeStepper {
public:
    DormandPrince(const OdeRhs& rhs, bool detect_stiffness)
        : OdeStepper(rhs, Control{5, true, true}), detect_stiffness_(detect_stiffness) {}

    void attempt(const Eigen::VectorXd& y, double hs, OdeStats& st) override {
        const Eigen::VectorXd& k1 = f;
        Eigen::VectorXd& k7 = f_new;
        tmp_ = y + hs * a21 * k1;
        rhs(tmp_, k2_);
        tmp_ = y + hs * (a31 * k1 + a32 * k2_);
        rhs(tmp_, k3_);
        tmp_ = y + hs * (a41 * k1 + a42 * k2_ + a43 * k3_);
        rhs(tmp_, k4_);
        tmp_ = y + hs * (a51 * k1 + a52 * k2_ + a53 * k3_ + a54 * k4_);
        rhs(tmp_, k5_);
        tmp_ = y + hs * (a61 * k1 + a62 * k2_ + a63 * k3_ + a64 * k4_ + a65 * k5_);
        rhs(tmp_, k6_);
        y_new = y + hs * (b1 * k1 + b3 * k3_ + b4 * k4_ + b5 * k5_ + b6 * k6_);
        rhs(y_new, k7);
        st.rhs_calls += 6;
        err = hs * (e1 * k1 + e3 * k3_ + e4 * k4_ + e5 * k5_ + e6 * k6_ + e7 * k7);
    }

    void evaluate(OdeStats&) override {}

    void accepted(double hs) override {
        if (!detect_stiffness_) return;
        // tmp_ is the argument of stage 6 and k6_ its slope; both are at t + hs like y_new.
        const double den = (y_new - tmp_).squaredNorm();
        if (den > 0.0) {
            const double h_rho = hs * std::sqrt((f_new - k6_).squaredNorm() / den);
            if (h_rho > 3.25) {
                nonstiff_steps_ = 0;
                ++stiff_steps_;
            } else if (++nonstiff_steps_ == 6) {
                stiff_steps_ = 0;
            }
        }
    }

    bool stiff() const override { return stiff_steps_ >= 15; }

protected:
    void restart(Eigen::Index n) override {
        for (Eigen::VectorXd* v : {&f, &k2_, &k3_, &k4_, &k5_, &k6_, &f_new, &tmp_}) {
            v->resize(n);
        }
        stiff_steps_ = nonstiff_steps_ = 0;
    }

private:
    bool detect_stiffness_;
    int stiff_steps_ = 0, nonstiff_steps_ = 0;
    Eigen::VectorXd k2_, k3_, k4_, k5_, k6_, tmp_;
};

std::string non_finite(const OdeOptions& opt, double t) {
    return "the state became non-finite at " + std::string(opt.time_name) + " = " +
           ode_time_string(t);
}

std::string underflow(const OdeOptions& opt, double t) {
    return "step size underflow at " + std::string(opt.time_name) + " = " + ode_time_string(t);
}

// Whether a retried step of size h at time t is still worth taking.
bool above_floor(double h, double t) { return h > 1e-14 * std::max(1.0, std::abs(t)); }

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

std::unique_ptr<OdeStepper> make_dormand_prince(const OdeRhs& rhs, bool detect_stiffness) {
    return std::make_unique<DormandPrince>(rhs, detect_stiffness);
}

std::vector<Eigen::VectorXd> ode_integrate(OdeStepper& first, const Eigen::VectorXd& y0,
                                           const std::vector<double>& times,
                                           const OdeOptions& opt, const Poll& poll,
                                           OdeStats* stats, const OdeOutput& on_output,
                                           const OdeAccept& accept, OdeStepper* when_stiff,
                                           double* stiff_from) {
    using clock = std::chrono::steady_clock;
    if (stiff_from) *stiff_from = -1.0;
    if (y0.size() == 0) {  // nothing moves (the limit of a network without neurons)
        if (stats) *stats = OdeStats{};
        return ode_without_unknowns(first.rhs, y0, times, on_output);
    }
    std::vector<Eigen::VectorXd> out;
    out.reserve(times.size());
    out.push_back(y0);
    OdeStats st;
    OdeStepper* stepper = &first;
    Eigen::VectorXd y = y0;
    stepper->start(y, st);
    if (!stepper->f.allFinite()) {
        throw DivergenceError(0, "the right-hand side is not finite at the start");
    }
    if (on_output) on_output(0);

    double h = ode_initial_step(y, stepper->f, opt);
    double t = times.front();
    auto last_poll = clock::now();
    double err_prev = 1e-4;  // PI controller memory
    // max_steps counts the steps since steps_from (0, or the switch to when_stiff).
    std::int64_t steps_from = 0, step_limit = opt.max_steps;

    for (std::size_t s = 1; s < times.size(); ++s) {
        const double t_stop = times[s];
        while (t < t_stop) {
            if (step_limit > 0 && st.accepted + st.rejected - steps_from >= step_limit) {
                throw StepLimitError(opt.max_steps, t, times.back(), opt.time_name);
            }
            const auto now = clock::now();
            if (now - last_poll > std::chrono::milliseconds(5)) {
                if (poll && poll()) throw Interrupted{};
                last_poll = clock::now();
            }
            bool last = false;
            double hs = h;
            if (t + 1.01 * hs >= t_stop) {
                hs = t_stop - t;
                last = true;
            }
            stepper->attempt(y, hs, st);
            const Eigen::ArrayXd sc =
                opt.atol + opt.rtol * y.array().abs().max(stepper->y_new.array().abs());
            const double e = std::sqrt((stepper->err.array() / sc).square().mean());
            const OdeStepper::Control& ctl = stepper->control;
            if (!std::isfinite(e)) {
                h = 0.1 * hs;
                ++st.rejected;
                stepper->rejected();
                if (ctl.shrink_to_underflow ? h < 1e-300 : !above_floor(h, t)) {
                    throw DivergenceError(st.accepted + 1, non_finite(opt, t));
                }
                continue;
            }
            if (e <= 1.0) {
                stepper->evaluate(st);
                if (accept && stepper->y_new.allFinite() && stepper->f_new.allFinite() &&
                    !accept(stepper->y_new)) {
                    // The caller refuses the step (the finite-η limit: its loss
                    // would rise): retry shorter from the same y.
                    h = 0.5 * hs;
                    ++st.rejected;
                    stepper->rejected();
                    if (!above_floor(h, t)) {
                        throw DivergenceError(st.accepted + 1,
                                              underflow(opt, t) +
                                                  ": no step keeps the loss from increasing");
                    }
                    continue;
                }
                stepper->accepted(hs);
                t = last ? t_stop : t + hs;
                y.swap(stepper->y_new);
                stepper->f.swap(stepper->f_new);
                ++st.accepted;
                if (!y.allFinite() || !stepper->f.allFinite()) {
                    throw DivergenceError(st.accepted, non_finite(opt, t));
                }
                double fac = 5.0;
                if (e != 0.0) {
                    fac = ctl.pi ? 0.9 * std::pow(e, -0.7 / ctl.order) *
                                       std::pow(err_prev, 0.4 / ctl.order)
                                 : 0.9 * std::pow(e, -1.0 / ctl.order);
                    fac = std::clamp(fac, 0.2, 5.0);
                }
                err_prev = std::max(e, 1e-4);
                // A step shortened to land on t_stop must not shrink the next one.
                h = last ? std::max(h, hs * fac) : hs * fac;
                if (when_stiff && stepper->stiff()) {
                    // Go on from (t, y) by when_stiff, restarted as a new
                    // integration would be; the restart state is not an output.
                    if (stiff_from) *stiff_from = t;
                    const std::int64_t used = st.accepted + st.rejected;
                    stepper = std::exchange(when_stiff, nullptr);
                    stepper->start(y, st);
                    if (!stepper->f.allFinite()) {
                        throw DivergenceError(0, "the right-hand side is not finite at the start");
                    }
                    h = ode_initial_step(y, stepper->f, opt);
                    err_prev = 1e-4;
                    if (opt.max_steps > 0) {
                        // At least 1: a step_limit of 0 would mean no limit.
                        steps_from = used;
                        step_limit = std::max<std::int64_t>(1, opt.max_steps - used);
                    }
                }
            } else {
                h = hs * std::max(0.2, 0.9 * std::pow(e, -1.0 / ctl.order));
                ++st.rejected;
                stepper->rejected();
                if (!above_floor(h, t)) throw DivergenceError(st.accepted + 1, underflow(opt, t));
            }
        }
        out.push_back(y);
        if (on_output) on_output(s);
        if (poll && poll(1)) throw Interrupted{};
    }
    if (stats) *stats = st;
    return out;
}

std::vector<Eigen::VectorXd> ode_solve(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                       const std::vector<double>& times, const OdeOptions& opt,
                                       const Poll& poll, OdeStats* stats,
                                       const OdeOutput& on_output, const OdeAccept& accept) {
    DormandPrince dp(rhs, false);
    return ode_integrate(dp, y0, times, opt, poll, stats, on_output, accept);
}

std::vector<Eigen::VectorXd> ode_solve_switching(const OdeRhs& rhs, OdeStepper& implicit,
                                                 const Eigen::VectorXd& y0,
                                                 const std::vector<double>& times,
                                                 const OdeOptions& opt, const Poll& poll,
                                                 OdeStats* stats, const OdeOutput& on_output,
                                                 const OdeAccept& accept, double* stiff_from) {
    DormandPrince dp(rhs, true);
    return ode_integrate(dp, y0, times, opt, poll, stats, on_output, accept, &implicit,
                         stiff_from);
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
    const std::unique_ptr<OdeStepper> rosenbrock = make_rosenbrock(rhs, poll);
    return ode_solve_switching(rhs, *rosenbrock, y0, times, opt, poll, stats, on_output, accept,
                               stiff_from);
}

}  // namespace ttnn
