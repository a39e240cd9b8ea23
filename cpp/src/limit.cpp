#include "ttnn/limit.hpp"

#include "ttnn/gram.hpp"
#include "ttnn/loss.hpp"

namespace ttnn {

LimitResult finite_eta_limit(const Network& net, const Target& target, double tau_end,
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
    res.a.resize(snapshots, m + 1);
    // The last right-hand side before each output was evaluated at exactly the
    // output's u (FSAL), so a*(u) there is already known: keep it rather than
    // pay a second O(m³) solve per snapshot.
    Eigen::MatrixXd kept_u(snapshots, m);
    const OdeOutput keep = [&](std::size_t k) {
        kept_u.row(k) = work.u.transpose();
        res.a.row(k) = work.a.transpose();
    };
    const auto us = ode_solve(rhs, net.u, times, opt, poll, &res.stats, keep);
    res.tau = Eigen::Map<const Eigen::VectorXd>(times.data(), snapshots);
    res.u.resize(snapshots, m);
    res.l2.resize(snapshots);
    for (int k = 0; k < snapshots; ++k) {
        if (!(kept_u.row(k).transpose().array() == us[k].array()).all()) {
            project(us[k]);  // not expected; recompute rather than trust it
            res.a.row(k) = work.a.transpose();
        }
        work.u = us[k];
        work.a = res.a.row(k).transpose();
        res.u.row(k) = us[k].transpose();
        res.l2[k] = l2_error(work, target);
    }
    return res;
}

}  // namespace ttnn
