// Adaptive Dormand–Prince 5(4) integration with standard error control, shared
// by the gradient flow and the finite-η limit (docs/maths/dynamics.md#gradient-flow). Their right-hand
// sides are only piecewise smooth (σ is C¹), which error control absorbs by
// shrinking steps near the kinks instead of needing them located.
#pragma once

#include <Eigen/Core>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ttnn/interrupt.hpp"

namespace ttnn {

using OdeRhs = std::function<void(const Eigen::VectorXd& y, Eigen::VectorXd& dy)>;
// Called with k as soon as the k-th output is stored. The integrator is FSAL:
// its most recent call of rhs was at exactly that output state, so a caller can
// keep by-products of that evaluation instead of recomputing them.
using OdeOutput = std::function<void(std::size_t k)>;

// Called after a step passed the error test, with the step's new state (the
// most recent rhs call was at that state). Returning false rejects the step,
// which is retried with half the step size: the finite-η limit uses it to
// keep its loss non-increasing (docs/maths/local_basis.md).
using OdeAccept = std::function<bool(const Eigen::VectorXd& y)>;

struct OdeOptions {
    double rtol = 1e-8;
    double atol = 1e-10;
    std::int64_t max_steps = 0;  // accepted + rejected steps allowed; 0: no limit
    const char* time_name = "t";  // how errors name the time ("tau" for a limit)
    // ode_solve only: throw StiffnessDetected when the steps are limited by
    // stability rather than accuracy, so that the caller can go on implicitly.
    bool stop_when_stiff = false;
};

// More than max_steps steps were needed; `t` is the time reached.
class StepLimitError : public std::runtime_error {
public:
    StepLimitError(std::int64_t steps, double t, double t_end, const char* time_name = "t");
    std::int64_t steps;
    double t;
};

struct OdeStats {
    std::int64_t accepted = 0, rejected = 0, rhs_calls = 0;
};

// t with all 17 significant digits, as the integrators' messages print times.
std::string ode_time_string(double t);

// What every integrator does before attempting a step: throw StepLimitError once
// opt.max_steps steps (accepted + rejected) are used up, and poll (Interrupted
// when it says stop) at most every 5 ms. `last_poll` is the caller's clock memory.
inline void ode_step_prologue(const OdeOptions& opt, const OdeStats& st, double t, double t_end,
                              std::chrono::steady_clock::time_point& last_poll, const Poll& poll) {
    if (opt.max_steps > 0 && st.accepted + st.rejected >= opt.max_steps) {
        throw StepLimitError(opt.max_steps, t, t_end, opt.time_name);
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_poll > std::chrono::milliseconds(5)) {
        if (poll && poll()) throw Interrupted{};
        last_poll = std::chrono::steady_clock::now();
    }
}

// Thrown by ode_solve under opt.stop_when_stiff: h·ρ exceeded 3.25 (about the
// boundary of Dormand–Prince's stability region on the negative axis) on 15
// accepted steps without 6 consecutive ones below it, with ρ the estimate
// |f(y₅) − f(stage 6)| / |y₅ − stage 6| of the Jacobian's dominant eigenvalue
// (Hairer, Nørsett & Wanner I, §II.10). Carries the state after the last
// accepted step, the outputs stored so far and the statistics.
struct StiffnessDetected {
    double t;
    Eigen::VectorXd y;
    std::vector<Eigen::VectorXd> outputs;
    OdeStats stats;
};

// The first trial step of every integrator: 1% of |y| / |y'| in the error
// test's norm (Hairer–Nørsett–Wanner's heuristic, simplified), 1e-6 when either
// is negligible; error control corrects it from there.
double ode_initial_step(const Eigen::VectorXd& y, const Eigen::VectorXd& f,
                        const OdeOptions& opt);

// The integrators' answer for a system with no unknowns (the limit of a network
// without neurons): y0 at every time, rhs called once and every output reported
// so that the caller's by-products exist.
std::vector<Eigen::VectorXd> ode_without_unknowns(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                                  const std::vector<double>& times,
                                                  const OdeOutput& on_output);

// Integrates y' = rhs(y) (autonomous) from y0 at times[0] and returns y at each
// of `times` (increasing), stepping exactly onto each of them. Throws
// DivergenceError (step = accepted steps) if the state becomes non-finite and
// Interrupted when poll() says so (polled every few milliseconds; each stored
// output counts one unit of progress), StepLimitError past opt.max_steps.
std::vector<Eigen::VectorXd> ode_solve(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                       const std::vector<double>& times, const OdeOptions& opt,
                                       const Poll& poll, OdeStats* stats = nullptr,
                                       const OdeOutput& on_output = nullptr,
                                       const OdeAccept& accept = nullptr);

// The same contract (outputs, errors, polling, max_steps) by a linearly implicit
// Rosenbrock method of order 4 with an embedded order-3 error estimate
// (Shampine's four-stage A-stable parameter set, Hairer & Wanner II §IV.7) and
// the full Jacobian of rhs by forward differences, dense LU, re-evaluated at
// every step (docs/maths/dynamics.md#stiff-steps). Its step size is limited by
// accuracy only, not by the stiffness of rhs; each step costs n + 3 calls of rhs
// and one O(n³) factorisation, so it pays off on stiff problems of small n.
// It polls between the Jacobian's columns, between the factorisation's blocks
// (ttnn/dense_lu.hpp) and between the solves: a step at n = 20 001 is minutes.
// stats->rhs_calls counts the Jacobian's calls too. on_output and accept as for
// ode_solve (the last rhs call before either is at the state they concern).
std::vector<Eigen::VectorXd> ode_solve_rosenbrock(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                                  const std::vector<double>& times,
                                                  const OdeOptions& opt, const Poll& poll,
                                                  OdeStats* stats = nullptr,
                                                  const OdeOutput& on_output = nullptr,
                                                  const OdeAccept& accept = nullptr);

// How an ODE of this library is integrated: explicit Dormand–Prince, Rosenbrock
// 4(3), or automatic: Dormand–Prince until its steps are limited by stability
// (see StiffnessDetected), then Rosenbrock to the end — only when the system has
// at most `implicit_max_size` unknowns (a Rosenbrock step costs n + 3 rhs and an
// O(n³) LU, more than the explicit steps it saves at large n).
enum class OdeMethod { rk45, rosenbrock, automatic };

// An implicit integrator for the automatic switch: from y0 over `times`, with
// ode_solve's contract and the caller's rhs, poll and accept rule.
using OdeImplicit = std::function<std::vector<Eigen::VectorXd>(
    const Eigen::VectorXd& y0, const std::vector<double>& times, const OdeOptions& opt,
    OdeStats* stats, const OdeOutput& on_output)>;

// Dormand–Prince until its steps are limited by stability (StiffnessDetected),
// then `implicit` from the state reached to the end: ode_solve's contract over
// the whole span (outputs, max_steps counted over both parts). *stiff_from (if
// given) is the time of the switch, −1 if there was none.
std::vector<Eigen::VectorXd> ode_solve_switching(const OdeRhs& rhs, const OdeImplicit& implicit,
                                                 const Eigen::VectorXd& y0,
                                                 const std::vector<double>& times,
                                                 const OdeOptions& opt, const Poll& poll,
                                                 OdeStats* stats = nullptr,
                                                 const OdeOutput& on_output = nullptr,
                                                 const OdeAccept& accept = nullptr,
                                                 double* stiff_from = nullptr);

// ode_solve or ode_solve_rosenbrock, or the switch from the first to the second,
// by `method`; the same contract. *stiff_from as for ode_solve_switching.
std::vector<Eigen::VectorXd> ode_solve_by(OdeMethod method, const OdeRhs& rhs,
                                          const Eigen::VectorXd& y0,
                                          const std::vector<double>& times, const OdeOptions& opt,
                                          const Poll& poll, OdeStats* stats = nullptr,
                                          const OdeOutput& on_output = nullptr,
                                          const OdeAccept& accept = nullptr,
                                          double* stiff_from = nullptr,
                                          Eigen::Index implicit_max_size = 0);

// The linear algebra of a Rosenbrock-W step: W = I/(γh) − A for a matrix A that
// only approximates the Jacobian of rhs (a W-method's order conditions hold for
// any A) and may be kept from an earlier state.
struct WMatrix {
    // Make W for the product gamma_h = γ·h at state y. `fresh` asks for A to be
    // rebuilt at y; otherwise A may be the one of an earlier call.
    std::function<void(const Eigen::VectorXd& y, double gamma_h, bool fresh)> set;
    // x ← W⁻¹ x for the W of the last set().
    std::function<void(Eigen::VectorXd& x)> solve;
};

// The same contract (outputs, errors, polling, max_steps) by the Rosenbrock-W
// method ROS34PW2 of Rang & Angermann (2005): four stages, order 3 with an
// embedded order-2 estimate, for any A in W (docs/maths/dynamics.md#stiff-steps).
// A step costs 3 calls of rhs (4 when accepted) and four solves with W; A is
// rebuilt (fresh = true) after every rejected step and every `refresh_every`
// accepted ones (1: every step).
std::vector<Eigen::VectorXd> ode_solve_rosenbrock_w(const OdeRhs& rhs, const WMatrix& w,
                                                    const Eigen::VectorXd& y0,
                                                    const std::vector<double>& times,
                                                    const OdeOptions& opt, const Poll& poll,
                                                    OdeStats* stats = nullptr,
                                                    int refresh_every = 1);

}  // namespace ttnn
