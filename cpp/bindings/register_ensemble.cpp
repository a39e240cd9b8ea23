#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>

#include "interrupt.hpp"
#include "methods.hpp"
#include "ttnn/flow.hpp"
#include "ttnn/limit.hpp"
#include "register.hpp"
#include "run_errors.hpp"
#include "ttnn/ensemble.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

namespace {
// Progress of an ODE ensemble: each run reports one unit per stored output
// after the first (ode_solve's poll(1)), so a call's total is runs × (K − 1).
std::int64_t outputs(std::size_t runs, int snapshots) {
    return static_cast<std::int64_t>(runs) * std::max(0, snapshots - 1);
}
}  // namespace

// Ensembles of flows and finite-η limits, always in "record" mode: a failed
// run's entry is its exception object and Python decides what to do with it.
// progress(done, total) as for the other long calls (counted in outputs).
void register_ensemble(py::module_& m) {
    m.def(
        "gradient_flow_ensemble",
        [](const std::vector<Network>& nets, const Target& target,
           const std::vector<double>& eps, const std::vector<double>& t_end, int snapshots,
           double rtol, double atol, std::int64_t max_steps, int threads,
           const py::object& progress, const std::string& method) {
            const FlowMethod how = flow_method(method);
            std::vector<std::exception_ptr> errors;
            auto results = run_without_gil(
                [&](const Poll& poll) {
                    return gradient_flow_ensemble(nets, target, eps, t_end, snapshots,
                                                  OdeOptions{rtol, atol, max_steps}, threads,
                                                  poll, &errors, how);
                },
                progress, outputs(nets.size(), snapshots));
            return recorded_runs(std::move(results), errors);
        },
        py::arg("nets"), py::arg("target"), py::arg("eps"), py::arg("t_end"),
        py::arg("snapshots"), py::arg("rtol"), py::arg("atol"), py::arg("max_steps"),
        py::arg("threads"), py::arg("progress") = py::none(),
        py::arg("method") = "auto");
    m.def(
        "finite_eta_limit_ensemble",
        [](const std::vector<Network>& nets, const Target& target,
           const std::vector<double>& tau_end, double ridge, int snapshots, double rtol,
           double atol, std::int64_t max_steps, int threads, const py::object& progress,
           const std::string& method) {
            const OdeMethod how = ode_method(method);
            std::vector<std::exception_ptr> errors;
            auto results = run_without_gil(
                [&](const Poll& poll) {
                    return finite_eta_limit_ensemble(nets, target, tau_end, ridge, snapshots,
                                                     OdeOptions{rtol, atol, max_steps}, threads,
                                                     poll, &errors, how);
                },
                progress, outputs(nets.size(), snapshots));
            return recorded_runs(std::move(results), errors);
        },
        py::arg("nets"), py::arg("target"), py::arg("tau_end"), py::arg("ridge"),
        py::arg("snapshots"), py::arg("rtol"), py::arg("atol"), py::arg("max_steps"),
        py::arg("threads"), py::arg("progress") = py::none(),
        py::arg("method") = "auto");
}

}  // namespace ttnn::bindings
