#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "register.hpp"
#include "ttnn/network.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

void register_network(py::module_& m) {
    py::class_<Network>(m, "Network")
        .def(py::init([](Eigen::VectorXd a, Eigen::VectorXd u, double eta,
                         const std::string& activation) {
                 return Network(std::move(a), std::move(u), eta, parse_activation(activation));
             }),
             py::arg("a"), py::arg("u"), py::arg("eta"), py::arg("activation"))
        .def_readonly("a", &Network::a)
        .def_readonly("u", &Network::u)
        .def_readonly("eta", &Network::eta)
        .def_property_readonly("activation",
                               [](const Network& n) { return activation_name(n.act); })
        .def(
            "__call__", [](const Network& n, const Eigen::VectorXd& x) { return n(x); },
            py::arg("x"))
        .def(
            "gradient",
            [](const Network& n, double x) {
                Eigen::VectorXd ga, gu;
                n.gradient(x, ga, gu);
                return py::make_tuple(ga, gu);
            },
            py::arg("x"));
}

}  // namespace ttnn::bindings
