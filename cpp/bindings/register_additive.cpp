#include <pybind11/eigen.h>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <optional>

#include "interrupt.hpp"
#include "register.hpp"
#include "run_errors.hpp"
#include "ttnn/additive.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

void register_additive(py::module_& m) {
    py::class_<AdditiveNetwork>(m, "AdditiveNetwork")
        .def(py::init([](AdditiveMatrix a, AdditiveMatrix u, double eta,
                         const std::string& activation, std::optional<double> bias) {
                 return AdditiveNetwork(std::move(a), std::move(u), eta,
                                        parse_activation(activation), bias.has_value(),
                                        bias.value_or(0.0));
             }),
             py::arg("a"), py::arg("u"), py::arg("eta"), py::arg("activation"),
             py::arg("bias") = py::none())
        .def_readonly("a", &AdditiveNetwork::a)
        .def_readonly("u", &AdditiveNetwork::u)
        .def_readonly("eta", &AdditiveNetwork::eta)
        .def_property_readonly("bias",
                               [](const AdditiveNetwork& n) -> std::optional<double> {
                                   if (n.has_bias) return n.bias;
                                   return std::nullopt;
                               })
        .def_property_readonly("activation",
                               [](const AdditiveNetwork& n) { return activation_name(n.act); })
        .def(
            "__call__", [](const AdditiveNetwork& n, const AdditiveMatrix& X) { return n(X); },
            py::arg("X"))
        .def(
            "criterion_gradient",
            [](const AdditiveNetwork& n, const AdditiveMatrix& X, const Eigen::VectorXd& y,
               const std::string& loss) {
                AdditiveMatrix ga, gu;
                double gb = 0.0;
                const double c =
                    additive_criterion_gradient(n, X, y, ga, gu, gb, parse_gd_loss(loss));
                return py::make_tuple(c, ga, gu, gb);
            },
            py::arg("X"), py::arg("y"), py::arg("loss") = "norm");

    m.def(
        "additive_gd",
        [](const AdditiveNetwork& net, const AdditiveMatrix& X, const Eigen::VectorXd& y,
           double step_a, double step_u, std::int64_t epochs, std::int64_t snapshots,
           const std::string& loss, const py::object& progress) {
            const AdditiveGdOptions opt{step_a, step_u, epochs, snapshots, parse_gd_loss(loss)};
            return run_without_gil(
                [&](const Poll& poll) { return additive_gd(net, X, y, opt, poll); }, progress,
                epochs);
        },
        py::arg("net"), py::arg("X"), py::arg("y"), py::arg("step_a"), py::arg("step_u"),
        py::arg("epochs"), py::arg("snapshots"), py::arg("loss") = "norm",
        py::arg("progress") = py::none());

    m.def(
        "additive_gd_ensemble",
        [](const std::vector<AdditiveNetwork>& nets, const std::vector<AdditiveMatrix>& X,
           const std::vector<Eigen::VectorXd>& y, const std::vector<double>& step_a,
           const std::vector<double>& step_u, const std::vector<std::int64_t>& epochs,
           std::int64_t snapshots, int threads, const std::string& loss,
           const py::object& progress) {
            std::vector<AdditiveGdOptions> opts(nets.size());
            const GdLoss criterion = parse_gd_loss(loss);
            std::int64_t total = 0;
            for (std::size_t i = 0; i < nets.size(); ++i) {
                opts[i] = AdditiveGdOptions{step_a.at(i), step_u.at(i), epochs.at(i), snapshots,
                                            criterion};
                total = saturating_add(total, epochs.at(i));
            }
            // A failed run's entry is its exception object (Python raises or records it).
            std::vector<std::exception_ptr> errors;
            auto results = run_without_gil(
                [&](const Poll& poll) {
                    return additive_gd_ensemble(nets, X, y, opts, threads, poll, &errors);
                },
                progress, total);
            return recorded_runs(std::move(results), errors);
        },
        py::arg("nets"), py::arg("X"), py::arg("y"), py::arg("step_a"), py::arg("step_u"),
        py::arg("epochs"), py::arg("snapshots"), py::arg("threads"), py::arg("loss") = "norm",
        py::arg("progress") = py::none());
}

}  // namespace ttnn::bindings
