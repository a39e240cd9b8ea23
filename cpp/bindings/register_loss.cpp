#include <pybind11/eigen.h>

#include "interrupt.hpp"
#include "register.hpp"
#include "ttnn/loss.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

// Both release the GIL and stop on Ctrl-C: at m = 10⁶ a call takes ~a second.
void register_loss(py::module_& m) {
    m.def(
        "l2_error",
        [](const Network& net, const Target& target, int threads) {
            return run_without_gil(
                [&](const Poll& poll) { return l2_error(net, target, threads, poll); });
        },
        py::arg("net"), py::arg("target"), py::arg("threads") = 1);
    m.def(
        "l2_gradient",
        [](const Network& net, const Target& target, int threads) {
            L2Gradient g = run_without_gil(
                [&](const Poll& poll) { return l2_gradient(net, target, threads, poll); });
            return py::make_tuple(g.loss, g.grad_a, g.grad_u);
        },
        py::arg("net"), py::arg("target"), py::arg("threads") = 1);
}

}  // namespace ttnn::bindings
