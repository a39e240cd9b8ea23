// The circle model's core (private: the public API is built on top of it).
// Angles and outer weights cross in the caller's order; the core sorts them.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "interrupt.hpp"
#include "register.hpp"
#include "run_errors.hpp"
#include "ttnn/circle.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

namespace {

using circle::Neurons;
using circle::Problem;

void check_lam(double lam) {
    if (!(std::isfinite(lam) && lam > 0.0)) throw std::invalid_argument("lam must be finite and > 0");
}

// v (caller's order) → sorted order of nr, and back.
std::vector<double> to_sorted(const Neurons& nr, const Eigen::VectorXd& v, const char* name) {
    if (v.size() != nr.size()) {
        throw std::invalid_argument(std::string(name) + " must have one entry per angle");
    }
    std::vector<double> out(nr.theta.size());
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = v[nr.id[k]];
    return out;
}
Eigen::VectorXd to_original(const Neurons& nr, const std::vector<double>& v) {
    Eigen::VectorXd out(nr.size());
    for (std::size_t k = 0; k < v.size(); ++k) out[nr.id[k]] = v[k];
    return out;
}

template <class Result>
auto eigen_member(Eigen::VectorXd Result::*member) {
    return [member](const py::object& self) {
        return py::cast(self.cast<const Result&>().*member,
                        py::return_value_policy::reference_internal, self);
    };
}
template <class Result>
auto matrix_member(Eigen::MatrixXd Result::*member) {
    return [member](const py::object& self) {
        return py::cast(self.cast<const Result&>().*member,
                        py::return_value_policy::reference_internal, self);
    };
}

circle::RunSpec make_spec(const Eigen::VectorXd& theta0, double lam, const std::string& method,
                          bool biased, std::int64_t iterations,
                          const std::vector<std::int64_t>& record, double dt,
                          const std::optional<Eigen::MatrixXd>& density) {
    circle::RunSpec spec;
    spec.theta0 = theta0;
    spec.lam = lam;
    spec.method = circle::method_from_name(method);
    spec.biased = biased;
    spec.iterations = iterations;
    spec.record = record;
    spec.dt = dt;
    if (density) spec.density = *density;
    circle::validate(spec);
    return spec;
}

}  // namespace

