// Rosenbrock-W method ROS34PW2 (Rang & Angermann, BIT 45, 2005) for autonomous
// systems (docs/maths/dynamics.md#stiff-steps).
//
// In the published form, with any matrix A in place of the Jacobian,
//   (I − γhA) k_i = h rhs(y + Σ_{j<i} α_ij k_j) + hA Σ_{j<i} γ_ij k_j,   y_new = y + Σ b_i k_i.
// With Γ = (γ_ij) (lower triangular, diagonal γ) and g = Γ k, this is
//   (I/(γh) − A) g_i = rhs(y + Σ_{j<i} a_ij g_j) + Σ_{j<i} (c_ij / h) g_j,
//   a = α Γ⁻¹,  c_ij = −(Γ⁻¹)_ij (i > j),  y_new = y + Σ (bᵀΓ⁻¹)_i g_i,
// which needs no product A·g (Hairer & Wanner II §IV.7); the transformed
// coefficients are computed once from the published ones below. The method is
// of order 3 for any A (a W-method), with an embedded order-2 solution b̂ for
// the error estimate, stiffly accurate and L-stable when A is the Jacobian.
#include <array>

#include "ttnn/ode.hpp"

namespace ttnn {

namespace {

constexpr int S = 4;  // stages
constexpr double gam = 4.3586652150845900e-01;

struct Tableau {
    double a[S][S] = {};  // a = α Γ⁻¹ (strictly lower)
    double c[S][S] = {};  // c_ij = −(Γ⁻¹)_ij (strictly lower)
    double m[S] = {};     // bᵀ Γ⁻¹
    double e[S] = {};     // (b − b̂)ᵀ Γ⁻¹: the error estimate's weights
};

Tableau transformed_tableau() {
    // Published coefficients (α_ij, γ_ij strictly lower; b order 3, b̂ order 2).
    const double alpha[S][S] = {{0, 0, 0, 0},
                                {8.7173304301691801e-01, 0, 0, 0},
                                {8.4457060015369423e-01, -1.1299064236484185e-01, 0, 0},
                                {0, 0, 1, 0}};
    const double gamma[S][S] = {{gam, 0, 0, 0},
                                {-8.7173304301691801e-01, gam, 0, 0},
                                {-9.0338057013044082e-01, 5.4180672388095326e-02, gam, 0},
                                {2.4212380706095346e-01, -1.2232505839045147e+00,
                                 5.4526025533510214e-01, gam}};
    const double b[S] = {2.4212380706095346e-01, -1.2232505839045147e+00,
                         1.5452602553351020e+00, gam};
    const double bhat[S] = {3.7810903145819369e-01, -9.6042292212423178e-02, 0.5,
                            2.1793326075422950e-01};
    // Γ⁻¹ by forward substitution, column by column.
    double inv[S][S] = {};
    for (int j = 0; j < S; ++j) {
        for (int i = 0; i < S; ++i) {
            double v = i == j ? 1.0 : 0.0;
            for (int k = 0; k < i; ++k) v -= gamma[i][k] * inv[k][j];
            inv[i][j] = v / gamma[i][i];
        }
    }
    Tableau t;
    for (int i = 0; i < S; ++i) {
        for (int j = 0; j < i; ++j) {
            for (int k = j; k < i; ++k) t.a[i][j] += alpha[i][k] * inv[k][j];
            t.c[i][j] = -inv[i][j];
        }
    }
    for (int j = 0; j < S; ++j) {
        for (int i = j; i < S; ++i) {
            t.m[j] += b[i] * inv[i][j];
            t.e[j] += (b[i] - bhat[i]) * inv[i][j];
        }
    }
    return t;
}

// A is rebuilt at the first attempt from a state reached after refresh_every
// accepted steps or after a rejection; W follows h at every attempt.
class RosenbrockW final : public OdeStepper {
public:
    RosenbrockW(const OdeRhs& rhs, const WMatrix& w, int refresh_every)
        : OdeStepper(rhs, Control{3, false, false}), w_(w), refresh_every_(refresh_every) {}

    void attempt(const Eigen::VectorXd& y, double hs, OdeStats& st) override {
        static const Tableau tab = transformed_tableau();
        const bool fresh = since_fresh_ >= refresh_every_;
        w_.set(y, gam * hs, fresh);
        if (fresh) since_fresh_ = 0;
        for (int i = 0; i < S; ++i) {
            if (i == 0) {
                fs_ = f;
            } else {
                arg_ = y;
                for (int j = 0; j < i; ++j) arg_ += tab.a[i][j] * g_[j];
                rhs(arg_, fs_);
                ++st.rhs_calls;
                for (int j = 0; j < i; ++j) fs_ += (tab.c[i][j] / hs) * g_[j];
            }
            w_.solve(fs_);
            g_[i] = fs_;
        }
        y_new = y;
        err.setZero();
        for (int i = 0; i < S; ++i) {
            y_new += tab.m[i] * g_[i];
            err += tab.e[i] * g_[i];
        }
    }

    void accepted(double) override { ++since_fresh_; }

    void rejected() override {
        if (since_fresh_ > 0) since_fresh_ = refresh_every_;  // A is stale: rebuild it
    }

protected:
    void restart(Eigen::Index n) override {
        for (Eigen::VectorXd* v : {&f, &fs_, &arg_, &y_new, &f_new, &err}) v->resize(n);
        since_fresh_ = refresh_every_;
    }

private:
    const WMatrix& w_;
    int refresh_every_;
    int since_fresh_ = 0;  // accepted steps since A was rebuilt
    Eigen::VectorXd fs_, arg_;
    std::array<Eigen::VectorXd, S> g_;
};

}  // namespace

std::unique_ptr<OdeStepper> make_rosenbrock_w(const OdeRhs& rhs, const WMatrix& w,
                                              int refresh_every) {
    return std::make_unique<RosenbrockW>(rhs, w, refresh_every);
}

std::vector<Eigen::VectorXd> ode_solve_rosenbrock_w(const OdeRhs& rhs, const WMatrix& w,
                                                    const Eigen::VectorXd& y0,
                                                    const std::vector<double>& times,
                                                    const OdeOptions& opt, const Poll& poll,
                                                    OdeStats* stats, int refresh_every) {
    RosenbrockW rosenbrock_w(rhs, w, refresh_every);
    return ode_integrate(rosenbrock_w, y0, times, opt, poll, stats);
}

}  // namespace ttnn
