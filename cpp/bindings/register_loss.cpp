#include <pybind11/eigen.h>

#include "register.hpp"
#include "ttnn/loss.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

void register_loss(py::module_& m) {
    m.def("l2_error", &l2_error, py::arg("net"), py::arg("target"));
    m.def(
        "l2_gradient",
        [](const Network& net, const Target& target) {
            L2Gradient g = l2_gradient(net, target);
            return py::make_tuple(g.loss, g.grad_a, g.grad_u);
        },
        py::arg("net"), py::arg("target"));
}

}  // namespace ttnn::bindings
