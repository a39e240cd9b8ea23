#include <cmath>

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "interrupt.hpp"
#include "methods.hpp"
#include "register.hpp"
#include "ttnn/dense_lu.hpp"
#include "ttnn/flow.hpp"
#include "ttnn/gram.hpp"
#include "ttnn/limit.hpp"
#include "ttnn/local_basis.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

// The gradient flow, the finite-η limit and the Gram system they share.

void register_flow(py::module_& m) {
    m.def(
        "gram_system",
        [](const Network& net, const Target& target) {
            GramSystem s = gram_system(net, target);
            return py::make_tuple(s.G, s.b);
        },
        py::arg("net"), py::arg("target"));
    m.def(
        "optimal_outer",
        [](const Network& net, const Target& target, double ridge) {
            return optimal_outer(gram_system(net, target), ridge);
        },
        py::arg("net"), py::arg("target"), py::arg("ridge"));
    // a*(u) by the automatic path, with its condition estimate and whether the
    // banded local basis was used (docs/maths/local_basis.md).
    m.def(
        "solve_outer",
        [](const Network& net, const Target& target, double ridge) {
            const OuterSolve s = solve_outer(net, target, ridge);
            return py::make_tuple(s.a, s.cond, s.banded);
        },
        py::arg("net"), py::arg("target"), py::arg("ridge"));
    // x = (I + c G(u))⁻¹ r by the banded local-basis solve of the Rosenbrock-W
    // flow (docs/maths/local_basis.md#implicit-steps); cubic and ramp only.
    m.def(
        "shifted_gram_solve",
        [](const Network& net, const Target& target, double c, const Eigen::VectorXd& r) {
            if (!is_windowed(net.act)) {
                throw py::value_error("shifted_gram_solve needs a windowed activation (cubic or ramp)");
            }
            if (!(c >= 0.0) || !std::isfinite(c)) throw py::value_error("c must be finite and >= 0");
            if (r.size() != net.m() + 1) throw py::value_error("r must have m + 1 entries");
            ShiftedGramSolver solver(local_system(net, target));
            if (!solver.factor(c)) throw py::value_error("DᵀD + c H could not be factorised");
            return solver.solve(r);
        },
        py::arg("net"), py::arg("target"), py::arg("c"), py::arg("r"));
    // The interruptible dense LU of the Rosenbrock steps (ttnn/dense_lu.hpp), for
    // its tests: (L and U packed, 0-based row interchanges, A⁻¹ b). Ctrl-C stops it.
    m.def(
        "dense_lu",
        [](const Eigen::MatrixXd& a, const Eigen::VectorXd& b) {
            if (a.rows() != a.cols()) throw py::value_error("a must be square");
            if (b.size() != a.rows()) throw py::value_error("b must have a.shape[0] entries");
            DenseLU lu;
            const Eigen::VectorXd x = run_without_gil([&](const Poll& poll) {
                if (!lu.compute(a, poll)) throw Interrupted{};
                return lu.solve(b);
            });
            std::vector<std::int64_t> piv(lu.pivots().begin(), lu.pivots().end());
            return py::make_tuple(lu.packed(), piv, x);
        },
        py::arg("a"), py::arg("b"));
    m.def(
        "gradient_flow",
        [](const Network& net, const Target& target, double eps, double t_end,
           int snapshots, double rtol, double atol, std::int64_t max_steps,
           const py::object& progress, const std::string& method, int threads) {
            const FlowMethod fm = flow_method(method);
            return run_without_gil(
                [&](const Poll& poll) {
                    return gradient_flow(net, target, eps, t_end, snapshots,
                                         OdeOptions{rtol, atol, max_steps}, poll, fm, threads);
                },
                progress, snapshots - 1);
        },
        py::arg("net"), py::arg("target"), py::arg("eps"), py::arg("t_end"), py::arg("snapshots"),
        py::arg("rtol"), py::arg("atol"), py::arg("max_steps") = 0,
        py::arg("progress") = py::none(), py::arg("method") = "auto", py::arg("threads") = 1);
    m.def(
        "finite_eta_limit",
        [](const Network& net, const Target& target, double tau_end, double ridge,
           int snapshots, double rtol, double atol, std::int64_t max_steps,
           const py::object& progress, const std::string& method) {
            const OdeMethod how = ode_method(method);
            return run_without_gil(
                [&](const Poll& poll) {
                    return finite_eta_limit(net, target, tau_end, ridge, snapshots,
                                         OdeOptions{rtol, atol, max_steps}, poll, how);
                },
                progress, snapshots - 1);
        },
        py::arg("net"), py::arg("target"), py::arg("tau_end"), py::arg("ridge"),
        py::arg("snapshots"), py::arg("rtol"), py::arg("atol"), py::arg("max_steps") = 0,
        py::arg("progress") = py::none(), py::arg("method") = "auto");
}

}  // namespace ttnn::bindings
