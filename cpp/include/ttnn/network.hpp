// The shallow network f(x; a, u) = a_0 + Σ_j a_j σ_η(x − u_j) (docs/maths/model.md#the-network).
#pragma once

#include <Eigen/Core>

#include "ttnn/activation.hpp"

namespace ttnn {

struct Network {
    Eigen::VectorXd a;  // m + 1 entries, a[0] is the bias
    Eigen::VectorXd u;  // m neuron positions
    double eta;
    Activation act;

    Network(Eigen::VectorXd a, Eigen::VectorXd u, double eta, Activation act);

    Eigen::Index m() const { return u.size(); }

    double operator()(double x) const;
    Eigen::VectorXd operator()(const Eigen::VectorXd& x) const;

    // Per-sample gradient at x: ∂f/∂a_0 = 1, ∂f/∂a_j = σ_η(x − u_j),
    // ∂f/∂u_j = −a_j σ′_η(x − u_j).
    void gradient(double x, Eigen::VectorXd& grad_a, Eigen::VectorXd& grad_u) const;
};

}  // namespace ttnn
