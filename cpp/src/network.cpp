#include "ttnn/network.hpp"

#include <cmath>
#include <stdexcept>

namespace ttnn {

Network::Network(Eigen::VectorXd a_, Eigen::VectorXd u_, double eta_, Activation act_)
    : a(std::move(a_)), u(std::move(u_)), eta(eta_), act(act_) {
    if (a.size() != u.size() + 1) throw std::invalid_argument("len(a) must be len(u) + 1");
    if (!(eta > 0.0) || !std::isfinite(eta)) throw std::invalid_argument("eta must be > 0");
    if (!a.allFinite()) throw std::invalid_argument("a must be finite");
    if (!u.allFinite()) throw std::invalid_argument("u must be finite");
}

double Network::operator()(double x) const {
    return dispatch_activation(act, [&](auto A) {
        double f = a[0];
        for (Eigen::Index j = 0; j < m(); ++j) f += a[j + 1] * sigma_eta<A.value>(x - u[j], eta);
        return f;
    });
}

Eigen::VectorXd Network::operator()(const Eigen::VectorXd& x) const {
    Eigen::VectorXd f(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) f[i] = (*this)(x[i]);
    return f;
}

void Network::gradient(double x, Eigen::VectorXd& grad_a, Eigen::VectorXd& grad_u) const {
    grad_a.resize(m() + 1);
    grad_u.resize(m());
    grad_a[0] = 1.0;
    for (Eigen::Index j = 0; j < m(); ++j) {
        grad_a[j + 1] = sigma_eta(act, x - u[j], eta);
        grad_u[j] = -a[j + 1] * dsigma_eta(act, x - u[j], eta);
    }
}

}  // namespace ttnn
