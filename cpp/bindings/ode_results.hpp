// The Python dicts of a gradient flow's and a finite-η limit's result, shared by
// the single runs (register_flow.cpp) and their ensembles (register_ensemble.cpp).
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>

#include "ttnn/flow.hpp"
#include "ttnn/limit.hpp"
#include "ttnn/ode.hpp"

namespace ttnn::bindings {

inline pybind11::dict stats_dict(const OdeStats& s) {
    pybind11::dict d;
    d["accepted"] = s.accepted;
    d["rejected"] = s.rejected;
    d["rhs_calls"] = s.rhs_calls;
    return d;
}

// Flow and limit results share their fields but the time axis: "t" or "tau".
template <class Result>
pybind11::dict ode_result_dict(const Result& r, const Eigen::VectorXd& times,
                               const char* time_name) {
    pybind11::dict out;
    out[time_name] = times;
    out["a"] = r.a;
    out["u"] = r.u;
    out["l2"] = r.l2;
    out["stats"] = stats_dict(r.stats);
    return out;
}

inline pybind11::dict flow_dict(const FlowResult& r) { return ode_result_dict(r, r.t, "t"); }
inline pybind11::dict limit_dict(const LimitResult& r) {
    pybind11::dict out = ode_result_dict(r, r.tau, "tau");
    out["cond"] = r.cond;
    return out;
}

}  // namespace ttnn::bindings
