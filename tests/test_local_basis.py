"""a*(u) through the banded local basis (docs/maths/local_basis.md): the C++ banded
path against the NumPy banded twin, the dense solve of G + (ridge + δ) I and the
minimum-norm numpy.linalg.lstsq, with tolerances derived from the conditioning; the
singular cases (no fallback any more); continuity as two neurons meet; the condition
estimate; relu's dense Cholesky."""

import numpy as np
import pytest

import ttnn
from ttnn import _core
from ttnn import reference as ref
from ttnn.reference.local_basis import difference_gram, tikhonov

TGT = ttnn.PiecewiseConstant([0.2, 0.35, 0.5, 0.65, 0.8], [1, 5, 1, 3, 1, 5])
EPS = np.finfo(float).eps


def spread_u(m, rng, lo=0.0, hi=1.0):
    """Jittered grid on [lo, hi]: neurons at least ~0.4 spacing apart, so a*(u) is
    well conditioned (random uniform u has pairs ~1/m² apart)."""
    step = (hi - lo) / m
    return lo + step * (np.arange(m) + 0.5 + 0.3 * rng.uniform(-1, 1, m))


def lstsq_outer(u, eta, act, ridge, target=TGT):
    g, b = ref.gram_system(u, eta, *ref_target(target), act)
    return np.linalg.lstsq(g + ridge * np.eye(len(b)), b, rcond=1e-12)[0]


def ref_target(target):
    if isinstance(target, ttnn.PiecewiseConstant):
        return np.asarray(target.breaks), np.asarray(target.values)
    return ref.Teacher(
        np.asarray(target.a), np.asarray(target.u), target.eta, target.activation
    ), None


def solve_bound(matrix, x):
    """Forward-error bound of a backward-stable solve of matrix · x = rhs in floating
    point: Cholesky, LU with partial pivoting and the SVD behind lstsq all have a
    backward error of at most about n ε relative (Higham, Thms 9.4, 10.3 and 20.3,
    γ_cn with a small c), so the forward error is at most n · ε · κ₁(matrix) · ‖x‖,
    n the size of the system. Any BLAS thread count only reorders the sums inside
    those bounds, so this holds whatever OPENBLAS_NUM_THREADS is."""
    n = matrix.shape[0]
    return n * EPS * np.linalg.cond(matrix, 1) * np.linalg.norm(x)


def rounding_bounds(u, eta, act, ridge, target=TGT):
    """Forward-error bounds of the two ways to solve for a*(u) (solve_bound), with
    μ = ridge + δ:
    - banded: the error in c = L a is ≲ n ε κ₁(H + μDᵀD) ‖c‖, and a = D c doubles it;
    - dense: ≲ n ε κ₁(G + μI) ‖a‖.
    Returns (banded bound, dense bound, μ)."""
    mu = ridge + tikhonov(len(u))
    h, beta, _ = ref.local_system(u, eta, *ref_target(target), act)
    a_c = h + mu * difference_gram(len(beta))
    c = np.linalg.solve(a_c, beta)
    g, b = ref.gram_system(u, eta, *ref_target(target), act)
    a_g = g + mu * np.eye(len(b))
    a = np.linalg.solve(a_g, b)
    return 2 * solve_bound(a_c, c), solve_bound(a_g, a), mu


CASES = [
    # (m, eta * m, lo, hi): eta * m is how many windows overlap (0.3: none, 4: four).
    # The cases are well posed (λ_min(G) ≫ δ, asserted), so that the minimum-norm
    # comparison is meaningful; tolerances come from the conditioning (rounding_bounds).
    (1, 0.3, 0.0, 1.0),
    (2, 1.0, 0.0, 1.0),
    (7, 2.5, -0.05, 1.05),  # windows cross 0 and 1
    (20, 0.3, 0.0, 1.0),
    (60, 2.0, 0.0, 1.0),
    (40, 2.0, -0.01, 1.01),  # the end neurons just outside, windows reaching in
    (150, 1.0, 0.0, 1.0),
    (300, 0.5, 0.0, 1.0),
]