void register_circle(py::module_& m) {
    py::class_<circle::RunResult>(m, "CircleResult")
        .def_property_readonly("iterations",
                               [](const py::object& self) {
                                   const auto& v = self.cast<const circle::RunResult&>().iterations;
                                   py::array_t<std::int64_t> arr(
                                       static_cast<py::ssize_t>(v.size()), v.data(), self);
                                   py::detail::array_proxy(arr.ptr())->flags &=
                                       ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
                                   return arr;
                               })
        .def_property_readonly("theta", matrix_member(&circle::RunResult::theta))
        .def_property_readonly("u", matrix_member(&circle::RunResult::u))
        .def_property_readonly("criterion", eigen_member(&circle::RunResult::criterion))
        .def_property_readonly("risk", eigen_member(&circle::RunResult::risk))
        .def_property_readonly("mmd_teacher", eigen_member(&circle::RunResult::mmd_teacher))
        .def_property_readonly("w1_teacher", eigen_member(&circle::RunResult::w1_teacher))
        // None when the run was given no density to compare with.
        .def_property_readonly("mmd_density",
                               [](const py::object& self) -> py::object {
                                   if (self.cast<const circle::RunResult&>().mmd_density.size() ==
                                       0) {
                                       return py::none();
                                   }
                                   return eigen_member(&circle::RunResult::mmd_density)(self);
                               })
        .def_readonly("cg_iterations", &circle::RunResult::cg_iterations);

    py::class_<circle::PdeResult>(m, "CirclePdeResult")
        .def_property_readonly("t", eigen_member(&circle::PdeResult::t))
        .def_property_readonly("f", matrix_member(&circle::PdeResult::f))
        .def_property_readonly("mass", eigen_member(&circle::PdeResult::mass))
        .def_readonly("accepted", &circle::PdeResult::accepted)
        .def_readonly("rejected", &circle::PdeResult::rejected)
        .def_readonly("rhs_calls", &circle::PdeResult::rhs_calls);

    py::class_<Problem, std::shared_ptr<Problem>>(m, "CircleProblem")
        .def(py::init([](const Eigen::VectorXd& teacher, const std::optional<Eigen::MatrixXd>& X) {
                 return std::make_shared<Problem>(teacher, X ? *X : Eigen::MatrixXd(0, 2));
             }),
             py::arg("teacher"), py::arg("X") = py::none())
        .def_property_readonly("population", &Problem::population)
        .def_property_readonly("n_samples", [](const Problem& p) { return p.n_samples(); })
        .def_property_readonly("teacher", [](const Problem& p) { return p.teacher(); })
        .def_property_readonly("y", &Problem::y_original)
        .def_property_readonly("y_square", &Problem::y_square)
        .def(
            "predict",
            [](const Problem& p, const Eigen::VectorXd& theta, const Eigen::VectorXd& u) {
                if (p.population()) throw std::invalid_argument("predict needs samples (X)");
                const Neurons nr = Neurons::from(theta, u);
                Problem::Workspace w;
                p.bind(nr, w);
                std::vector<double> f;
                p.predict(nr, w, f);
                Eigen::VectorXd out(p.n_samples());
                for (std::size_t k = 0; k < f.size(); ++k) out[p.sample_order()[k]] = f[k];
                return out;
            },
            py::arg("theta"), py::arg("u"))
        .def(
            "phi_t_y",
            [](const Problem& p, const Eigen::VectorXd& theta) {
                const Neurons nr = Neurons::from(theta, Eigen::VectorXd::Zero(theta.size()));
                Problem::Workspace w;
                p.bind(nr, w);
                std::vector<double> out;
                p.phi_t_y(nr, w, out);
                return to_original(nr, out);
            },
            py::arg("theta"))
        .def(
            "k_times",
            [](const Problem& p, const Eigen::VectorXd& theta, const Eigen::VectorXd& v) {
                const Neurons nr = Neurons::from(theta, Eigen::VectorXd::Zero(theta.size()));
                const std::vector<double> vs = to_sorted(nr, v, "v");
                Problem::Workspace w;
                p.bind(nr, w);
                std::vector<double> out;
                p.k_times(nr, w, vs, out);
                return to_original(nr, out);
            },
            py::arg("theta"), py::arg("v"))
        .def(
            "evaluate",
            [](const Problem& p, const Eigen::VectorXd& theta, const Eigen::VectorXd& u,
               double lam, bool biased) {
                check_lam(lam);
                const Neurons nr = Neurons::from(theta, u);
                Problem::Workspace w;
                p.bind(nr, w);
                const circle::Evaluation ev = p.evaluate(nr, w);
                const Eigen::Index M = nr.size();
                const double scale = 1.0 / (lam * static_cast<double>(M));
                Eigen::MatrixXd grad_w(M, 2);
                Eigen::VectorXd grad_u(M);
                for (std::size_t k = 0; k < nr.theta.size(); ++k) {
                    const Eigen::Index j = nr.id[k];
                    grad_w(j, 0) = nr.u[k] * ev.d1[k] * scale;
                    grad_w(j, 1) = nr.u[k] * ev.d2[k] * scale;
                    const double e = ev.d1[k] * nr.c[k] + ev.d2[k] * nr.s[k];
                    grad_u[j] = (e + lam * (biased ? nr.u[k] : nr.u[k] - 1.0)) * scale;
                }
                return py::make_tuple(circle::criterion(ev, nr, lam, biased), ev.risk, grad_w,
                                      grad_u);
            },
            py::arg("theta"), py::arg("u"), py::arg("lam"), py::arg("biased") = false)
        .def(
            "ridge",
            [](const Problem& p, const Eigen::VectorXd& theta, double lam, bool biased,
               const std::optional<Eigen::VectorXd>& u0) {
                check_lam(lam);
                Neurons nr =
                    Neurons::from(theta, u0 ? *u0 : Eigen::VectorXd::Zero(theta.size()));
                Problem::Workspace w;
                p.bind(nr, w);
                const std::int64_t it = circle::ridge_solve(p, w, nr, lam, biased);
                return py::make_tuple(nr.u_original(), it);
            },
            py::arg("theta"), py::arg("lam"), py::arg("biased") = false,
            py::arg("u0") = py::none())
        .def(
            "step",
            [](const Problem& p, const Eigen::VectorXd& theta, const Eigen::VectorXd& u,
               const std::string& method, double lam, bool biased, double dt) {
                check_lam(lam);
                if (!(std::isfinite(dt) && dt > 0.0)) {
                    throw std::invalid_argument("dt must be finite and > 0");
                }
                const circle::Method how = circle::method_from_name(method);
                Neurons nr = Neurons::from(theta, u);
                Problem::Workspace w;
                const circle::StepInfo info = circle::prepare(p, w, nr, how, lam, biased, false);
                const Eigen::VectorXd u_used = nr.u_original();
                circle::move(nr, info.ev, how, lam, biased, dt);
                return py::make_tuple(nr.theta_original(), nr.u_original(), u_used,
                                      info.criterion);
            },
            py::arg("theta"), py::arg("u"), py::arg("method"), py::arg("lam"),
            py::arg("biased") = false, py::arg("dt") = 1.0 / 1024);

    m.def(
        "circle_rho",
        [](const Eigen::VectorXd& theta, double gamma) {
            Eigen::VectorXd out(theta.size());
            for (Eigen::Index i = 0; i < theta.size(); ++i) out[i] = circle::rho(theta[i], gamma);
            return out;
        },
        py::arg("theta"), py::arg("gamma"));
    m.def("circle_rho_cell_masses", &circle::rho_cell_masses, py::arg("cells"), py::arg("gamma"));
    m.def("circle_sample_rho", &circle::sample_rho, py::arg("count"), py::arg("gamma"),
          py::arg("seed"), py::arg("stream") = 0);
    m.def("circle_uniform_angles", &circle::uniform_angles, py::arg("count"), py::arg("seed"),
          py::arg("stream") = 0);
    m.def("circle_gaussian_inputs", &circle::gaussian_inputs, py::arg("n"), py::arg("seed"),
          py::arg("stream") = 0);
    m.def(
        "circle_arccos_kernel",
        [](const Eigen::VectorXd& delta) {
            Eigen::VectorXd out(delta.size());
            for (Eigen::Index i = 0; i < delta.size(); ++i) {
                out[i] = circle::arccos_kernel(delta[i]);
            }
            return out;
        },
        py::arg("delta"));

    m.def(
        "circle_run",
        [](const std::shared_ptr<Problem>& problem, const Eigen::VectorXd& theta0, double lam,
           const std::string& method, bool biased, std::int64_t iterations,
           const std::vector<std::int64_t>& record, double dt,
           const std::optional<Eigen::MatrixXd>& density, const py::object& progress) {
            const circle::RunSpec spec =
                make_spec(theta0, lam, method, biased, iterations, record, dt, density);
            return run_without_gil(
                [&](const Poll& poll) { return circle::run(*problem, spec, poll); }, progress,
                iterations);
        },
        py::arg("problem"), py::arg("theta0"), py::arg("lam"), py::arg("method"),
        py::arg("biased"), py::arg("iterations"), py::arg("record"),
        py::arg("dt") = 1.0 / 1024, py::arg("density") = py::none(),
        py::arg("progress") = py::none());
    m.def(
        "circle_run_ensemble",
        [](const std::vector<std::shared_ptr<Problem>>& problems,
           const std::vector<Eigen::VectorXd>& theta0, const std::vector<double>& lam,
           const std::vector<std::string>& method, bool biased, std::int64_t iterations,
           const std::vector<std::int64_t>& record, double dt,
           const std::optional<Eigen::MatrixXd>& density, int threads,
           const py::object& progress) {
            const std::size_t n = theta0.size();
            if (problems.size() != n || lam.size() != n || method.size() != n) {
                throw std::invalid_argument(
                    "problems, theta0, lam and method must have one entry per run");
            }
            std::vector<std::shared_ptr<const Problem>> pbs(problems.begin(), problems.end());
            std::vector<circle::RunSpec> specs;
            for (std::size_t i = 0; i < n; ++i) {
                specs.push_back(make_spec(theta0[i], lam[i], method[i], biased, iterations,
                                          record, dt, density));
            }
            std::vector<std::exception_ptr> errors;
            auto results = run_without_gil(
                [&](const Poll& poll) {
                    return circle::run_ensemble(pbs, specs, threads, poll, &errors);
                },
                progress, static_cast<std::int64_t>(n) * iterations);
            return recorded_runs(std::move(results), errors);
        },
        py::arg("problems"), py::arg("theta0"), py::arg("lam"), py::arg("method"),
        py::arg("biased"), py::arg("iterations"), py::arg("record"),
        py::arg("dt") = 1.0 / 1024, py::arg("density") = py::none(), py::arg("threads") = 0,
        py::arg("progress") = py::none());

    m.def(
        "circle_mmd",
        [](const Eigen::VectorXd& a, const Eigen::VectorXd& b,
           const std::optional<Eigen::VectorXd>& wa, const std::optional<Eigen::VectorXd>& wb) {
            return circle::mmd(a, wa ? *wa : Eigen::VectorXd(), b, wb ? *wb : Eigen::VectorXd());
        },
        py::arg("a"), py::arg("b"), py::arg("wa") = py::none(), py::arg("wb") = py::none());
    m.def(
        "circle_chord_sum",
        [](const Eigen::VectorXd& a, const Eigen::VectorXd& b,
           const std::optional<Eigen::VectorXd>& wa, const std::optional<Eigen::VectorXd>& wb) {
            return circle::chord_sum(a, wa ? *wa : Eigen::VectorXd(), b,
                                     wb ? *wb : Eigen::VectorXd());
        },
        py::arg("a"), py::arg("b"), py::arg("wa") = py::none(), py::arg("wb") = py::none());
    m.def(
        "circle_w1",
        [](const Eigen::VectorXd& a, const Eigen::VectorXd& b,
           const std::optional<Eigen::VectorXd>& wa, const std::optional<Eigen::VectorXd>& wb) {
            return circle::w1(a, wa ? *wa : Eigen::VectorXd(), b, wb ? *wb : Eigen::VectorXd());
        },
        py::arg("a"), py::arg("b"), py::arg("wa") = py::none(), py::arg("wb") = py::none());

    m.def("circle_w2", &circle::w2_uniform, py::arg("a"), py::arg("b"));
    m.def("circle_cell_centres", &circle::cell_centres, py::arg("cells"));
    m.def(
        "circle_pde",
        [](Eigen::Index cells, double gamma, const std::vector<double>& times, double rtol,
           double atol, std::int64_t max_steps, const py::object& progress) {
            return run_without_gil(
                [&](const Poll& poll) {
                    return circle::pde_solve(cells, gamma, times, rtol, atol, max_steps, poll);
                },
                progress, static_cast<std::int64_t>(times.size()));
        },
        py::arg("cells"), py::arg("gamma"), py::arg("times"), py::arg("rtol") = 1e-6,
        py::arg("atol") = 1e-9, py::arg("max_steps") = 0, py::arg("progress") = py::none());
    m.def(
        "circle_pde_rhs",
        [](const Eigen::VectorXd& f, const Eigen::VectorXd& fstar) {
            if (f.size() != fstar.size() || f.size() < 3) {
                throw std::invalid_argument("f and fstar must have the same length, >= 3");
            }
            Eigen::VectorXd r;
            circle::pde_rhs(f, fstar, r);
            return r;
        },
        py::arg("f"), py::arg("fstar"));
    m.def(
        "circle_pde_jacobian",
        [](const Eigen::VectorXd& f, const Eigen::VectorXd& fstar) {
            if (f.size() != fstar.size() || f.size() < 3) {
                throw std::invalid_argument("f and fstar must have the same length, >= 3");
            }
            Eigen::VectorXd sub, diag, sup;
            circle::pde_jacobian(f, fstar, sub, diag, sup);
            return py::make_tuple(sub, diag, sup);
        },
        py::arg("f"), py::arg("fstar"));
    m.def(
        "circle_cyclic_solve",
        [](const Eigen::VectorXd& sub, const Eigen::VectorXd& diag, const Eigen::VectorXd& sup,
           Eigen::VectorXd x) {
            if (sub.size() != diag.size() || sup.size() != diag.size() ||
                x.size() != diag.size()) {
                throw std::invalid_argument("sub, diag, sup and x must have the same length");
            }
            circle::cyclic_tridiagonal_solve(sub, diag, sup, x);
            return x;
        },
        py::arg("sub"), py::arg("diag"), py::arg("sup"), py::arg("x"));
}

}  // namespace ttnn::bindings
