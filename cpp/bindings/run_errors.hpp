// Ensembles in "record" mode: a failed run's C++ exception becomes the Python
// exception object it would have raised, returned in place of its result, so
// that Python decides whether to raise (naming the run) or record it.
#pragma once

#include <pybind11/pybind11.h>

#include <exception>
#include <stdexcept>
#include <vector>

#include "ttnn/interrupt.hpp"
#include "ttnn/ode.hpp"

namespace ttnn::bindings {

// Needs the GIL.
inline pybind11::object error_object(const std::exception_ptr& error) {
    namespace py = pybind11;
    try {
        std::rethrow_exception(error);
    } catch (const DivergenceError& e) {
        return py::module_::import("ttnn._errors").attr("DivergenceError")(e.what(), e.step);
    } catch (const StepLimitError& e) {
        return py::module_::import("ttnn._errors").attr("StepLimitError")(e.what(), e.steps, e.t);
    } catch (const std::invalid_argument& e) {
        return py::reinterpret_borrow<py::object>(PyExc_ValueError)(e.what());
    } catch (const std::exception& e) {
        return py::reinterpret_borrow<py::object>(PyExc_RuntimeError)(e.what());
    } catch (...) {
        return py::reinterpret_borrow<py::object>(PyExc_RuntimeError)("unknown error in a run");
    }
}

// One entry per run: its result (moved into its bound class, register_results.cpp),
// or the error object of a failed run.
template <class Result>
pybind11::list recorded_runs(std::vector<Result>&& results,
                             const std::vector<std::exception_ptr>& errors) {
    pybind11::list out;
    for (std::size_t i = 0; i < results.size(); ++i) {
        out.append(errors[i] ? error_object(errors[i]) : pybind11::cast(std::move(results[i])));
    }
    return out;
}

}  // namespace ttnn::bindings
