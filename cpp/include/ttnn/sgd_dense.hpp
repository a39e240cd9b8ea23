// The SGD kernel for relu (no saturation, so no prefix structure): the direct
// O(m) loop of docs/maths/dynamics.md#online-sgd. Its mini-batch steps are in
// sgd_minibatch.hpp; sgd.cpp drives it. Internal to sgd.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include <Eigen/Core>

#include "ttnn/activation.hpp"
#include "ttnn/network.hpp"

namespace ttnn::sgd_detail {

template <Activation A>
class DenseKernel {
public:
    DenseKernel(const Network& net, double h, double eps)
        : m_(static_cast<int>(net.m())), eta_(net.eta), h_(h), eps_(eps), a_(net.a), u_(net.u),
          s_(m_), ds_(m_) {}

    bool step(double x, double y) {
        double f = a_[0];
        for (int j = 0; j < m_; ++j) {
            const double z = x - u_[j];
            s_[j] = sigma_eta<A>(z, eta_);
            ds_[j] = dsigma_eta<A>(z, eta_);
            f += a_[j + 1] * s_[j];
        }
        const double hr = h_ * 2.0 * (f - y);
        if (!std::isfinite(hr)) return false;
        a_[0] -= hr;
        bool finite = std::isfinite(a_[0]);
        for (int j = 0; j < m_; ++j) {
            const double aj = a_[j + 1];
            a_[j + 1] = aj - hr * s_[j];
            u_[j] += eps_ * hr * aj * ds_[j];
            finite = finite && std::isfinite(a_[j + 1]) && std::isfinite(u_[j]);
        }
        return finite;
    }

    // Mini-batch steps (defined in sgd_minibatch.hpp), as SortedKernel's.
    bool step_batch(const double* xs, const double* ys, int B);
    bool step_batch_parts(const double* xs, const double* ys, int B, int threads);
    // The measure of a mini-batch step's work for the split's threshold.
    double batch_work(int B) const { return static_cast<double>(B) * m_; }

    void resync() {}

    void write(double* a, double* u) const {
        std::copy(a_.data(), a_.data() + m_ + 1, a);
        std::copy(u_.data(), u_.data() + m_, u);
    }

private:
    int m_;
    double eta_, h_, eps_;
    Eigen::VectorXd a_, u_, s_, ds_;
    Eigen::VectorXd hr_, da_, du_;  // scratch of step_batch
    // Each block's result in step_batch_parts, on its own cache line.
    struct alignas(64) BlockFlag {
        bool bad = false;
    };
    std::vector<BlockFlag> block_bad_;
};

}  // namespace ttnn::sgd_detail
