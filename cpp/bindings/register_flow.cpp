#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "interrupt.hpp"
#include "register.hpp"
#include "ttnn/flow.hpp"
#include "ttnn/gram.hpp"
#include "ttnn/limit.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

// The gradient flow, the finite-η limit and the Gram system they share.
namespace {
// `method=` of the flow and the limit (checked in Python first; this guards the core).
OdeMethod ode_method(const std::string& method) {
    if (method == "rk45") return OdeMethod::rk45;
    if (method == "rosenbrock") return OdeMethod::rosenbrock;
    if (method == "auto") return OdeMethod::automatic;
    throw py::value_error("method must be 'rk45', 'rosenbrock' or 'auto', got '" + method + "'");
}
}  // namespace

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
    m.def(
        "gradient_flow",
        [](const Network& net, const Target& target, double eps, double t_end,
           int snapshots, double rtol, double atol, std::int64_t max_steps,
           const py::object& progress, const std::string& method) {
            const OdeMethod how = ode_method(method);
            const FlowMethod fm = how == OdeMethod::rosenbrock  ? FlowMethod::rosenbrock
                                  : how == OdeMethod::automatic ? FlowMethod::automatic
                                                                : FlowMethod::rk45;
            return run_without_gil(
                [&](const Poll& poll) {
                    return gradient_flow(net, target, eps, t_end, snapshots,
                                         OdeOptions{rtol, atol, max_steps}, poll, fm);
                },
                progress, snapshots - 1);
        },
        py::arg("net"), py::arg("target"), py::arg("eps"), py::arg("t_end"), py::arg("snapshots"),
        py::arg("rtol"), py::arg("atol"), py::arg("max_steps") = 0,
        py::arg("progress") = py::none(), py::arg("method") = "rk45");
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
        py::arg("progress") = py::none(), py::arg("method") = "rk45");
}

}  // namespace ttnn::bindings
