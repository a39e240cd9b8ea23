// The circle ReLU model (docs/maths/circle.md): neurons are angles θ_j, the
// student is f(x) = (1/M) Σ_j u_j relu(w_j·x) with w_j = (cos θ_j, sin θ_j),
// inputs x ∈ R², and the teacher is a particle set with u = 1 drawn from ρ_γ.
//
// With samples sorted by angle, neuron j sees exactly the samples of the
// half-circle centred at θ_j, so every sum over samples that the criterion,
// its gradients and the ridge solve need is a difference of prefix sums: one
// product K·v costs O(N + M) and K is never formed.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "ttnn/interrupt.hpp"

namespace ttnn::circle {

constexpr double kPi = 3.14159265358979323846;

// θ taken to [−π, π).
double wrap_angle(double theta);

// ρ_γ normalised on [−π, π): ∝ q(θ) + ½ q(θ − 0.4π), q(θ) = 1 / (1 + γ sin²(θ/2)).
double rho(double theta, double gamma);
// The mass of ρ_γ in each of `cells` equal cells of [−π, π), by its closed-form CDF.
Eigen::VectorXd rho_cell_masses(Eigen::Index cells, double gamma);
// `count` exact draws of ρ_γ (inverse CDF of the chosen mode), stream as in Rng.
Eigen::VectorXd sample_rho(Eigen::Index count, double gamma, std::uint64_t seed,
                           std::uint64_t stream);
Eigen::VectorXd uniform_angles(Eigen::Index count, std::uint64_t seed, std::uint64_t stream);
// N × 2 standard normal inputs.
Eigen::MatrixXd gaussian_inputs(Eigen::Index n, std::uint64_t seed, std::uint64_t stream);

// The degree-1 arc-cosine kernel E[relu(w·x) relu(w′·x)] of two unit vectors at
// angle difference Δ (any real).
double arccos_kernel(double delta);

enum class Method { varpro, two_timescale };
Method method_from_name(const std::string& name);

// Neurons sorted by angle (the order every sweep needs), with their identities.
struct Neurons {
    std::vector<double> theta, c, s, u;  // sorted by theta ∈ [−π, π); c, s = cos, sin θ
    std::vector<Eigen::Index> id;        // original index of each sorted neuron
    Eigen::Index size() const { return static_cast<Eigen::Index>(theta.size()); }
    // From angles and outer weights in the caller's order.
    static Neurons from(const Eigen::VectorXd& theta, const Eigen::VectorXd& u);
    void refresh_trig();
    // Re-sort after a step (insertion sort: the neurons move little).
    void resort();
    Eigen::VectorXd theta_original() const;
    Eigen::VectorXd u_original() const;
};

// What evaluate() returns: the risk mean_n (f − y)² (or its expectation) and,
// per sorted neuron, D_j = mean_n (f − y)(x_n) 1[w_j·x_n > 0] (or its
// expectation), so that ∇_{w_j} J = u_j D_j / (λM) and (1/N) Φᵀ(f − y) = D_j·w_j.
struct Evaluation {
    double risk = 0.0;
    std::vector<double> d1, d2;
};

// For each sorted query, the sources ahead of it ([a0, a1)) and behind it ([a1, b1))
// on the source laid out twice (the population's sweeps, circle.cpp).
struct KernelWindows {
    std::vector<Eigen::Index> a0, a1, b1;
};

// The data of a run: the teacher's particles and either N samples (sorted by
// angle on construction) or the exact population. Read-only once built, so
// runs of an ensemble share it; the per-run arrays live in a Workspace.
class Problem {
public:
    // X: N × 2 samples; an X without rows means the exact population.
    Problem(const Eigen::VectorXd& teacher, const Eigen::MatrixXd& X);

    bool population() const { return n_ == 0; }
    Eigen::Index n_samples() const { return n_; }
    const Eigen::VectorXd& teacher() const { return teacher_; }
    // y in the caller's sample order (empty for the population).
    Eigen::VectorXd y_original() const;
    // mean_n y_n² (or E[y²]): the risk of the zero network.
    double y_square() const { return yy_; }

