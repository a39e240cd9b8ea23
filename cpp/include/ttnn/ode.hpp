// The ODE driver of the gradient flow, the finite-η limit and the circle PDE
// (docs/maths/dynamics.md#gradient-flow): one loop (output times, step-size
// control, max_steps, divergence checks, Ctrl-C polling, progress) for every
// step method, each an OdeStepper: Dormand–Prince 5(4), Rosenbrock 4(3) and the
// Rosenbrock-W method ROS34PW2. Their right-hand sides are only piecewise smooth
// (σ is C¹), which error control absorbs by shrinking steps near the kinks
// instead of needing them located.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ttnn/interrupt.hpp"

namespace ttnn {

using OdeRhs = std::function<void(const Eigen::VectorXd& y, Eigen::VectorXd& dy)>;
// Called with k as soon as the k-th output is stored. The most recent call of
// rhs was at exactly that output state, so a caller can keep by-products of
// that evaluation instead of recomputing them.
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

// The first trial step of every method: 1% of |y| / |y'| in the error test's
// norm (Hairer–Nørsett–Wanner's heuristic, simplified), 1e-6 when either is
// negligible; error control corrects it from there.
double ode_initial_step(const Eigen::VectorXd& y, const Eigen::VectorXd& f,
                        const OdeOptions& opt);

// The answer for a system with no unknowns (the limit of a network without
// neurons): y0 at every time, rhs called once and every output reported so
// that the caller's by-products exist.
std::vector<Eigen::VectorXd> ode_without_unknowns(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                                  const std::vector<double>& times,
                                                  const OdeOutput& on_output);

// One step method of the driver. The driver owns t, y, h and the outputs; a
// stepper owns its stages and whatever it keeps from step to step (a Jacobian,
// its factorisation, W's age). An attempt from (y, h) leaves the proposal in
// y_new and its local error estimate in err; the driver measures err, and on
// acceptance swaps y_new into y and f_new into f.
class OdeStepper {
public:
    // How the step size follows the error estimate e of a step (local error
    // ~ h^order): a rejected step retries with h·max(0.2, 0.9 e^(−1/order)); an
    // accepted one goes on with h·clamp(0.9 e^(−α) ê^β, 0.2, 5), ê the previous
    // accepted e, α = 1/order and β = 0 (elementary control) or, with pi,
    // α = 0.7/order and β = 0.4/order (PI control, Hairer & Wanner II §IV.2).
    // A non-finite proposal retries with h/10, down to 1e-300 under
    // shrink_to_underflow (an explicit step is cheap), else down to the floor
    // 1e-14·max(1, |t|) of a rejected step.
    struct Control {
        int order;
        bool pi;
        bool shrink_to_underflow;
    };

    OdeStepper(const OdeRhs& rhs, Control control) : rhs(rhs), control(control) {}
    virtual ~OdeStepper() = default;
    OdeStepper(const OdeStepper&) = delete;
    OdeStepper& operator=(const OdeStepper&) = delete;

    const OdeRhs& rhs;
    const Control control;
    Eigen::VectorXd f;      // rhs at the current state
    Eigen::VectorXd y_new;  // the last attempt's proposal
    Eigen::VectorXd f_new;  // rhs at y_new, once evaluate() has run
    Eigen::VectorXd err;    // the last attempt's local error estimate

