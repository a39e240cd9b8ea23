// Many independent gradient flows or finite-η limits in one call, in parallel
// over runs (OpenMP, parallel_runs): the flow and limit sweeps send each chunk
// of runs here, as the SGD and GD sweeps send theirs to sgd_ensemble and
// additive_gd_ensemble. Run i is exactly gradient_flow / finite_eta_limit with
// its own arguments, whatever thread takes it.
#pragma once

#include <exception>
#include <vector>

#include "ttnn/flow.hpp"
#include "ttnn/interrupt.hpp"
#include "ttnn/limit.hpp"
#include "ttnn/network.hpp"
#include "ttnn/ode.hpp"
#include "ttnn/target.hpp"

namespace ttnn {

// Run i: gradient_flow(nets[i], target, eps[i], t_end[i], snapshots, opt, method).
// Errors as in parallel_runs (rethrown, or returned in `errors` when given).
std::vector<FlowResult> gradient_flow_ensemble(const std::vector<Network>& nets,
                                               const Target& target,
                                               const std::vector<double>& eps,
                                               const std::vector<double>& t_end, int snapshots,
                                               const OdeOptions& opt, int threads,
                                               const Poll& poll,
                                               std::vector<std::exception_ptr>* errors = nullptr,
                                               FlowMethod method = FlowMethod::automatic);

// Run i: finite_eta_limit(nets[i], target, tau_end[i], ridge, snapshots, opt, method).
std::vector<LimitResult> finite_eta_limit_ensemble(
    const std::vector<Network>& nets, const Target& target,
    const std::vector<double>& tau_end, double ridge, int snapshots, const OdeOptions& opt,
    int threads, const Poll& poll, std::vector<std::exception_ptr>* errors = nullptr,
    OdeMethod method = OdeMethod::automatic);

}  // namespace ttnn