    struct Workspace {
        std::vector<Eigen::Index> lo, hi;    // per sorted neuron: its samples (doubled index)
        std::vector<Eigen::Index> slo, shi;  // per sorted sample: its neurons (doubled index)
        std::vector<double> pa, pb, g, b, r, p, ap;  // prefix sums and work vectors
        KernelWindows nwin;  // population: each neuron's ranges among the neurons
        std::vector<double> kt, gt1, gt2;  // population: teacher terms per neuron
    };
    // Prepares w for the neurons' current angles (arcs, or the population's kernels).
    void bind(const Neurons& nr, Workspace& w) const;
    // Φᵀy / N (or its expectation), per sorted neuron.
    void phi_t_y(const Neurons& nr, const Workspace& w, std::vector<double>& out) const;
    // (K v)_j for v per sorted neuron, K = ΦᵀΦ / (NM) (or its expectation).
    void k_times(const Neurons& nr, Workspace& w, const std::vector<double>& v,
                 std::vector<double>& out) const;
    // Student at the sorted samples, f_n = (1/M) Σ_j u_j relu(w_j·x_n).
    void predict(const Neurons& nr, Workspace& w, std::vector<double>& f) const;
    Evaluation evaluate(const Neurons& nr, Workspace& w) const;
    // Sorted-sample order → the caller's order.
    const std::vector<Eigen::Index>& sample_order() const { return order_; }

private:
    Eigen::VectorXd teacher_;
    Eigen::Index n_ = 0;
    std::vector<double> alpha_, x1_, x2_, y_;  // sorted by alpha
    std::vector<Eigen::Index> order_;          // original index of each sorted sample
    std::vector<double> py1_, py2_;            // prefix sums of y x1, y x2
    std::vector<double> tt_, tc_, ts_;  // population: sorted teacher angles, cos, sin
    std::vector<double> tpc_, tps_, tpec_, tpes_;  // and their kernel prefix sums
    double yy_ = 0.0;
};

// Solves (K + λI) u = Φᵀy/N + λ·1 ("biased": without + λ·1) by conjugate
// gradients from nr.u (warm start), overwriting nr.u. Stops when the recursive
// residual is below kCgTol·‖b‖, then checks the true residual (restarting
// from there if it is not). Returns the CG iterations used.
constexpr double kCgTol = 1e-13;
std::int64_t ridge_solve(const Problem& pb, Problem::Workspace& w, Neurons& nr, double lam,
                         bool biased);

double criterion(const Evaluation& ev, const Neurons& nr, double lam, bool biased);

// One training iteration in two halves. prepare(): bind the angles, project u
// (VarPro always, 2TS only when `project`), and evaluate at the state.
// move(): the feature step at time step dt (learning rate M·dt on w_j ∈ R²,
// then back to the circle) and, for 2TS, the outer step (learning rate λM).
struct StepInfo {
    Evaluation ev;
    double criterion = 0.0;
    std::int64_t cg = 0;
};
StepInfo prepare(const Problem& pb, Problem::Workspace& w, Neurons& nr, Method method,
                 double lam, bool biased, bool project);
void move(Neurons& nr, const Evaluation& ev, Method method, double lam, bool biased, double dt);

struct RunSpec {
    Eigen::VectorXd theta0;
    double lam = 1e-2;
    Method method = Method::varpro;
    bool biased = false;
    double dt = 1.0 / 1024;
    std::int64_t iterations = 0;
    std::vector<std::int64_t> record;  // increasing, within [0, iterations]
    // Optional: one density per recorded iteration (rows), as cell averages on
    // equal cells of [−π, π) (the PDE's output); the run records the MMD to each.
    Eigen::MatrixXd density;
};

struct RunResult {
    std::vector<std::int64_t> iterations;  // the recorded ones
    Eigen::MatrixXd theta, u;              // K × M, in the initial neurons' order
    Eigen::VectorXd criterion, risk, mmd_teacher, w1_teacher;  // K
    Eigen::VectorXd mmd_density;  // K, or empty without RunSpec::density
    std::int64_t cg_iterations = 0;        // over the whole run (VarPro and the start)
};

// Throws std::invalid_argument on bad specs, DivergenceError (with the
// iteration) when the state becomes non-finite, Interrupted when poll says so.
RunResult run(const Problem& pb, const RunSpec& spec, const Poll& poll);
void validate(const RunSpec& spec);

std::vector<RunResult> run_ensemble(const std::vector<std::shared_ptr<const Problem>>& problems,
                                    const std::vector<RunSpec>& specs, int threads,
                                    const Poll& poll,
                                    std::vector<std::exception_ptr>* errors = nullptr);

// ---- distances (circle_distance.cpp) ----
// Energy-distance MMD between weighted particle sets on the unit circle
// (kernel −‖x − y‖, V-statistics); empty weights mean uniform.
double mmd(const Eigen::VectorXd& a, const Eigen::VectorXd& wa, const Eigen::VectorXd& b,
           const Eigen::VectorXd& wb);
// Σ_i Σ_j wa_i wb_j ‖e^{ia_i} − e^{ib_j}‖ in O((n + m) log(n + m)).
double chord_sum(const Eigen::VectorXd& a, const Eigen::VectorXd& wa, const Eigen::VectorXd& b,
                 const Eigen::VectorXd& wb);
// Exact Wasserstein-1 distance (arc length) between weighted sets on the circle.
double w1(const Eigen::VectorXd& a, const Eigen::VectorXd& wa, const Eigen::VectorXd& b,
          const Eigen::VectorXd& wb);
// Exact Wasserstein-2 distance (arc length) between two uniform sets of the same size:
// the best of the n cyclic matchings of the sorted angles, O(n²).
double w2_uniform(const Eigen::VectorXd& a, const Eigen::VectorXd& b);
// The centres of `cells` equal cells of [−π, π).
Eigen::VectorXd cell_centres(Eigen::Index cells);

// ---- the PDE (circle_pde.cpp) ----
struct PdeResult {
    Eigen::VectorXd t;     // K requested times
    Eigen::MatrixXd f;     // K × cells, cell averages of the density
    Eigen::VectorXd mass;  // K, Σ_k f_k h
    std::int64_t accepted = 0, rejected = 0, rhs_calls = 0;
};
// The finite-volume right-hand side and its (cyclic tridiagonal) Jacobian:
// sub[k] = ∂r_k/∂f_{k−1}, diag[k] = ∂r_k/∂f_k, sup[k] = ∂r_k/∂f_{k+1} (indices mod n).
void pde_rhs(const Eigen::VectorXd& f, const Eigen::VectorXd& fstar, Eigen::VectorXd& r);
void pde_jacobian(const Eigen::VectorXd& f, const Eigen::VectorXd& fstar, Eigen::VectorXd& sub,
                  Eigen::VectorXd& diag, Eigen::VectorXd& sup);
// Solves the cyclic tridiagonal system in place (x ← A⁻¹ x).
void cyclic_tridiagonal_solve(const Eigen::VectorXd& sub, const Eigen::VectorXd& diag,
                              const Eigen::VectorXd& sup, Eigen::VectorXd& x);
PdeResult pde_solve(Eigen::Index cells, double gamma, const std::vector<double>& times,
                    double rtol, double atol, std::int64_t max_steps, const Poll& poll);

}  // namespace ttnn::circle
