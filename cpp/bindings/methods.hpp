// `method=` of the flow and the limit, from Python's string to the core's enum.
// Python checks the name first (ttnn._validate); this guards the core.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "ttnn/flow.hpp"
#include "ttnn/ode.hpp"

namespace ttnn::bindings {

// The finite-η limit's methods (the generic integrators of ode.hpp).
inline OdeMethod ode_method(const std::string& method) {
    if (method == "rk45") return OdeMethod::rk45;
    if (method == "rosenbrock") return OdeMethod::rosenbrock;
    if (method == "auto") return OdeMethod::automatic;
    throw pybind11::value_error("method must be 'rk45', 'rosenbrock' or 'auto', got '" + method +
                                "'");
}

// The flow's, which also has the Rosenbrock-W steps with the banded a-block.
inline FlowMethod flow_method(const std::string& method) {
    if (method == "rk45") return FlowMethod::rk45;
    if (method == "rosenbrock") return FlowMethod::rosenbrock;
    if (method == "rosenbrock_w") return FlowMethod::rosenbrock_w;
    if (method == "auto") return FlowMethod::automatic;
    throw pybind11::value_error(
        "method must be 'rk45', 'rosenbrock', 'rosenbrock_w' or 'auto', got '" + method + "'");
}

}  // namespace ttnn::bindings
