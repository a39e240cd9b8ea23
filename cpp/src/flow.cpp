#include "ttnn/flow.hpp"

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

    FlowResult res;
    const auto ys = method == FlowMethod::rosenbrock
                        ? ode_solve_rosenbrock(rhs, y0, times, opt, poll, &res.stats)
                        : ode_solve(rhs, y0, times, opt, poll, &res.stats);
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