@pytest.mark.parametrize("act", ["cubic", "ramp"])
@pytest.mark.parametrize(
    "m, overlap, lo, hi, ridge",
    # ridge > 0 only where it is cheap: the reference's dense checks at m = 300 cost
    # seconds, and the ridge's path is the same code with a larger μ.
    [(*c, 0.0) for c in CASES] + [(*c, 1e-6) for c in CASES if c[0] <= 150],
)
def test_banded_equals_dense_and_lstsq(act, m, overlap, lo, hi, ridge):
    rng = np.random.default_rng(m)
    u = spread_u(m, rng, lo, hi)
    if lo < 0:  # the end neurons outside [0, 1], their windows reaching in
        u[0], u[-1] = lo, hi
    u = rng.permutation(u)  # unsorted on purpose
    eta = overlap / m
    assert lo >= 0 or (min(u) < 0 < min(u) + eta / 2 and max(u) - eta / 2 < 1 < max(u))
    net = ttnn.Network(np.zeros(m + 1), u, eta, act)
    a, cond, banded = _core.solve_outer(net._c, TGT._c, ridge)
    assert banded
    tol_banded, tol_dense, mu = rounding_bounds(u, eta, act, ridge)
    # The same a*(u) by the NumPy twin (same algorithm: both err by tol_banded).
    a_ref, cond_ref, banded_ref = ref.optimal_outer_banded(u, eta, *ref_target(TGT), act, ridge)
    assert banded_ref
    assert np.linalg.norm(a - a_ref) <= 2 * tol_banded
    # The dense solve of (G + μ I) a = b.
    want = ref.limit_outer(u, eta, *ref_target(TGT), act, ridge)
    assert np.linalg.norm(a - want) <= tol_banded + tol_dense
    # The minimum-norm a*(u) of the unregularised problem (well posed here): they
    # differ by the Tikhonov bias, at most δ / λ_min(G + ridge I) relative.
    # lstsq (an SVD of G + ridge I) errs by its own solve_bound.
    g, _ = ref.gram_system(u, eta, *ref_target(TGT), act)
    g_ridge = g + ridge * np.eye(m + 1)
    lam_min = np.linalg.eigvalsh(g_ridge)[0]
    assert lam_min > 1e4 * (mu - ridge)  # well posed: the comparison is meaningful
    bias = (mu - ridge) / lam_min * np.linalg.norm(want)
    min_norm = lstsq_outer(u, eta, act, ridge)
    tol_lstsq = solve_bound(g_ridge, min_norm)
    assert np.linalg.norm(a - min_norm) <= bias + tol_banded + tol_dense + tol_lstsq
    # Hager's estimate is a lower bound, nearly always within a small factor.
    assert cond_ref / 10 <= cond <= cond_ref * (1 + 1e-8)


def test_banded_with_a_teacher_target():
    rng = np.random.default_rng(7)
    teacher = ttnn.Network(rng.normal(size=5), [0.2, 0.5, 0.55, 0.9], 0.05)
    u = spread_u(40, rng)
    net = ttnn.Network(np.zeros(41), u, 0.05)
    a, _, banded = _core.solve_outer(net._c, teacher._c, 0.0)
    assert banded
    tol_banded, tol_dense, _ = rounding_bounds(u, 0.05, "cubic", 0.0, teacher)
    want = ref.limit_outer(u, 0.05, *ref_target(teacher), "cubic")
    assert np.linalg.norm(a - want) <= tol_banded + tol_dense


