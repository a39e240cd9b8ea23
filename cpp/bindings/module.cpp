// ttnn._core: the compiled core. Users never import it; python/ttnn wraps it.
#include "register.hpp"
#include "ttnn/interrupt.hpp"
#include "ttnn/ode.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
    m.doc() = "ttnn's compiled core (private: use the ttnn package)";
#ifdef _OPENMP
    m.attr("has_openmp") = true;
#else
    m.attr("has_openmp") = false;
#endif
    // Raised as ttnn's own DivergenceError, with the step as an attribute.
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const ttnn::DivergenceError& e) {
            py::object cls = py::module_::import("ttnn._errors").attr("DivergenceError");
            py::object inst = cls(e.what(), e.step);
            PyErr_SetObject(cls.ptr(), inst.ptr());
        } catch (const ttnn::StepLimitError& e) {
            py::object cls = py::module_::import("ttnn._errors").attr("StepLimitError");
            py::object inst = cls(e.what(), e.steps, e.t);
            PyErr_SetObject(cls.ptr(), inst.ptr());
        }
    });
    ttnn::bindings::register_results(m);  // first: the run functions return them
    ttnn::bindings::register_activation(m);
    ttnn::bindings::register_network(m);
    ttnn::bindings::register_target(m);  // after Network: a teacher is a Target
    ttnn::bindings::register_loss(m);
    ttnn::bindings::register_sgd(m);
    ttnn::bindings::register_additive(m);
    ttnn::bindings::register_flow(m);
    ttnn::bindings::register_ensemble(m);
    ttnn::bindings::register_circle(m);
}
