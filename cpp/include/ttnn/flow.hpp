// Two-timescale gradient flow (docs/maths/dynamics.md#gradient-flow): da/dt = −∇_a L, du/dt = −ε ∇_u L,
// with the exact gradient, integrated by adaptive Dormand–Prince 5(4) or, for stiff
// flows, by the Rosenbrock 4(3) or the Rosenbrock-W method of ode.hpp.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "ttnn/interrupt.hpp"
#include "ttnn/network.hpp"
#include "ttnn/ode.hpp"
#include "ttnn/target.hpp"

namespace ttnn {

struct FlowResult {
    Eigen::VectorXd t;  // K snapshot times, evenly spaced in [0, t_end]
    Eigen::MatrixXd a;  // K × (m + 1)
    Eigen::MatrixXd u;  // K × m
    Eigen::VectorXd l2;  // K
    OdeStats stats;
    double stiff_from = -1.0;  // FlowMethod::automatic: when it went implicit (−1: never)
};

// rosenbrock_w: ROS34PW2 with W = I/(γh) − blockdiag(−2G(u), 0), the a-block
// solved in the banded local basis (cubic and ramp only; docs/maths/dynamics.md#stiff-steps).
// automatic: Dormand–Prince until its steps are limited by stability (see
// StiffnessDetected), then, to the end, Rosenbrock 4(3) for m ≤ 200 and
// rosenbrock_w for a windowed activation at m > 200 (relu at m > 200 stays explicit).
// `threads`: for each right-hand side's l2_gradient (loss.hpp).
enum class FlowMethod { rk45, rosenbrock, automatic, rosenbrock_w };

FlowResult gradient_flow(const Network& net, const Target& target, double eps,
                         double t_end, int snapshots, const OdeOptions& opt, const Poll& poll,
                         FlowMethod method = FlowMethod::automatic, int threads = 1);

}  // namespace ttnn
