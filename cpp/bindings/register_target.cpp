#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "register.hpp"
#include "ttnn/target.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

void register_target(py::module_& m) {
    py::class_<PiecewiseConstant>(m, "PiecewiseConstant")
        .def(py::init<std::vector<double>, std::vector<double>>(), py::arg("breaks"),
             py::arg("values"))
        .def_readonly("breaks", &PiecewiseConstant::breaks)
        .def_readonly("values", &PiecewiseConstant::values)
        .def(
            "__call__",
            [](const PiecewiseConstant& t, const Eigen::VectorXd& x) {
                return Eigen::VectorXd(x.unaryExpr([&](double v) { return t(v); }));
            },
            py::arg("x"));
    // Registered after Network (module.cpp): a Target wraps either kind.
    py::class_<Target>(m, "Target")
        .def(py::init<PiecewiseConstant>(), py::arg("target"))
        .def(py::init<Network>(), py::arg("teacher"))
        .def_property_readonly("breakpoints", &Target::breakpoints)
        .def_property_readonly("degree", &Target::degree)
        .def(
            "__call__",
            [](const Target& t, const Eigen::VectorXd& x) {
                return Eigen::VectorXd(x.unaryExpr([&](double v) { return t(v); }));
            },
            py::arg("x"));
    py::implicitly_convertible<PiecewiseConstant, Target>();
    py::implicitly_convertible<Network, Target>();
}

}  // namespace ttnn::bindings
