// The mean-field PDE of the circle model (docs/maths/circle.md#the-pde):
// ∂_t f = −½ ∂_θ (f ∂_θ g), g = (f*/f)², by conservative finite volumes on n
// equal cells of the circle, integrated by the Rosenbrock-W method of ode.hpp
// with the exact cyclic tridiagonal Jacobian.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "ttnn/circle.hpp"
#include "ttnn/ode.hpp"

namespace ttnn::circle {

namespace {
constexpr double kTwoPi = 2.0 * kPi;
}

// Face k+½ lies between cells k and k+1 (mod n). Flux F_k = ½ f̄_k (g_{k+1} − g_k)/h with
// f̄_k = (f_k + f_{k+1})/2, and r_k = −(F_k − F_{k−1})/h: Σ_k r_k telescopes to 0.
void pde_rhs(const Eigen::VectorXd& f, const Eigen::VectorXd& fstar, Eigen::VectorXd& r) {
    const Eigen::Index n = f.size();
    const double h = kTwoPi / static_cast<double>(n);
    r.resize(n);
    for (Eigen::Index k = 0; k < n; ++k) {
        // Positivity is part of the model: a trial state leaving it is rejected
        // (the integrator retries a non-finite stage with a smaller step).
        if (!(f[k] > 0.0)) {
            r.setConstant(std::numeric_limits<double>::quiet_NaN());
            return;
        }
    }
    auto g = [&](Eigen::Index k) {
        const double q = fstar[k] / f[k];
        return q * q;
    };
    Eigen::VectorXd flux(n);
    for (Eigen::Index k = 0; k < n; ++k) {
        const Eigen::Index k1 = k + 1 == n ? 0 : k + 1;
        flux[k] = 0.25 * (f[k] + f[k1]) * (g(k1) - g(k)) / h;
    }
    for (Eigen::Index k = 0; k < n; ++k) {
        const Eigen::Index km = k == 0 ? n - 1 : k - 1;
        r[k] = -(flux[k] - flux[km]) / h;
    }
}

void pde_jacobian(const Eigen::VectorXd& f, const Eigen::VectorXd& fstar, Eigen::VectorXd& sub,
                  Eigen::VectorXd& diag, Eigen::VectorXd& sup) {
    const Eigen::Index n = f.size();
    const double h = kTwoPi / static_cast<double>(n);
    Eigen::VectorXd g(n), dg(n), dleft(n), dright(n);
    for (Eigen::Index k = 0; k < n; ++k) {
        const double q = fstar[k] / f[k];
        g[k] = q * q;
        dg[k] = -2.0 * q * q / f[k];  // d g_k / d f_k
    }
    // dleft[k] = ∂F_k/∂f_k, dright[k] = ∂F_k/∂f_{k+1}.
    for (Eigen::Index k = 0; k < n; ++k) {
        const Eigen::Index k1 = k + 1 == n ? 0 : k + 1;
        const double jump = 0.25 * (g[k1] - g[k]) / h;
        const double mean = 0.25 * (f[k] + f[k1]) / h;
        dleft[k] = jump - mean * dg[k];
        dright[k] = jump + mean * dg[k1];
    }
    sub.resize(n);
    diag.resize(n);
    sup.resize(n);
    for (Eigen::Index k = 0; k < n; ++k) {
        const Eigen::Index km = k == 0 ? n - 1 : k - 1;
        sub[k] = dleft[km] / h;
        diag[k] = (dright[km] - dleft[k]) / h;
        sup[k] = -dright[k] / h;
    }
}

// Sherman–Morrison on the Thomas algorithm: A = T + u vᵀ with u = (γ, 0, …, 0, sup_{n−1}),
// v = (1, 0, …, 0, sub_0/γ), T tridiagonal with its corners removed.
void cyclic_tridiagonal_solve(const Eigen::VectorXd& sub, const Eigen::VectorXd& diag,
                              const Eigen::VectorXd& sup, Eigen::VectorXd& x) {
    const Eigen::Index n = diag.size();
    if (n < 3) throw std::invalid_argument("a cyclic tridiagonal system needs n >= 3");
    const double alpha = sup[n - 1], beta = sub[0];
    const double gamma = -diag[0];
    Eigen::VectorXd bb = diag;
    bb[0] -= gamma;
    bb[n - 1] -= alpha * beta / gamma;
    Eigen::VectorXd u = Eigen::VectorXd::Zero(n);
    u[0] = gamma;
    u[n - 1] = alpha;
    // Thomas on both right-hand sides at once.
    Eigen::VectorXd cp(n);
    double den = bb[0];
    cp[0] = sup[0] / den;
    x[0] /= den;
    u[0] /= den;
    for (Eigen::Index k = 1; k < n; ++k) {
        den = bb[k] - sub[k] * cp[k - 1];
        cp[k] = k + 1 < n ? sup[k] / den : 0.0;
        x[k] = (x[k] - sub[k] * x[k - 1]) / den;
        u[k] = (u[k] - sub[k] * u[k - 1]) / den;
    }
    for (Eigen::Index k = n - 2; k >= 0; --k) {
        x[k] -= cp[k] * x[k + 1];
        u[k] -= cp[k] * u[k + 1];
    }
    const double fact = (x[0] + beta * x[n - 1] / gamma) / (1.0 + u[0] + beta * u[n - 1] / gamma);
    x -= fact * u;
}

PdeResult pde_solve(Eigen::Index cells, double gamma, const std::vector<double>& times,
                    double rtol, double atol, std::int64_t max_steps, const Poll& poll) {
    if (cells < 3) throw std::invalid_argument("cells must be >= 3");
    if (times.empty()) throw std::invalid_argument("times must not be empty");
    for (std::size_t i = 0; i < times.size(); ++i) {
        if (!(std::isfinite(times[i]) && times[i] >= 0.0)) {
            throw std::invalid_argument("times must be finite and >= 0");
        }
        if (i > 0 && !(times[i] > times[i - 1])) {
            throw std::invalid_argument("times must be strictly increasing");
        }
    }
    if (!(rtol > 0.0) || !(atol > 0.0)) throw std::invalid_argument("rtol and atol must be > 0");
    if (max_steps < 0) throw std::invalid_argument("max_steps must be >= 0");
    const double h = kTwoPi / static_cast<double>(cells);
    const Eigen::VectorXd fstar = rho_cell_masses(cells, gamma) / h;
    std::vector<double> ts = times;
    const bool from_zero = ts.front() == 0.0;
    if (!from_zero) ts.insert(ts.begin(), 0.0);
    const Eigen::VectorXd f0 = Eigen::VectorXd::Constant(cells, 1.0 / kTwoPi);

    OdeRhs rhs = [&](const Eigen::VectorXd& f, Eigen::VectorXd& r) { pde_rhs(f, fstar, r); };
    Eigen::VectorXd sub, diag, sup, wsub, wdiag, wsup;
    WMatrix w;
    w.set = [&](const Eigen::VectorXd& f, double gamma_h, bool fresh) {
        if (fresh) pde_jacobian(f, fstar, sub, diag, sup);
        wsub = -sub;
        wsup = -sup;
        wdiag = (1.0 / gamma_h) - diag.array();
    };
    // W's columns sum to 1/(γh) because A's sum to 0: every stage keeps Σ_k g_k = 0, so the
    // mass is conserved up to the solve's rounding.
    w.solve = [&](Eigen::VectorXd& x) { cyclic_tridiagonal_solve(wsub, wdiag, wsup, x); };
    OdeOptions opt;
    opt.rtol = rtol;
    opt.atol = atol;
    opt.max_steps = max_steps;
    OdeStats st;
    std::vector<Eigen::VectorXd> ys = ode_solve_rosenbrock_w(rhs, w, f0, ts, opt, poll, &st, 1);
    PdeResult out;
    const std::size_t skip = from_zero ? 0 : 1;
    const auto K = static_cast<Eigen::Index>(times.size());
    out.t.resize(K);
    out.f.resize(K, cells);
    out.mass.resize(K);
    for (Eigen::Index k = 0; k < K; ++k) {
        const Eigen::VectorXd& y = ys[static_cast<std::size_t>(k) + skip];
        out.t[k] = times[static_cast<std::size_t>(k)];
        out.f.row(k) = y.transpose();
        out.mass[k] = y.sum() * h;
    }
    out.accepted = st.accepted;
    out.rejected = st.rejected;
    out.rhs_calls = st.rhs_calls;
    return out;
}

}  // namespace ttnn::circle
