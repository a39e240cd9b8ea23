#include "ttnn/flow.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>

#include "ttnn/local_basis.hpp"
#include "ttnn/loss.hpp"

namespace ttnn {

namespace {
// FlowMethod::automatic switches to the full Rosenbrock method up to this many
// unknowns (m ≤ 200); above, a Rosenbrock step's 2m + 4 right-hand sides and
// O(m³) LU cost more than the explicit steps they save, and it switches to the
// Rosenbrock-W steps with the banded a-block instead (cubic, ramp) or stays
// explicit (relu).
constexpr Eigen::Index auto_implicit_max_size = 401;

// Accepted steps between rebuilds of H(u) in the Rosenbrock-W path (it is also
// rebuilt after a rejection); the factorisation of DᵀD + 2γh H follows h at every
// step. A stale H costs no order (a W-method) and u moves at rate eps, so rebuilding
// every few steps leaves the step count as it is while saving most rebuilds, each
// worth about a right-hand side (bench/RESULTS.md, "Stiff gradient flow").
constexpr int w_refresh_every = 10;

// The flow's Rosenbrock-W solver: y = (a, u) ↦ solves with
// W = I/(γh) − blockdiag(−2G(u_ref), 0). The a-block W_aa = (I + 2γh G)/(γh) is
// the banded local-basis solve (ShiftedGramSolver); the u-block is I/(γh) (u is
// slow: its Jacobian −ε ∇²_u L is left out, as are the coupling blocks).
struct FlowW {
    FlowW(const Network& net, const Target& target) : ref(net), target(target) {}
    Network ref;  // u_ref: the state where H was built
    const Target& target;
    std::optional<ShiftedGramSolver> gram;
    double gamma_h = 0.0;

    void set(const Eigen::VectorXd& y, double gh, bool fresh) {
        const Eigen::Index m = ref.m();
        if (fresh || !gram) {
            ref.u = y.tail(m);
            gram.emplace(local_system(ref, target));
        }
        gamma_h = gh;
        if (gram->shift() != 2.0 * gh && !gram->factor(2.0 * gh)) {
            throw DivergenceError(0, "the implicit a-block could not be factorised (non-finite u)");
        }
    }
    void solve(Eigen::VectorXd& x) const {
        const Eigen::Index m = ref.m();
        x.head(m + 1) = gamma_h * gram->solve(x.head(m + 1));
        x.tail(m) *= gamma_h;
    }
};
}  // namespace

FlowResult gradient_flow(const Network& net, const Target& target, double eps,
                         double t_end, int snapshots, const OdeOptions& opt, const Poll& poll,
                         FlowMethod method, int threads) {
    const Eigen::Index m = net.m();
    Network work = net;  // reused by every right-hand side call
    const OdeRhs rhs = [&](const Eigen::VectorXd& y, Eigen::VectorXd& dy) {
        work.a = y.head(m + 1);
        work.u = y.tail(m);
        const L2Gradient g = l2_gradient(work, target, threads);
        dy.resize(y.size());
        dy.head(m + 1) = -g.grad_a;
        dy.tail(m) = -eps * g.grad_u;
    };
    Eigen::VectorXd y0(2 * m + 1);
    y0 << net.a, net.u;
    std::vector<double> times(snapshots);
    for (int k = 0; k < snapshots; ++k) times[k] = t_end * k / (snapshots - 1);
    times.back() = t_end;

    FlowResult res;
    std::vector<Eigen::VectorXd> ys;
    const bool windowed = is_windowed(net.act);
    if (method == FlowMethod::rosenbrock_w && !windowed) {
        throw std::invalid_argument(
            "method 'rosenbrock_w' needs a windowed activation (cubic or ramp): relu has no "
            "banded Gram matrix; use 'rosenbrock', 'rk45' or 'auto'");
    }
    FlowW flow_w(net, target);
    const WMatrix wm{[&](const Eigen::VectorXd& y, double gh, bool fresh) { flow_w.set(y, gh, fresh); },
                     [&](Eigen::VectorXd& x) { flow_w.solve(x); }};
    const bool small = y0.size() <= auto_implicit_max_size;
    if (method == FlowMethod::rosenbrock) {
        ys = ode_solve_rosenbrock(rhs, y0, times, opt, poll, &res.stats);
    } else if (method == FlowMethod::rosenbrock_w) {
        ys = ode_solve_rosenbrock_w(rhs, wm, y0, times, opt, poll, &res.stats, w_refresh_every);
    } else if (method == FlowMethod::rk45 || (!small && !windowed)) {
        ys = ode_solve(rhs, y0, times, opt, poll, &res.stats);
    } else {
        const std::unique_ptr<OdeStepper> implicit =
            small ? make_rosenbrock(rhs, poll) : make_rosenbrock_w(rhs, wm, w_refresh_every);
        ys = ode_solve_switching(rhs, *implicit, y0, times, opt, poll, &res.stats, nullptr, nullptr,
                                 &res.stiff_from);
    }
    res.t = Eigen::Map<const Eigen::VectorXd>(times.data(), snapshots);
    res.a.resize(snapshots, m + 1);
    res.u.resize(snapshots, m);
    res.l2.resize(snapshots);
    for (int k = 0; k < snapshots; ++k) {
        res.a.row(k) = ys[k].head(m + 1).transpose();
        res.u.row(k) = ys[k].tail(m).transpose();
        work.a = ys[k].head(m + 1);
        work.u = ys[k].tail(m);
        res.l2[k] = l2_error(work, target, threads);
    }
    return res;
}

}  // namespace ttnn
