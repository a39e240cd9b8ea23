#include <pybind11/eigen.h>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "interrupt.hpp"
#include "register.hpp"
#include "run_errors.hpp"
#include "ttnn/sgd.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

namespace {

Noise make_noise(const std::string& kind, double scale) {
    if (kind == "none") return Noise{Noise::Kind::none, 0.0};
    if (kind == "uniform") return Noise{Noise::Kind::uniform, scale};
    if (kind == "gaussian") return Noise{Noise::Kind::gaussian, scale};
    throw std::invalid_argument("noise must be 'none', 'uniform' or 'gaussian'");
}

}  // namespace

void register_sgd(py::module_& m) {
    m.def("snapshot_steps", &snapshot_steps, py::arg("steps"), py::arg("snapshots"));

    m.def(
        "sgd",
        [](const Network& net, const PiecewiseConstant* target, double h, double eps,
           std::int64_t steps, std::int64_t snapshots, const std::string& noise,
           double noise_scale, std::uint64_t seed,
           std::optional<py::array_t<double, py::array::c_style | py::array::forcecast>> x,
           std::optional<py::array_t<double, py::array::c_style | py::array::forcecast>> y,
           const py::object& progress) {
            SgdOptions opt{h, eps, steps, snapshots, make_noise(noise, noise_scale), seed, 0};
            SgdData data;
            if (x.has_value() != y.has_value()) throw std::invalid_argument("give both x and y");
            if (x) {
                if (x->ndim() != 1 || y->ndim() != 1 || x->shape(0) < steps ||
                    y->shape(0) < steps) {
                    throw std::invalid_argument("data arrays must be 1-D with >= steps entries");
                }
                data = SgdData{x->data(), y->data()};
            }
            const SgdResult res = run_without_gil(
                [&](const Poll& poll) { return sgd_run(net, target, opt, data, poll); }, progress,
                steps);
            py::dict out;
            out["steps"] = py::array_t<std::int64_t>(res.steps.size(), res.steps.data());
            out["a"] = res.a;
            out["u"] = res.u;
            out["l2"] = res.l2.size() > 0 ? py::object(py::cast(res.l2)) : py::object(py::none());
            return out;
        },
        py::arg("net"), py::arg("target"), py::arg("h"), py::arg("eps"), py::arg("steps"),
        py::arg("snapshots"), py::arg("noise"), py::arg("noise_scale"), py::arg("seed"),
        py::arg("x") = py::none(), py::arg("y") = py::none(),
        py::arg("progress") = py::none());

    m.def(
        "sgd_ensemble",
        [](const std::vector<Network>& nets, const PiecewiseConstant& target,
           const std::vector<double>& h, const std::vector<double>& eps,
           const std::vector<std::int64_t>& steps, std::int64_t snapshots,
           const std::string& noise, double noise_scale, const std::vector<std::uint64_t>& seeds,
           const std::vector<std::uint64_t>& streams, int threads, const py::object& progress) {
            // Run i draws from the stream (seeds[i], streams[i]); a failed run's
            // entry is its exception object (Python raises or records it).
            std::vector<SgdOptions> opts(nets.size());
            std::int64_t total = 0;
            for (std::size_t i = 0; i < nets.size(); ++i) {
                opts[i] = SgdOptions{h.at(i),   eps.at(i), steps.at(i), snapshots,
                                     make_noise(noise, noise_scale), seeds.at(i), streams.at(i)};
                total = saturating_add(total, steps.at(i));
            }
            std::vector<std::exception_ptr> errors;
            const auto results = run_without_gil(
                [&](const Poll& poll) {
                    return sgd_ensemble(nets, target, opts, threads, poll, &errors);
                },
                progress, total);
            return recorded_runs(results, errors, [](const SgdResult& res) {
                py::dict d;
                d["steps"] = py::array_t<std::int64_t>(res.steps.size(), res.steps.data());
                d["a"] = res.a;
                d["u"] = res.u;
                d["l2"] = res.l2;
                return d;
            });
        },
        py::arg("nets"), py::arg("target"), py::arg("h"), py::arg("eps"), py::arg("steps"),
        py::arg("snapshots"), py::arg("noise"), py::arg("noise_scale"), py::arg("seeds"),
        py::arg("streams"), py::arg("threads"), py::arg("progress") = py::none());
}

}  // namespace ttnn::bindings
