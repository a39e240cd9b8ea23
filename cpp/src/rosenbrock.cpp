// Rosenbrock 4(3) for stiff autonomous systems (docs/maths/dynamics.md#stiff-steps).
//
// Each step solves, with W = I/(γh) − J and J the Jacobian of rhs at y,
//   W g_i = rhs(y + Σ_{j<i} α_ij g_j) + Σ_{j<i} (c_ij / h) g_j,   i = 1..4,
// (the form of Hairer & Wanner II §IV.7 that needs no product J·g), then
//   y_new = y + Σ b_i g_i  (order 4),   err = Σ e_i g_i  (order-4 minus order-3).
// Coefficients: Shampine's A-stable set (γ = 1/2); stage 4 reuses the argument of
// stage 3, so a step costs 2 calls of rhs besides the Jacobian and the call at
// the proposal.
#include <algorithm>
#include <cmath>

#include "ttnn/dense_lu.hpp"
#include "ttnn/ode.hpp"

namespace ttnn {

namespace {

constexpr double gam = 0.5;
constexpr double a21 = 2.0;
constexpr double a31 = 48.0 / 25, a32 = 6.0 / 25;
constexpr double c21 = -8.0;
constexpr double c31 = 372.0 / 25, c32 = 12.0 / 5;
constexpr double c41 = -112.0 / 125, c42 = -54.0 / 125, c43 = -2.0 / 5;
constexpr double b1 = 19.0 / 9, b2 = 1.0 / 2, b3 = 25.0 / 108, b4 = 125.0 / 108;
constexpr double e1 = 17.0 / 54, e2 = 7.0 / 36, e3 = 0.0, e4 = 125.0 / 108;

// J = ∂rhs/∂y at y by forward differences; f0 = rhs(y). The increment balances
// truncation against rounding (√machine-epsilon relative to |y_j|, at least to 1).
// Polls between columns: the n calls of rhs take minutes at large n.
void jacobian(const OdeRhs& rhs, const Eigen::VectorXd& y, const Eigen::VectorXd& f0,
              Eigen::MatrixXd& J, Eigen::VectorXd& work, Eigen::VectorXd& f, const Poll& poll) {
    const Eigen::Index n = y.size();
    J.resize(n, n);
    work = y;
    for (Eigen::Index j = 0; j < n; ++j) {
        const double delta = 1.4901161193847656e-8 * std::max(1.0, std::abs(y[j]));
        work[j] = y[j] + delta;
        const double dj = work[j] - y[j];  // the increment actually represented
        rhs(work, f);
        J.col(j) = (f - f0) / dj;
        work[j] = y[j];
        if (poll && poll()) throw Interrupted{};
    }
}

// The Jacobian is built at each new state (before its first attempt) and kept
// for the retries from that state.
class Rosenbrock final : public OdeStepper {
public:
    Rosenbrock(const OdeRhs& rhs, const Poll& poll)
        : OdeStepper(rhs, Control{4, false, false}), poll_(poll) {}

    void attempt(const Eigen::VectorXd& y, double hs, OdeStats& st) override {
        const Eigen::Index n = y.size();
        if (!have_jacobian_) {
            jacobian(rhs, y, f, J_, work_, fs_, poll_);
            st.rhs_calls += n;
            have_jacobian_ = true;
        }
        // At the largest n a single pass over an n × n matrix (a solve, a copy,
        // above all the first one, which touches fresh pages) outlasts the
        // Ctrl-C bound: poll between solves, and build W by blocks of columns.
        const auto stop = [&] {
            if (poll_ && poll_()) throw Interrupted{};
        };
        for (Eigen::Index c = 0; c < n; c += 256) {
            const Eigen::Index cb = std::min<Eigen::Index>(256, n - c);
            W_.middleCols(c, cb) = -J_.middleCols(c, cb);
            stop();
        }
        W_.diagonal().array() += 1.0 / (gam * hs);
        if (!lu_.compute(W_, poll_)) throw Interrupted{};
        g1_ = lu_.solve(f);
        stop();
        tmp_ = y + a21 * g1_;
        rhs(tmp_, fs_);
        g2_ = lu_.solve(fs_ + (c21 / hs) * g1_);
        stop();
        tmp_ = y + a31 * g1_ + a32 * g2_;
        rhs(tmp_, fs_);
        g3_ = lu_.solve(fs_ + (c31 / hs) * g1_ + (c32 / hs) * g2_);
        stop();
        g4_ = lu_.solve(fs_ + (c41 / hs) * g1_ + (c42 / hs) * g2_ + (c43 / hs) * g3_);
        y_new = y + b1 * g1_ + b2 * g2_ + b3 * g3_ + b4 * g4_;
        err = e1 * g1_ + e2 * g2_ + e3 * g3_ + e4 * g4_;
        st.rhs_calls += 2;
    }

    void accepted(double) override { have_jacobian_ = false; }

protected:
    void restart(Eigen::Index n) override {
        for (Eigen::VectorXd* v : {&f, &fs_, &tmp_, &work_, &g1_, &g2_, &g3_, &g4_, &y_new,
                                   &f_new, &err}) {
            v->resize(n);
        }
        J_.resize(n, n);
        W_.resize(n, n);
        have_jacobian_ = false;
    }

private:
    const Poll& poll_;
    bool have_jacobian_ = false;  // J_ is at the current state
    Eigen::VectorXd fs_, tmp_, work_, g1_, g2_, g3_, g4_;
    Eigen::MatrixXd J_, W_;
    DenseLU lu_;  // interruptible: an O(n³) factorisation per step
};

}  // namespace

std::unique_ptr<OdeStepper> make_rosenbrock(const OdeRhs& rhs, const Poll& poll) {
    return std::make_unique<Rosenbrock>(rhs, poll);
}

std::vector<Eigen::VectorXd> ode_solve_rosenbrock(const OdeRhs& rhs, const Eigen::VectorXd& y0,
                                                  const std::vector<double>& times,
                                                  const OdeOptions& opt, const Poll& poll,
                                                  OdeStats* stats, const OdeOutput& on_output,
                                                  const OdeAccept& accept) {
    Rosenbrock rosenbrock(rhs, poll);
    return ode_integrate(rosenbrock, y0, times, opt, poll, stats, on_output, accept);
}

}  // namespace ttnn
