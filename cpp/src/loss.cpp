#include "ttnn/loss.hpp"

#include "ttnn/quadrature.hpp"

namespace ttnn {

namespace {

using GL = GaussLegendre4;

// The four nodes of a window piece and the residual f − f* there: the
// saturated constant minus the target plus the window terms, summed in window
// order (σ_η without branches, so that the node loop vectorises; the same
// values as sigma_eta).
template <Activation A>
inline void residual_at_nodes(const Network& net, const Piece& pc, double (&x)[4],
                              double (&f)[4]) {
    const double mid = 0.5 * (pc.lo + pc.hi), half = 0.5 * (pc.hi - pc.lo);
    double sig[4];
    for (int q = 0; q < 4; ++q) {
        x[q] = mid + half * GaussLegendre4::node[q];
        f[q] = pc.saturated_sum - pc.target_at(x[q]);
    }
    for (int j : *pc.window) {
        for (int q = 0; q < 4; ++q) {
            double ds;
            window_activation<A>(x[q] - net.u[j], net.eta, sig[q], ds);
        }
        for (int q = 0; q < 4; ++q) f[q] += net.a[j + 1] * sig[q];
    }
}

}  // namespace

double l2_error(const Network& net, const Target& target) {
    return dispatch_activation(net.act, [&](auto A) {
        double total = 0.0;
        sweep_pieces(net, target, [&](const Piece& pc) {
            if (pc.window->empty() && pc.target_constant) {  // f − f* is constant: no nodes
                const double d = pc.saturated_sum - pc.target;
                total += (pc.hi - pc.lo) * d * d;
                return;
            }
            double x[4], f[4];
            residual_at_nodes<A.value>(net, pc, x, f);
            const double half = 0.5 * (pc.hi - pc.lo);
            double s = 0.0;
            for (int q = 0; q < 4; ++q) {
                const double d = f[q];
                s += GL::weight[q] * d * d;
            }
            total += half * s;
        });
        return total;
    });
}

L2Gradient l2_gradient(const Network& net, const Target& target) {
    const Eigen::Index m = net.m();
    L2Gradient out{0.0, Eigen::VectorXd::Zero(m + 1), Eigen::VectorXd::Zero(m)};
    // A saturated neuron has φ_j = 1 from the piece where it saturated to 1, so
    // its ∂L/∂a_j is 2 ∫ (f − f*) over that tail: gather the integral of the
    // residual per piece, then add suffix sums, instead of touching every
    // saturated neuron at every node.
    std::vector<double> residual_integral;
    std::vector<std::pair<int, std::size_t>> saturated_at;  // (neuron, piece)
    dispatch_activation(net.act, [&](auto A) {
        sweep_pieces(net, target, [&](const Piece& pc) {
            const std::size_t k = residual_integral.size();
            for (int j : *pc.saturated_new) saturated_at.emplace_back(j, k);
            const double half = 0.5 * (pc.hi - pc.lo);
            double x[4], f[4], wd[4], sig[4], dsig[4];
            residual_at_nodes<A.value>(net, pc, x, f);
            double loss = 0.0, res = 0.0;
            for (int q = 0; q < 4; ++q) {
                const double d = f[q];
                wd[q] = half * GL::weight[q] * d;
                loss += wd[q] * d;
                res += wd[q];
            }
            for (int j : *pc.window) {
                for (int q = 0; q < 4; ++q) {
                    window_activation<A.value>(x[q] - net.u[j], net.eta, sig[q], dsig[q]);
                }
                for (int q = 0; q < 4; ++q) {
                    out.grad_a[j + 1] += 2.0 * wd[q] * sig[q];
                    out.grad_u[j] -= 2.0 * net.a[j + 1] * wd[q] * dsig[q];
                }
            }
            out.loss += loss;
            residual_integral.push_back(res);
        });
    });
    // Neurons saturated from the start (u_j + η/2 ≤ 0) and the bias see the
    // whole of [0, 1]: they are the suffix from piece 0.
    std::vector<double> suffix(residual_integral.size() + 1, 0.0);
    for (std::size_t k = residual_integral.size(); k-- > 0;) {
        suffix[k] = suffix[k + 1] + residual_integral[k];
    }
    out.grad_a[0] = 2.0 * suffix[0];
    for (auto [j, k] : saturated_at) out.grad_a[j + 1] += 2.0 * suffix[k];
    return out;
}

}  // namespace ttnn