    // Take y as the state the steps start from (at the start, and where the
    // driver switches to this stepper): f = rhs(y), nothing kept from before.
    void start(const Eigen::VectorXd& y, OdeStats& st) {
        restart(y.size());
        rhs(y, f);
        ++st.rhs_calls;
    }
    // Fill y_new and err for a step of size h from y (f = rhs(y)).
    virtual void attempt(const Eigen::VectorXd& y, double h, OdeStats& st) = 0;
    // The proposal passed the error test: f_new = rhs(y_new), which is then
    // the most recent call of rhs (a first-same-as-last method has it already).
    virtual void evaluate(OdeStats& st) {
        rhs(y_new, f_new);
        ++st.rhs_calls;
    }
    // The proposal of size h is taken (called before y_new becomes the state).
    virtual void accepted(double h) { (void)h; }
    // The attempt is retried shorter from the same state.
    virtual void rejected() {}
    // Whether its steps are limited by stability rather than accuracy (only
    // a method that watches for it says so; see ode_solve_switching).
    virtual bool stiff() const { return false; }

protected:
    // Size the work vectors for n unknowns and forget any kept state.
    virtual void restart(Eigen::Index n) { (void)n; }
};

// Integrates y' = rhs(y) (autonomous; rhs is the stepper's) from y0 at
// times[0] and returns y at each of `times` (increasing), stepping exactly onto
// each of them. Throws DivergenceError (step = accepted steps) if the state
// becomes non-finite or the step size underflows, Interrupted when poll() says
// so (polled every few milliseconds; each stored output counts one unit of
// progress), StepLimitError past opt.max_steps (accepted + rejected steps).
// When `when_stiff` is given and the stepper reports stiff() after an
// accepted step, the integration goes on from there to the end by
// `when_stiff` (restarted: a fresh rhs, initial step and controller memory);
// *stiff_from (if given) is the time of that switch, −1 if there was none.
std::vector<Eigen::VectorXd> ode_integrate(OdeStepper& stepper, const Eigen::VectorXd& y0,
                                           const std::vector<double>& times,
                                           const OdeOptions& opt, const Poll& poll,
                                           OdeStats* stats = nullptr,
                                           const OdeOutput& on_output = nullptr,
                                           const OdeAccept& accept = nullptr,
                                           OdeStepper* when_stiff = nullptr,
                                           double* stiff_from = nullptr);

// Dormand–Prince 5(4) (FSAL, PI step control). With detect_stiffness, stiff()
// is true once h·ρ exceeded 3.25 (about the boundary of the method's stability
// region on the negative axis) on 15 accepted steps without 6 consecutive ones
// below it, with ρ the estimate |f(y₅) − f(stage 6)| / |y₅ − stage 6| of the
// Jacobian's dominant eigenvalue (Hairer, Nørsett & Wanner I, §II.10).
std::unique_ptr<OdeStepper> make_dormand_prince(const OdeRhs& rhs, bool detect_stiffness = false);

// A linearly implicit Rosenbrock method of order 4 with an embedded order-3
// error estimate (Shampine's four-stage A-stable parameter set, Hairer & Wanner
// II §IV.7) and the full Jacobian of rhs by forward differences, dense LU,
// re-evaluated at every accepted state (docs/maths/dynamics.md#stiff-steps).
// Its step size is limited by accuracy only, not by the stiffness of rhs; a
// step costs 3 calls of rhs (n more for a new Jacobian) and one O(n³)
// factorisation, so it pays off on stiff problems of small n. It polls between
// the Jacobian's columns, between the factorisation's blocks
// (ttnn/dense_lu.hpp) and between the solves: a step at n = 20 001 is minutes.
std::unique_ptr<OdeStepper> make_rosenbrock(const OdeRhs& rhs, const Poll& poll);

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

// The Rosenbrock-W method ROS34PW2 of Rang & Angermann (2005): four stages,
// order 3 with an embedded order-2 estimate, for any A in W
// (docs/maths/dynamics.md#stiff-steps). A step costs 3 calls of rhs (4 when
// accepted) and four solves with W; A is rebuilt (fresh = true) after every
// rejected step and every `refresh_every` accepted ones (1: every step).
std::unique_ptr<OdeStepper> make_rosenbrock_w(const OdeRhs& rhs, const WMatrix& w,
                                              int refresh_every = 1);

// ode_integrate by Dormand–Prince.
std::vector<Eigen::VectorXd> ode_solve(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                       const std::vector<double>& times, const OdeOptions& opt,
                                       const Poll& poll, OdeStats* stats = nullptr,
                                       const OdeOutput& on_output = nullptr,
                                       const OdeAccept& accept = nullptr);

// ode_integrate by Rosenbrock 4(3) (make_rosenbrock). stats->rhs_calls counts
// the Jacobian's calls too.
std::vector<Eigen::VectorXd> ode_solve_rosenbrock(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                                  const std::vector<double>& times,
                                                  const OdeOptions& opt, const Poll& poll,
                                                  OdeStats* stats = nullptr,
                                                  const OdeOutput& on_output = nullptr,
                                                  const OdeAccept& accept = nullptr);

// ode_integrate by Rosenbrock-W (make_rosenbrock_w), without output or accept
// hooks.
std::vector<Eigen::VectorXd> ode_solve_rosenbrock_w(const OdeRhs& rhs, const WMatrix& w,
                                                    const Eigen::VectorXd& y0,
                                                    const std::vector<double>& times,
                                                    const OdeOptions& opt, const Poll& poll,
                                                    OdeStats* stats = nullptr,
                                                    int refresh_every = 1);

// How an ODE of this library is integrated: explicit Dormand–Prince, Rosenbrock
// 4(3), or automatic: Dormand–Prince until its steps are limited by stability,
// then Rosenbrock to the end — only when the system has at most
// `implicit_max_size` unknowns (a Rosenbrock step costs n + 3 rhs and an O(n³)
// LU, more than the explicit steps it saves at large n).
enum class OdeMethod { rk45, rosenbrock, automatic };

// Dormand–Prince until its steps are limited by stability, then `implicit` from
// the state reached to the end (ode_integrate's when_stiff): outputs and
// max_steps over the whole span, except that the implicit part always gets at
// least one step. *stiff_from as for ode_integrate.
std::vector<Eigen::VectorXd> ode_solve_switching(const OdeRhs& rhs, OdeStepper& implicit,
                                                 const Eigen::VectorXd& y0,
                                                 const std::vector<double>& times,
                                                 const OdeOptions& opt, const Poll& poll,
                                                 OdeStats* stats = nullptr,
                                                 const OdeOutput& on_output = nullptr,
                                                 const OdeAccept& accept = nullptr,
                                                 double* stiff_from = nullptr);

// ode_solve or ode_solve_rosenbrock, or the switch from the first to the second,
// by `method`; the same contract. *stiff_from as for ode_integrate.
std::vector<Eigen::VectorXd> ode_solve_by(OdeMethod method, const OdeRhs& rhs,
                                          const Eigen::VectorXd& y0,
                                          const std::vector<double>& times, const OdeOptions& opt,
                                          const Poll& poll, OdeStats* stats = nullptr,
                                          const OdeOutput& on_output = nullptr,
                                          const OdeAccept& accept = nullptr,
                                          double* stiff_from = nullptr,
                                          Eigen::Index implicit_max_size = 0);

}  // namespace ttnn
