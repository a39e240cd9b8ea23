#include "ttnn/limit.hpp"

#include "ttnn/gram.hpp"
#include "ttnn/loss.hpp"

namespace ttnn {

LimitResult finite_eta_limit(const Network& net, const PiecewiseConstant& target, double tau_end,
                             double ridge, int snapshots, const OdeOptions& opt, const Poll& poll) {
    const Eigen::Index m = net.m();
    Network work = net;
    const auto project = [&](const Eigen::VectorXd& u) {
        work.u = u;
        work.a = optimal_outer(gram_system(work, target), ridge);
    };
    const OdeRhs rhs = [&](const Eigen::VectorXd& u, Eigen::VectorXd& du) {
        project(u);
        du = -l2_gradient(work, target).grad_u;
    };
    std::vector<double> times(snapshots);
    for (int k = 0; k < snapshots; ++k) times[k] = tau_end * k / (snapshots - 1);
    times.back() = tau_end;

    LimitResult res;
    const auto us = ode_solve(rhs, net.u, times, opt, poll, &res.stats);
    res.tau = Eigen::Map<const Eigen::VectorXd>(times.data(), snapshots);
    res.a.resize(snapshots, m + 1);
    res.u.resize(snapshots, m);
    res.l2.resize(snapshots);
    for (int k = 0; k < snapshots; ++k) {
        project(us[k]);
        res.a.row(k) = work.a.transpose();
        res.u.row(k) = us[k].transpose();
        res.l2[k] = l2_error(work, target);
    }
    return res;
}

}  // namespace ttnn
