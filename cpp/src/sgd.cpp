// The SGD driver and API (sgd.hpp): the step loop over draws, snapshots,
// polling, and the choice of kernel. The kernels are in the internal headers
// sgd_sorted.hpp (windowed activations, with the store rule), sgd_dense.hpp
// (relu) and sgd_minibatch.hpp (mini-batch steps); they are included here
// only, so that the step loops below inline them (flatten) in one translation
// unit with their AVX2 clones.
#include "ttnn/sgd.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <type_traits>

#include "ttnn/inner_threads.hpp"
#include "ttnn/loss.hpp"
#include "ttnn/parallel.hpp"
#include "ttnn/sgd_clones.hpp"
#include "ttnn/sgd_minibatch.hpp"

namespace ttnn {

namespace {

using sgd_detail::DenseKernel;
using sgd_detail::MiniBatch;
using sgd_detail::SortedKernel;
using sgd_detail::use_flat_store;

// The prefix sums are recomputed every kResyncEvery steps (at fixed step
// numbers, so that results never depend on when a run was polled).
constexpr std::int64_t kResyncEvery = std::int64_t{1} << 20;
// Steps between two polls: about 2²² neuron updates, a few milliseconds of
// work whatever m is, so that Ctrl-C lands quickly at large m too.
constexpr std::int64_t kPollWork = std::int64_t{1} << 22;


// One sample of a sampled run: x ~ U[0, 1), then its label noise.
inline void draw_sample(Rng& rng, const Target& target, const Noise& noise, double& x,
                        double& y) {
    x = rng.uniform();
    y = target(x) + noise.draw(rng);
}

struct StepRange {
    std::int64_t from, to;
};

// Runs steps [from, to); returns 0, or the 1-based step whose update diverged.
// Nothing may be thrown from here (a cloned, flattened loop): the caller polls.
template <class Kernel>
TTNN_STEP_CLONES std::int64_t advance(Kernel& kernel, StepRange r, Rng& rng_io,
                                      const Target* target, const Noise& noise,
                                      SgdData data) {
    Rng rng = rng_io;  // a local copy keeps the generator's state in registers
    std::int64_t bad = 0;
    for (std::int64_t p = r.from; p < r.to; ++p) {
        double x, y;
        if (data.x != nullptr) {
            const std::int64_t i = data.index(p);
            x = data.x[i];
            y = data.y[i];
        } else {
            draw_sample(rng, *target, noise, x, y);
        }
        if (!kernel.step(x, y)) {
            bad = p + 1;
            break;
        }
        if (((p + 1) & (kResyncEvery - 1)) == 0) kernel.resync();
    }
    rng_io = rng;
    return bad;
}

// advance for a run sampling a piecewise-constant f* with noise of kind K:
// no test per draw on the source, the target's kind or the noise's kind.
template <class Kernel, Noise::Kind K>
TTNN_STEP_CLONES std::int64_t advance_sampled(Kernel& kernel, StepRange r, Rng& rng_io,
                                              const PiecewiseConstant& target, double scale) {
    Rng rng = rng_io;  // as in advance
    std::int64_t bad = 0;
    for (std::int64_t p = r.from; p < r.to; ++p) {
        const double x = rng.uniform();
        const double y = target(x) + Noise::draw_as<K>(rng, scale);
        if (!kernel.step(x, y)) {
            bad = p + 1;
            break;
        }
        if (((p + 1) & (kResyncEvery - 1)) == 0) kernel.resync();
    }
    rng_io = rng;
    return bad;
}

// Steps [from, to) of a run, through advance_sampled when it applies.
template <class Kernel>
std::int64_t advance_any(Kernel& kernel, StepRange r, Rng& rng, const Target* target,
                         const Noise& noise, SgdData data) {
    const PiecewiseConstant* pc = target != nullptr ? target->piecewise_constant() : nullptr;
    if (data.x != nullptr || pc == nullptr) return advance(kernel, r, rng, target, noise, data);
    switch (noise.kind) {
        case Noise::Kind::uniform:
            return advance_sampled<Kernel, Noise::Kind::uniform>(kernel, r, rng, *pc, noise.scale);
        case Noise::Kind::gaussian:
            return advance_sampled<Kernel, Noise::Kind::gaussian>(kernel, r, rng, *pc, noise.scale);
        default:
            return advance_sampled<Kernel, Noise::Kind::none>(kernel, r, rng, *pc, noise.scale);
    }
}

template <class Kernel>
SgdResult run_with(Kernel& kernel, const Network& net, const Target* target,
                   const SgdOptions& opt, SgdData data, const Poll& poll) {
    const auto schedule = snapshot_steps(opt.steps, opt.snapshots);
    const Eigen::Index K = opt.snapshots, m = net.m();
    SgdResult res{schedule, RowMatrix(K, m + 1), RowMatrix(K, m), Eigen::VectorXd()};

    Rng rng(opt.seed, opt.stream);
    // Steps are counted in draws (B per step, see MiniBatch); snapshots fall
    // on step boundaries.
    const std::int64_t B = opt.batch;
    const std::int64_t chunk = std::max<std::int64_t>(1, kPollWork / ((m + 1) * B));
    std::int64_t p = 0;
    for (Eigen::Index k = 0; k < K; ++k) {
        while (p < schedule[k]) {
            const std::int64_t to = schedule[k] - p > chunk ? p + chunk : schedule[k];
            const std::int64_t bad_draw =
                advance_any(kernel, StepRange{p * B, to * B}, rng, target, opt.noise, data);
            const std::int64_t bad = (bad_draw + B - 1) / B;
            if (bad != 0) {
                char h_text[32];  // %g: std::to_string(1e300) would print 300 digits
                std::snprintf(h_text, sizeof h_text, "%.6g", opt.h);
                throw DivergenceError(bad, "SGD diverged at step " + std::to_string(bad) +
                                               ": the parameters became non-finite (h = " +
                                               h_text + "); try a smaller h");
            }
            if (poll(to - p)) throw Interrupted{};
            p = to;
        }
        kernel.write(res.a.row(k).data(), res.u.row(k).data());
    }
    if (target != nullptr) {
        res.l2.resize(K);
        for (Eigen::Index k = 0; k < K; ++k) {
            const Network snap(res.a.row(k).transpose(), res.u.row(k).transpose(), net.eta, net.act);
            // The parameters are finite here; a loss that still overflows (|f|
            // beyond ~1e154) is reported as +inf, never as NaN.
            const double l2 = l2_error(snap, *target);
            res.l2[k] = std::isnan(l2) ? std::numeric_limits<double>::infinity() : l2;
            if (poll()) throw Interrupted{};
        }
    }
    return res;
}

}  // namespace

void sample_stream(const Target& target, const Noise& noise, std::uint64_t seed,
                   std::uint64_t stream, std::int64_t draws, double* x, double* y,
                   const Poll& poll) {
    Rng rng(seed, stream);
    // Blocks of 2¹⁶ draws (~1 ms) between polls: 2·10⁸ draws take seconds.
    constexpr std::int64_t block = std::int64_t{1} << 16;
    for (std::int64_t p0 = 0; p0 < draws; p0 += block) {
        if (poll(p0 == 0 ? 0 : block)) throw Interrupted{};
        const std::int64_t p1 = std::min(draws, p0 + block);
        for (std::int64_t p = p0; p < p1; ++p) draw_sample(rng, target, noise, x[p], y[p]);
    }
}

std::vector<std::int64_t> snapshot_steps(std::int64_t steps, std::int64_t snapshots) {
    if (steps < 0) throw std::invalid_argument("steps must be >= 0");
    // snapshots − 1 > steps rather than snapshots > steps + 1: no overflow at 2⁶³ − 1.
    if (snapshots < 2 || snapshots - 1 > steps) {
        throw std::invalid_argument("snapshots must be in [2, steps + 1]");
    }
    std::vector<std::int64_t> out(snapshots);
    const std::int64_t d = snapshots - 1;
    // round(k P / d) with halves up; 128-bit so that k P cannot overflow.
    for (std::int64_t k = 0; k < snapshots; ++k) {
        const __int128 num = static_cast<__int128>(2 * k) * steps + d;
        out[k] = static_cast<std::int64_t>(num / (2 * d));
    }
    return out;
}

SgdResult sgd_run(const Network& net, const Target* target, const SgdOptions& opt,
                  SgdData data, const Poll& poll) {
    if (!(opt.h > 0.0) || !std::isfinite(opt.h)) throw std::invalid_argument("h must be > 0");
    if (!(opt.eps >= 0.0) || !std::isfinite(opt.eps)) throw std::invalid_argument("eps must be >= 0");
    if (data.x == nullptr && target == nullptr) {
        throw std::invalid_argument("sgd needs a target or replayed data");
    }
    if (opt.batch < 1 || opt.batch > std::numeric_limits<int>::max()) {
        throw std::invalid_argument("batch must be >= 1");
    }
    // B = 1 runs the kernel's own step: bit for bit the online SGD.
    const int threads = inner_threads(opt.threads);
    const auto run = [&](auto& kernel) {
        if (opt.batch == 1) return run_with(kernel, net, target, opt, data, poll);
        MiniBatch<std::decay_t<decltype(kernel)>> batched(kernel, static_cast<int>(opt.batch),
                                                          threads);
        return run_with(batched, net, target, opt, data, poll);
    };
    return dispatch_activation(net.act, [&](auto A) {
        if constexpr (is_windowed(A.value)) {
            if (use_flat_store(net)) {
                SortedKernel<A.value, FlatPrefixSums> kernel(net, opt.h, opt.eps);
                return run(kernel);
            }
            SortedKernel<A.value, BlockedPrefixSums> kernel(net, opt.h, opt.eps);
            return run(kernel);
        } else {
            DenseKernel<A.value> kernel(net, opt.h, opt.eps);
            return run(kernel);
        }
    });
}

std::string sgd_kernel(const Network& net, std::int64_t batch, int threads) {
    if (batch < 1 || batch > std::numeric_limits<int>::max()) {
        throw std::invalid_argument("batch must be >= 1");
    }
    const int B = static_cast<int>(batch), n = inner_threads(threads);
    const auto describe = [&](const auto& kernel, std::string name) {
        using Kernel = std::decay_t<decltype(kernel)>;
        if (B > 1 && MiniBatch<Kernel>::parted(kernel, B, n)) name += "+parts";
        return name;
    };
    return dispatch_activation(net.act, [&](auto A) -> std::string {
        if constexpr (is_windowed(A.value)) {
            if (use_flat_store(net)) {
                return describe(SortedKernel<A.value, FlatPrefixSums>(net, 1.0, 1.0), "flat");
            }
            SortedKernel<A.value, BlockedPrefixSums> kernel(net, 1.0, 1.0);
            const bool wide = B == 1 && static_cast<double>(net.m()) * net.eta >=
                                            SortedKernel<A.value, BlockedPrefixSums>::kWideWindow;
            return describe(kernel, wide ? "blocked-wide" : "blocked");
        } else {
            return describe(DenseKernel<A.value>(net, 1.0, 1.0), "dense");
        }
    });
}

std::vector<SgdResult> sgd_ensemble(const std::vector<Network>& nets, const Target* target,
                                    const std::vector<SgdOptions>& opts,
                                    const std::vector<SgdData>& data, int threads,
                                    const Poll& poll, std::vector<std::exception_ptr>* errors) {
    if (nets.size() != opts.size()) throw std::invalid_argument("one option set per network");
    if (!data.empty() && data.size() != nets.size()) {
        throw std::invalid_argument("data must be empty or hold one entry per network");
    }
    return parallel_runs<SgdResult>(
        static_cast<std::int64_t>(nets.size()), threads, poll,
        [&](std::int64_t i, const Poll& run_poll) {
            return sgd_run(nets[i], target, opts[i], data.empty() ? SgdData{} : data[i], run_poll);
        },
        errors);
}

}  // namespace ttnn
