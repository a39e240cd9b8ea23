#include <pybind11/eigen.h>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <limits>
#include <optional>

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

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Order = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// A replayed stream of steps · batch draws over n samples (x, y): draw p reads
// sample order[p] (shuffled epochs), or p mod n (epochs in order). The arrays
// must outlive the run (the caller holds them).
SgdData replay_data(const std::optional<Array>& x, const std::optional<Array>& y,
                    const std::optional<Order>& order, std::int64_t steps, std::int64_t batch,
                    std::int64_t epochs) {
    if (x.has_value() != y.has_value()) throw std::invalid_argument("give both x and y");
    if (!x) {
        if (order) throw std::invalid_argument("order needs data x and y");
        return SgdData{};
    }
    if (x->ndim() != 1 || y->ndim() != 1 || x->shape(0) != y->shape(0)) {
        throw std::invalid_argument("data arrays must be 1-D and of equal length");
    }
    if (batch < 1 || epochs < 1) throw std::invalid_argument("batch and epochs must be >= 1");
    const std::int64_t n = x->shape(0), draws = steps * batch;
    if (steps > 0 && draws / steps != batch) throw std::invalid_argument("steps * batch overflows");
    if (n > 0 && epochs > std::numeric_limits<std::int64_t>::max() / n) {
        throw std::invalid_argument("epochs * len(data) overflows");
    }
    if (draws > n * epochs) {
        throw std::invalid_argument("steps * batch exceeds epochs * len(data)");
    }
    SgdData data{x->data(), y->data(), nullptr, epochs > 1 ? n : 0};
    if (order) {
        if (order->ndim() != 1 || order->shape(0) < draws) {
            throw std::invalid_argument("order must be 1-D with >= steps * batch entries");
        }
        const std::int64_t* o = order->data();
        for (std::int64_t p = 0; p < draws; ++p) {  // one pass, far cheaper than the run
            if (o[p] < 0 || o[p] >= n) throw std::invalid_argument("order entries must be in [0, n)");
        }
        data.order = o;
    }
    return data;
}

}  // namespace

void register_sgd(py::module_& m) {
    m.def("snapshot_steps", &snapshot_steps, py::arg("steps"), py::arg("snapshots"));

    m.def(
        "sample_stream",
        [](const Target& target, const std::string& noise, double noise_scale, std::uint64_t seed,
           std::uint64_t stream, std::int64_t draws) {
            if (draws < 0) throw std::invalid_argument("draws must be >= 0");
            py::array_t<double> x(draws), y(draws);
            const Noise nz = make_noise(noise, noise_scale);
            double* px = x.mutable_data();
            double* py_ = y.mutable_data();
            // Without the GIL, polling for Ctrl-C (2·10⁸ draws take seconds).
            run_without_gil([&](const Poll& poll) {
                sample_stream(target, nz, seed, stream, draws, px, py_, poll);
                return 0;
            });
            return py::make_tuple(x, y);
        },
        py::arg("target"), py::arg("noise"), py::arg("noise_scale"), py::arg("seed"),
        py::arg("stream"), py::arg("draws"));

    m.def(
        "sgd",
        [](const Network& net, const Target* target, double h, double eps, std::int64_t steps,
           std::int64_t snapshots, const std::string& noise, double noise_scale,
           std::uint64_t seed, std::optional<Array> x, std::optional<Array> y,
           std::int64_t batch, std::int64_t epochs, std::optional<Order> order,
           const py::object& progress, int threads) {
            SgdOptions opt{h, eps, steps, snapshots, make_noise(noise, noise_scale), seed, 0, batch};
            opt.threads = threads;
            const SgdData data = replay_data(x, y, order, steps, batch, epochs);
            return run_without_gil(
                [&](const Poll& poll) { return sgd_run(net, target, opt, data, poll); }, progress,
                steps);
        },
        py::arg("net"), py::arg("target"), py::arg("h"), py::arg("eps"), py::arg("steps"),
        py::arg("snapshots"), py::arg("noise"), py::arg("noise_scale"), py::arg("seed"),
        py::arg("x") = py::none(), py::arg("y") = py::none(), py::arg("batch") = 1,
        py::arg("epochs") = 1, py::arg("order") = py::none(), py::arg("progress") = py::none(),
        py::arg("threads") = 1);

    m.def("sgd_kernel", &sgd_kernel, py::arg("net"), py::arg("batch"), py::arg("threads"));

    m.def(
        "sgd_ensemble",
        [](const std::vector<Network>& nets, const Target* target, const std::vector<double>& h,
           const std::vector<double>& eps, const std::vector<std::int64_t>& steps,
           std::int64_t snapshots, const std::string& noise, double noise_scale,
           const std::vector<std::uint64_t>& seeds, const std::vector<std::uint64_t>& streams,
           int threads, const std::vector<std::int64_t>& batch,
           const std::vector<std::optional<Array>>& x, const std::vector<std::optional<Array>>& y,
           const std::vector<std::int64_t>& epochs, const std::vector<std::optional<Order>>& order,
           const py::object& progress) {
            // Run i draws from the stream (seeds[i], streams[i]); a failed run's
            // entry is its exception object (Python raises or records it).
            std::vector<SgdOptions> opts(nets.size());
            std::int64_t total = 0;
            for (std::size_t i = 0; i < nets.size(); ++i) {
                opts[i] = SgdOptions{h.at(i), eps.at(i), steps.at(i), snapshots,
                                     make_noise(noise, noise_scale), seeds.at(i), streams.at(i),
                                     batch.empty() ? 1 : batch.at(i)};
                total = saturating_add(total, steps.at(i));
            }
            // Per-run data: none (all sample), or one (x, y[, order]) per run.
            std::vector<SgdData> data;
            if (!x.empty()) {
                if (x.size() != nets.size() || y.size() != nets.size() ||
                    epochs.size() != nets.size() || order.size() != nets.size()) {
                    throw std::invalid_argument("data must have one entry per network");
                }
                for (std::size_t i = 0; i < nets.size(); ++i) {
                    data.push_back(replay_data(x[i], y[i], order[i], opts[i].steps,
                                               opts[i].batch, epochs[i]));
                }
            }
            std::vector<std::exception_ptr> errors;
            auto results = run_without_gil(
                [&](const Poll& poll) {
                    return sgd_ensemble(nets, target, opts, data, threads, poll, &errors);
                },
                progress, total);
            return recorded_runs(std::move(results), errors);
        },
        py::arg("nets"), py::arg("target"), py::arg("h"), py::arg("eps"), py::arg("steps"),
        py::arg("snapshots"), py::arg("noise"), py::arg("noise_scale"), py::arg("seeds"),
        py::arg("streams"), py::arg("threads"), py::arg("batch") = std::vector<std::int64_t>{},
        py::arg("x") = std::vector<std::optional<Array>>{},
        py::arg("y") = std::vector<std::optional<Array>>{},
        py::arg("epochs") = std::vector<std::int64_t>{},
        py::arg("order") = std::vector<std::optional<Order>>{}, py::arg("progress") = py::none());
}

}  // namespace ttnn::bindings