def test_local_basis_identities():
    """H = Dᵀ G D and β = Dᵀ b (sorted neurons), built independently from ψ."""
    rng = np.random.default_rng(3)
    u = rng.permutation(spread_u(25, rng))
    eta = 0.1
    h, beta, order = ref.local_system(u, eta, *ref_target(TGT), "cubic")
    g, b = ref.gram_system(u[order], eta, *ref_target(TGT), "cubic")
    n = len(b)
    d = np.eye(n) - np.eye(n, k=-1)  # a = D c
    np.testing.assert_allclose(h, d.T @ g @ d, atol=1e-13)
    np.testing.assert_allclose(beta, d.T @ b, atol=1e-13)
    # Banded: zero beyond 1 + the largest run of neurons within eta of each other.
    i, j = np.nonzero(np.abs(h) > 0)
    assert np.max(np.abs(i - j)) <= 1 + int(np.ceil(eta * 25 / 0.4))


@pytest.mark.parametrize("act", ["cubic", "ramp"])
def test_singular_local_system_stays_banded_near_the_minimum_norm(act):
    """A neuron whose window misses [0, 1] or two coinciding neurons make ψ_k ≡ 0:
    H is singular, yet H + δ DᵀD is not, and a*(u) stays banded (no dense fallback).
    It is the minimum-norm minimiser up to the Tikhonov bias, which on the range of G
    is at most δ / (the smallest non-zero eigenvalue of G), relative."""
    rng = np.random.default_rng(11)
    for u in (
        np.concatenate((spread_u(10, rng), [-0.3])),
        np.concatenate((spread_u(10, rng), [1.4, 1.5])),
        np.concatenate((spread_u(10, rng), [0.55])),
    ):
        u = u.copy()
        if len(u) == 11 and u[-1] == 0.55:
            u[-1] = u[5]  # coinciding
        net = ttnn.Network(np.zeros(len(u) + 1), u, 0.05, act)
        a, cond, banded = _core.solve_outer(net._c, TGT._c, 0.0)
        assert banded and np.isfinite(cond) and cond > 1e8
        a_ref, _, banded_ref = ref.optimal_outer_banded(u, 0.05, *ref_target(TGT), act)
        assert banded_ref
        tol_banded, _, mu = rounding_bounds(u, 0.05, act, 0.0)
        assert np.linalg.norm(a - a_ref) <= 2 * tol_banded
        g, _ = ref.gram_system(u, 0.05, *ref_target(TGT), act)
        lam = np.linalg.eigvalsh(g)
        assert lam[0] < 1e-12 * lam[-1]  # singular
        lam_plus = lam[lam > 1e-12 * lam[-1]]
        want = lstsq_outer(u, 0.05, act, 0.0)
        # lstsq's own error: n ε κ₊ relative (solve_bound), κ₊ over the non-zero
        # eigenvalues, since the SVD cut-off drops the null space.
        kappa_plus = lam_plus[-1] / lam_plus[0]
        tol = (mu / lam_plus[0] + len(u) * EPS * kappa_plus) * np.linalg.norm(want)
        assert np.linalg.norm(a - want) <= tol + tol_banded


@pytest.mark.parametrize("act", ["cubic", "ramp", "relu"])
def test_a_star_is_continuous_as_two_neurons_meet(act):
    """Issue 19: a*(u) must not jump as u_6 → u_5 (the minimum-norm cut-off solve
    did, and the exact a*(u) blows up like 1/gap). With the Tikhonov term ‖a*‖² ≤
    L(0, u) / δ throughout, a*(gap) → a*(0) as gap → 0, and the coinciding pair gets
    equal weights."""
    rng = np.random.default_rng(5)
    base = spread_u(12, rng)
    gaps = [10.0**-k for k in range(2, 16)] + [0.0]
    sols = []
    for gap in gaps:
        u = base.copy()
        u[6] = u[5] + gap
        net = ttnn.Network(np.zeros(13), u, 0.08, act)
        a, cond, banded = _core.solve_outer(net._c, TGT._c, 0.0)
        assert banded and np.isfinite(cond)
        sols.append(a)
    sols = np.array(sols)
    bound = np.sqrt(ttnn.l2_error(ttnn.Network(np.zeros(13), base, 0.08, act), TGT) / tikhonov(12))
    assert np.all(np.linalg.norm(sols, axis=1) <= bound)
    a0 = sols[-1]
    assert abs(a0[6] - a0[7]) <= 1e-6 * np.linalg.norm(a0)  # equal split of the pair
    dist = np.linalg.norm(sols[:-1] - a0, axis=1)
    # Converging, linearly in the gap once it is below the scale where the Tikhonov
    # term takes over (a*'s sensitivity to u is then of order 1/δ): each decade of the
    # last four gaps (1e-12 .. 1e-15) divides the distance by about 10, and at 1e-15
    # it is below 1e-3 ‖a*(0)‖.
    assert np.all(dist[-3:] <= dist[-4:-1] / 5)
    assert dist[-1] <= 1e-3 * np.linalg.norm(a0)


