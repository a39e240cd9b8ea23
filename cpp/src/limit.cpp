#include "ttnn/limit.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "ttnn/gram.hpp"
#include "ttnn/loss.hpp"

namespace ttnn {

LimitResult finite_eta_limit(const Network& net, const Target& target, double tau_end,
                             double ridge, int snapshots, const OdeOptions& opt, const Poll& poll,
                             OdeMethod method) {
    const Eigen::Index m = net.m();
    Network work = net;
    // By-products of the most recent right-hand side: the condition estimate
    // of a*(u) and the objective J(u) = L(a*(u), u) + ridge ‖a*(u)‖², of which
    // the limit is the gradient flow (envelope theorem).
    double last_cond = 1.0, last_J = 0.0, last_reg = tikhonov(m);
    const auto project = [&](const Eigen::VectorXd& u) {
        work.u = u;
        const OuterSolve s = solve_outer(work, target, ridge, poll);
        work.a = s.a;
        last_cond = s.cond;
        last_reg = s.reg;
    };
    std::int64_t accepted = 0;  // for DivergenceError's step
    const OdeRhs rhs = [&](const Eigen::VectorXd& u, Eigen::VectorXd& du) {
        // One right-hand side can cost a dense O(m³) factorisation (relu at large
        // m), which polls inside; a step takes six, so poll here too. poll() is
        // two atomics and a clock read, negligible next to even the cheapest a*(u).
        if (poll && poll()) throw Interrupted{};
        project(u);
        const L2Gradient g = l2_gradient(work, target);
        // J is the quantity the limit is the gradient flow of: with the fixed
        // Tikhonov δ of solve_outer, min_a L + (ridge + δ)‖a‖² (envelope theorem).
        last_J = g.loss + (ridge + last_reg) * work.a.squaredNorm();
        if (!work.a.allFinite() || !std::isfinite(last_J) || !g.grad_u.allFinite()) {
            // Finite u, yet a*(u) or its loss overflow (target values near the
            // float64 maximum): the state is not representable, stop now rather
            // than return ±inf or NaN.
            throw DivergenceError(accepted + 1,
                                  "a*(u) or its loss is not finite (the target's values are too "
                                  "large for float64 arithmetic in the normal equations; rescale "
                                  "the target)");
        }
        du = -g.grad_u;
    };
    // J never increases along the exact limit. A step that raises it beyond
    // rounding (a*(u) jumping as neurons meet, or an error-controlled step
    // that overshoots where the field is stiff) is rejected and halved
    // (docs/maths/local_basis.md, "When neurons meet").
    double J_now = std::numeric_limits<double>::quiet_NaN();
    const OdeAccept accept = [&](const Eigen::VectorXd&) {
        if (std::isnan(J_now)) return true;
        // Rounding of L: f = Σ a_j φ_j carries an error of order u‖a‖₁
        // (large when a*(u) has huge opposite coefficients), so L one of order
        // 2√L u‖a‖₁; ten times that, plus a relative 1e-13, is the slack.
        const double fa = 1.1e-16 * work.a.lpNorm<1>();
        const double slack = 1e-13 * J_now + 10.0 * (2.0 * std::sqrt(J_now) * fa + fa * fa);
        if (last_J <= J_now + slack) {
            J_now = last_J;
            ++accepted;
            return true;
        }
        return false;
    };
    std::vector<double> times(snapshots);
    for (int k = 0; k < snapshots; ++k) times[k] = tau_end * k / (snapshots - 1);
    times.back() = tau_end;

    LimitResult res;
    res.a.resize(snapshots, m + 1);
    res.cond.resize(snapshots);
    // The last right-hand side before each output was evaluated at exactly the
    // output's u (FSAL), so a*(u) there is already known: keep it rather than
    // pay a second solve per snapshot.
    Eigen::MatrixXd kept_u(snapshots, m);
    const OdeOutput keep = [&](std::size_t k) {
        if (k == 0) J_now = last_J;
        kept_u.row(k) = work.u.transpose();
        res.a.row(k) = work.a.transpose();
        res.cond[k] = last_cond;
    };
    std::vector<Eigen::VectorXd> us;
    try {
        OdeOptions o = opt;
        o.time_name = "tau";
        // "auto" goes implicit only for m <= 100: the limit does get stiff late
        // (neurons settling on the breaks, curvature ~ Δ²/η), but an implicit
        // step costs m + 3 right-hand sides, which the longer steps repay at
        // small m and not at large m (bench/RESULTS.md, "Large m: banded a*(u)
        // and the finite-η limit", the integrators at m = 50 and 200).
        us = ode_solve_by(method, rhs, net.u, times, o, poll, &res.stats, keep, accept, nullptr,
                          100);
    } catch (const DivergenceError& e) {
        if (!(last_cond > 1e8) || !std::isfinite(last_cond) || !work.a.allFinite()) throw;
        // The step size collapsed at an ill-conditioned a*(u) (neurons nearly
        // meeting, where J is continuous but very steep at small δ).
        char cond[32];
        std::snprintf(cond, sizeof cond, "%.3g", last_cond);
        throw DivergenceError(e.step, std::string(e.what()) +
                                          " (a*(u) is ill-conditioned there, condition estimate " +
                                          cond +
                                          ": neurons are meeting; a larger ridge, e.g. 1e-10, "
                                          "smooths the meeting; see docs/maths/local_basis.md)");
    }
    res.tau = Eigen::Map<const Eigen::VectorXd>(times.data(), snapshots);
    res.u.resize(snapshots, m);
    res.l2.resize(snapshots);
    for (int k = 0; k < snapshots; ++k) {
        if (!(kept_u.row(k).transpose().array() == us[k].array()).all()) {
            project(us[k]);  // not expected; recompute rather than trust it
            res.a.row(k) = work.a.transpose();
            res.cond[k] = last_cond;
        }
        work.u = us[k];
        work.a = res.a.row(k).transpose();
        res.u.row(k) = us[k].transpose();
        res.l2[k] = l2_error(work, target);
    }
    if (!res.a.allFinite() || !res.l2.allFinite()) {
        throw DivergenceError(accepted, "a*(u) or its loss is not finite at a snapshot (the "
                                        "target's values are too large for float64 arithmetic; "
                                        "rescale the target)");
    }
    return res;
}

}  // namespace ttnn
