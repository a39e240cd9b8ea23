#include "ttnn/ensemble.hpp"

#include <stdexcept>

#include "ttnn/parallel.hpp"

namespace ttnn {

std::vector<FlowResult> gradient_flow_ensemble(const std::vector<Network>& nets,
                                               const Target& target,
                                               const std::vector<double>& eps,
                                               const std::vector<double>& t_end, int snapshots,
                                               const OdeOptions& opt, int threads,
                                               const Poll& poll,
                                               std::vector<std::exception_ptr>* errors,
                                               FlowMethod method) {
    if (eps.size() != nets.size() || t_end.size() != nets.size()) {
        throw std::invalid_argument("gradient_flow_ensemble: one eps and t_end per network");
    }
    return parallel_runs<FlowResult>(
        static_cast<std::int64_t>(nets.size()), threads, poll,
        [&](std::int64_t i, const Poll& run_poll) {
            const auto k = static_cast<std::size_t>(i);
            return gradient_flow(nets[k], target, eps[k], t_end[k], snapshots, opt, run_poll,
                                 method);
        },
        errors);
}

std::vector<LimitResult> finite_eta_limit_ensemble(
    const std::vector<Network>& nets, const Target& target,
    const std::vector<double>& tau_end, double ridge, int snapshots, const OdeOptions& opt,
    int threads, const Poll& poll, std::vector<std::exception_ptr>* errors, OdeMethod method) {
    if (tau_end.size() != nets.size()) {
        throw std::invalid_argument("finite_eta_limit_ensemble: one tau_end per network");
    }
    return parallel_runs<LimitResult>(
        static_cast<std::int64_t>(nets.size()), threads, poll,
        [&](std::int64_t i, const Poll& run_poll) {
            const auto k = static_cast<std::size_t>(i);
            return finite_eta_limit(nets[k], target, tau_end[k], ridge, snapshots, opt, run_poll,
                                    method);
        },
        errors);
}

}  // namespace ttnn
