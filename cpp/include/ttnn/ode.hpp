// Adaptive Dormand–Prince 5(4) integration with standard error control, shared
// by the gradient flow and the finite-η limit (docs/maths/dynamics.md#gradient-flow). Their right-hand
// sides are only piecewise smooth (σ is C¹), which error control absorbs by
// shrinking steps near the kinks instead of needing them located.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <stdexcept>
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

// ode_solve or ode_solve_rosenbrock, or the automatic switch between them, by
// `method`; the same contract. *stiff_from (if given) is the time at which the
// automatic method went implicit, −1 if it did not.
std::vector<Eigen::VectorXd> ode_solve_by(OdeMethod method, const OdeRhs& rhs,
                                          const Eigen::VectorXd& y0,
                                          const std::vector<double>& times, const OdeOptions& opt,
                                          const Poll& poll, OdeStats* stats = nullptr,
                                          const OdeOutput& on_output = nullptr,
                                          const OdeAccept& accept = nullptr,
                                          double* stiff_from = nullptr,
                                          Eigen::Index implicit_max_size = 0);

}  // namespace ttnn