@pytest.mark.parametrize("m", [1, 3, 40, 200])
@pytest.mark.parametrize("ridge", [0.0, 1e-3])
def test_relu_banded_kkt_against_its_twin_and_the_dense_solve(m, ridge):
    """relu's a*(u) by the banded KKT system of the linear spline: against the NumPy
    twin (the same KKT matrix, dense numpy.linalg.solve) and the dense solve of
    (G + μ I) a = b, with coinciding neurons and neurons outside [0, 1]."""
    rng = np.random.default_rng(m)
    u = rng.uniform(-0.1, 1.1, m)
    if m >= 3:
        u[2] = u[1]  # coinciding
    net = ttnn.Network(np.zeros(m + 1), u, 0.1, "relu")
    a, cond, banded = _core.solve_outer(net._c, TGT._c, ridge)
    assert banded and np.isfinite(cond)
    mu = ridge + tikhonov(m)
    k_mat, rhs, _ = ref.local_basis.relu_kkt(u, *ref_target(TGT), mu)
    z = np.linalg.solve(k_mat, rhs)
    # Both solve K z = rhs stably: each errs by ≲ solve_bound(K, z), and a is made
    # of differences of entries of z (‖Δa‖ ≤ 2 ‖Δz‖).
    tol_kkt = 2 * solve_bound(k_mat, z)
    a_ref, cond_ref, banded_ref = ref.optimal_outer_banded(u, 0.1, *ref_target(TGT), "relu", ridge)
    assert banded_ref
    assert np.linalg.norm(a - a_ref) <= 2 * tol_kkt
    g, b = ref.gram_system(u, 0.1, *ref_target(TGT), "relu")
    a_g = g + mu * np.eye(m + 1)
    want = np.linalg.solve(a_g, b)
    tol_dense = solve_bound(a_g, want)
    assert np.linalg.norm(a - want) <= tol_kkt + tol_dense
    if ridge > 0:  # well conditioned: a tight check that the two formulations agree
        assert np.linalg.norm(a - want) <= 1e-9 * np.linalg.norm(want)
    # Hager's lower bound, up to its own rounding.
    assert cond_ref / 10 <= cond <= cond_ref * (1 + 1e-8 + 10 * EPS * cond_ref)


def test_relu_gram_closed_form_matches_the_quadrature():
    """relu's G is assembled in closed form (O(m²)); the reference integrates it."""
    rng = np.random.default_rng(2)
    u = np.concatenate((rng.uniform(0, 1, 30), [-0.4, 1.3, 0.5, 0.5]))
    net = ttnn.Network(np.zeros(len(u) + 1), u, 0.1, "relu")
    teacher = ttnn.Network([0.3, 1.0, -2.0, 0.5], [0.2, 0.5, 0.7], 0.05, "cubic")
    for target in (TGT, teacher):
        g, b = _core.gram_system(net._c, target._c)
        g_ref, b_ref = ref.gram_system(u, 0.1, *ref_target(target), "relu")
        np.testing.assert_allclose(g, g_ref, rtol=0, atol=1e-14 * np.abs(g_ref).max())
        np.testing.assert_allclose(b, b_ref, rtol=0, atol=1e-14 * np.abs(b_ref).max())
