// How every long run of the core meets Python: it releases the GIL, polls for
// Ctrl-C (and reports progress) now and then from the calling thread, and
// turns the core's exceptions into Python ones. See docs/guide/errors.md.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <utility>

#include "ttnn/interrupt.hpp"

namespace ttnn::bindings {

// Runs f(poll) without the GIL. The monitor's check runs on this (the
// calling) thread with the GIL taken back: it lets Python handle pending
// signals (Ctrl-C sets KeyboardInterrupt) and calls `progress(done, total)`
// unless it is None. Either raising stops the run, and the Python exception
// surfaces here. `total` is the call's work in the units its runs report
// (steps, epochs); after a successful run `progress` is called once more, with
// the final count. Used by every long _core function, so a new one (the flow,
// the limits) reports progress by calling poll(work) and passing its total.
template <class F>
auto run_without_gil(F&& f, const pybind11::object& progress = pybind11::none(),
                     std::int64_t total = 0) {
    const bool report = !progress.is_none();
    Monitor monitor(
        [&](std::int64_t done, std::int64_t tot) {
            pybind11::gil_scoped_acquire gil;
            // An earlier check raised (Ctrl-C or the callback): the call is stopping,
            // and the calling thread keeps polling until the other threads finish;
            // calling into Python again with that exception pending would fail.
            if (PyErr_Occurred() != nullptr) return true;
            if (PyErr_CheckSignals() != 0) return true;
            if (report) {
                try {
                    progress(done, tot);
                } catch (pybind11::error_already_set& e) {
                    e.restore();
                    return true;
                }
            }
            return false;
        },
        total);
    try {
        auto result = [&]() {
            pybind11::gil_scoped_release nogil;
            return std::forward<F>(f)(Poll(monitor));
        }();
        // A Ctrl-C that came after the run's last poll (an unpolled final
        // pass, or a call shorter than the monitor's interval) is raised by
        // this call, not left pending for the caller's next bytecode: C code
        // calling us in a loop runs none, and CPython 3.11-3.12 can raise a
        // pending signal at a loop's backward jump outside the enclosing `try`
        // (python/cpython#108214), where no `except KeyboardInterrupt` sees it.
        // The exception may also be one the monitor's check set while the run
        // finished without polling again.
        if (PyErr_Occurred() != nullptr || PyErr_CheckSignals() != 0)
            throw pybind11::error_already_set();
        if (report) progress(monitor.done(), total);
        return result;
    } catch (const Interrupted&) {
        throw pybind11::error_already_set();  // the exception set by the check
    }
}

}  // namespace ttnn::bindings
