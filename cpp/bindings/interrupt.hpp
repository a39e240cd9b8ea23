// How every long run of the core meets Python: it releases the GIL, polls for
// Ctrl-C now and then, and turns the core's exceptions into Python ones.
#pragma once

#include <pybind11/pybind11.h>

#include <utility>

#include "ttnn/interrupt.hpp"

namespace ttnn::bindings {

// Called from a run that released the GIL: takes it back just long enough to
// let Python handle pending signals (Ctrl-C sets KeyboardInterrupt here).
inline bool python_interrupt_pending() {
    pybind11::gil_scoped_acquire gil;
    return PyErr_CheckSignals() != 0;
}

// Runs f(poll) without the GIL; an interrupt surfaces as KeyboardInterrupt.
template <class F>
auto run_without_gil(F&& f) {
    try {
        pybind11::gil_scoped_release nogil;
        return std::forward<F>(f)(python_interrupt_pending);
    } catch (const Interrupted&) {
        throw pybind11::error_already_set();  // the KeyboardInterrupt set by the poll
    }
}

}  // namespace ttnn::bindings
