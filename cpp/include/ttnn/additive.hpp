// The additive multi-D network of docs/maths/additive.md (E4, E5) and its full-batch
// gradient descent:
//   f(x) = [a_0] + Σ_{k=1..d} Σ_{j=1..m} a_jk σ_η(x_k − u_jk),  x ∈ R^d,
//   C(a, u) = ‖f(X) − y‖₂ / n   (Euclidean norm, not squared, the authors'), or
//   C(a, u) = ‖f(X) − y‖₂² / n  (the mean squared error; docs/maths/dynamics.md),
//   ∇C = c (f(X) − y)ᵀ J with c = 1 / (n ‖f(X) − y‖₂), resp. c = 2 / n,
//   a ← a − step_a ∇_a C,  u ← u − step_u ∇_u C   (simultaneous, from pre-step values).
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "ttnn/activation.hpp"
#include "ttnn/interrupt.hpp"

namespace ttnn {

using AdditiveMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct AdditiveNetwork {
    AdditiveMatrix a;  // (m, d): a(j, k) = a_jk
    AdditiveMatrix u;  // (m, d)
    double bias;       // a_0 (0 and frozen when !has_bias)
    bool has_bias;
    double eta;
    Activation act;

    AdditiveNetwork(AdditiveMatrix a, AdditiveMatrix u, double eta, Activation act,
                    bool has_bias, double bias);

    Eigen::Index m() const { return a.rows(); }
    Eigen::Index d() const { return a.cols(); }

    // f at the rows of X (n, d).
    Eigen::VectorXd operator()(const AdditiveMatrix& X) const;
};

// The full-batch criterion: the paper's norm (default) or the mean squared error.
enum class GdLoss { norm, mse };

GdLoss parse_gd_loss(const std::string& name);

struct AdditiveGdOptions {
    double step_a = 1.0;
    double step_u = 1.0;
    std::int64_t epochs = 0;
    std::int64_t snapshots = 2;  // epochs as in snapshot_steps(epochs, snapshots)
    GdLoss loss = GdLoss::norm;
};

struct AdditiveGdResult {
    std::vector<std::int64_t> epochs;  // (K,)
    AdditiveMatrix a;                  // (K, m·d), row k is a (m, d) in row-major order
    AdditiveMatrix u;                  // (K, m·d)
    Eigen::VectorXd bias;              // (K,)
    Eigen::VectorXd criterion;         // (K,) C at each snapshot
};

// The criterion C and its gradient (grad_a, grad_u of shape (m, d),
// grad_bias), by the same sweep as the GD run. For the norm, when f(X) = y
// exactly the gradient is set to 0 (the norm is not differentiable there).
double additive_criterion_gradient(const AdditiveNetwork& net, const AdditiveMatrix& X,
                                   const Eigen::VectorXd& y, AdditiveMatrix& grad_a,
                                   AdditiveMatrix& grad_u, double& grad_bias,
                                   GdLoss loss = GdLoss::norm);

// Full-batch GD on the fixed batch (X, y) for opt.epochs epochs. Per epoch,
// O(n·d + m·d·log n + window terms) for cubic and ramp; O(n·d·m) for relu.
// Throws DivergenceError (with the epoch) on non-finite values; `poll` is
// called every few million operations.
AdditiveGdResult additive_gd(const AdditiveNetwork& net, const AdditiveMatrix& X,
                             const Eigen::VectorXd& y, const AdditiveGdOptions& opt,
                             const Poll& poll);

// R independent runs in parallel over runs (OpenMP). Run i uses nets[i], the
// data (X[i], y[i]) (or (X[0], y[0]) when one data set is given for all) and
// opts[i]; results do not depend on the number of threads. If runs fail, the
// error of the lowest-numbered one is rethrown after all runs stopped, or,
// with `errors`, every run's error is returned there (see parallel_runs).
std::vector<AdditiveGdResult> additive_gd_ensemble(const std::vector<AdditiveNetwork>& nets,
                                                   const std::vector<AdditiveMatrix>& X,
                                                   const std::vector<Eigen::VectorXd>& y,
                                                   const std::vector<AdditiveGdOptions>& opts,
                                                   int threads, const Poll& poll,
                                                   std::vector<std::exception_ptr>* errors =
                                                       nullptr);

}  // namespace ttnn
