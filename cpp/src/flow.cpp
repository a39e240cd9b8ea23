#include "ttnn/flow.hpp"

#include <algorithm>
#include <cstddef>

#include "ttnn/loss.hpp"

namespace ttnn {

FlowResult gradient_flow(const Network& net, const Target& target, double eps,
                         double t_end, int snapshots, const OdeOptions& opt, const Poll& poll,
                         FlowMethod method) {
    const Eigen::Index m = net.m();
    Network work = net;  // reused by every right-hand side call
    const OdeRhs rhs = [&](const Eigen::VectorXd& y, Eigen::VectorXd& dy) {
        work.a = y.head(m + 1);
        work.u = y.tail(m);
        const L2Gradient g = l2_gradient(work, target);
        dy.resize(y.size());
        dy.head(m + 1) = -g.grad_a;
        dy.tail(m) = -eps * g.grad_u;
    };
    Eigen::VectorXd y0(2 * m + 1);
    y0 << net.a, net.u;
    std::vector<double> times(snapshots);
    for (int k = 0; k < snapshots; ++k) times[k] = t_end * k / (snapshots - 1);
    times.back() = t_end;

    // "auto" stays explicit above m = 200 (401 unknowns): at the paper's η the
    // stiffness there is λ_max(2G) ∝ m, and an implicit step's 2m + 4 right-hand
    // sides and O(m³) LU cost more than the explicit steps they save.
    constexpr Eigen::Index implicit_max_size = 401;
    FlowResult res;
    const OdeMethod how = method == FlowMethod::rosenbrock  ? OdeMethod::rosenbrock
                          : method == FlowMethod::automatic ? OdeMethod::automatic
                                                            : OdeMethod::rk45;
    const std::vector<Eigen::VectorXd> ys =
        ode_solve_by(how, rhs, y0, times, opt, poll, &res.stats, nullptr, nullptr,
                     &res.stiff_from, implicit_max_size);
    res.t = Eigen::Map<const Eigen::VectorXd>(times.data(), snapshots);
    res.a.resize(snapshots, m + 1);
    res.u.resize(snapshots, m);
    res.l2.resize(snapshots);
    for (int k = 0; k < snapshots; ++k) {
        res.a.row(k) = ys[k].head(m + 1).transpose();
        res.u.row(k) = ys[k].tail(m).transpose();
        work.a = ys[k].head(m + 1);
        work.u = ys[k].tail(m);
        res.l2[k] = l2_error(work, target);
    }
    return res;
}

}  // namespace ttnn
