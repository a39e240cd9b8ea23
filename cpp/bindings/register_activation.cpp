#include <pybind11/eigen.h>

#include "register.hpp"
#include "ttnn/activation.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

void register_activation(py::module_& m) {
    m.def(
        "sigma_eta",
        [](const Eigen::VectorXd& z, double eta, const std::string& activation) {
            const Activation act = parse_activation(activation);
            return Eigen::VectorXd(z.unaryExpr([&](double v) { return sigma_eta(act, v, eta); }));
        },
        py::arg("z"), py::arg("eta"), py::arg("activation"));
    m.def(
        "dsigma_eta",
        [](const Eigen::VectorXd& z, double eta, const std::string& activation) {
            const Activation act = parse_activation(activation);
            return Eigen::VectorXd(z.unaryExpr([&](double v) { return dsigma_eta(act, v, eta); }));
        },
        py::arg("z"), py::arg("eta"), py::arg("activation"));
}

}  // namespace ttnn::bindings
