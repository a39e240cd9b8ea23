"""The circle ReLU model's core (docs/maths/circle.md) against ttnn.reference.circle.

Tolerances: the sorted-angle kernels sum the same terms as the plain formulas in
another order (prefix sums), so they agree within the summation bound
(N + M) eps times the sum of the terms' absolute values; the CG ridge solve stops
at a relative residual of 2e-13, so it agrees with Cholesky within
cond(K + lam I) times that.
"""

from __future__ import annotations

import numpy as np
import pytest
from _sigint import assert_stops_within_a_second
from numpy.typing import ArrayLike
from scipy import integrate, stats
from scipy.optimize import linprog

from ttnn import _core
from ttnn._errors import DivergenceError
from ttnn.reference import circle as ref

EPS = np.finfo(float).eps
SHAPES = [(1, 5), (7, 33), (40, 300)]


def _problem(M: int, N: int, seed: int, Mt: int = 17) -> tuple:
    rng = np.random.default_rng(seed)
    teacher = rng.uniform(-np.pi, np.pi, Mt)
    X = rng.normal(size=(N, 2))
    theta = rng.uniform(-np.pi, np.pi, M)
    theta[0] = -np.pi  # the cut of the sorted arrays
    u = rng.normal(size=M) + 1
    return teacher, X, theta, u


def _bound(n_terms: int, abs_sum: np.ndarray | float) -> np.ndarray:
    return 4 * n_terms * EPS * (np.asarray(abs_sum) + 1e-300)


@pytest.mark.parametrize(("M", "N"), SHAPES)
def test_sorted_kernels_match_the_plain_formulas(M: int, N: int) -> None:
    teacher, X, theta, u = _problem(M, N, seed=M + N)
    p = _core.CircleProblem(teacher, X)
    absX = np.abs(X) @ np.ones(2)
    y = ref.teacher_values(teacher, X)
    assert np.all(np.abs(p.y - y) <= _bound(N + teacher.size, absX))
    Phi = ref.features(theta, X)
    f = ref.predict(theta, u, X)
    assert np.all(np.abs(p.predict(theta, u) - f) <= _bound(N + M, Phi @ np.abs(u) / M))
    b = Phi.T @ p.y / N
    assert np.all(np.abs(p.phi_t_y(theta) - b) <= _bound(N + M, Phi.T @ np.abs(p.y) / N))
    v = np.random.default_rng(1).normal(size=M)
    Kv = ref.gram(theta, X) @ v
    scale = Phi.T @ (Phi @ np.abs(v)) / (N * M)
    assert np.all(np.abs(p.k_times(theta, v) - Kv) <= _bound(N + M, scale))


@pytest.mark.parametrize(("M", "N"), SHAPES)
@pytest.mark.parametrize("biased", [False, True])
def test_criterion_and_gradients_match_the_reference(M: int, N: int, biased: bool) -> None:
    teacher, X, theta, u = _problem(M, N, seed=3 * M + N)
    p = _core.CircleProblem(teacher, X)
    lam = 0.03
    J, risk, gw, gu = p.evaluate(theta, u, lam, biased)
    y = p.y
    assert J == pytest.approx(ref.criterion(theta, u, X, y, lam, biased), rel=1e-12)
    gw_ref, gu_ref = ref.gradients(theta, u, X, y, lam, biased)
    res = np.abs(ref.predict(theta, u, X)) + np.abs(y)
    absX = np.abs(X)
    scale_w = (res @ absX).max() * np.abs(u).max() / (lam * N * M)
    assert np.max(np.abs(gw - gw_ref)) <= 4 * (N + M) * EPS * scale_w * 10
    scale_u = ref.features(theta, X).T @ res / (lam * N * M) + (np.abs(u) + 1) / M
    assert np.all(np.abs(gu - gu_ref) <= _bound(N + M, scale_u) * 10)


def test_reference_gradients_match_finite_differences() -> None:
    teacher, X, theta, u = _problem(6, 80, seed=5)
    y = ref.teacher_values(teacher, X)
    lam = 0.1
    for biased in (False, True):
        gw, gu = ref.gradients(theta, u, X, y, lam, biased)
        h = 1e-6

        def J_of(W: np.ndarray, uu: np.ndarray, biased: bool = biased) -> float:
            f = np.maximum(X @ W.T, 0) @ uu / uu.size
            d = uu if biased else uu - 1
            return float(np.mean((f - y) ** 2) / (2 * lam) + d @ d / (2 * uu.size))

        W0 = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        for j in range(theta.size):
            for c in range(2):
                Wp, Wm = W0.copy(), W0.copy()
                Wp[j, c] += h
                Wm[j, c] -= h
                fd = (J_of(Wp, u) - J_of(Wm, u)) / (2 * h)
                # central differences: O(h^2) truncation, O(eps J / h) rounding
                assert gw[j, c] == pytest.approx(fd, rel=1e-6, abs=1e-8)
            up, um = u.copy(), u.copy()
            up[j] += h
            um[j] -= h
            assert gu[j] == pytest.approx((J_of(W0, up) - J_of(W0, um)) / (2 * h), abs=1e-8)


@pytest.mark.parametrize("biased", [False, True])
def test_population_matches_reference_and_quadrature(biased: bool) -> None:
    rng = np.random.default_rng(7)
    teacher = rng.uniform(-np.pi, np.pi, 9)
    theta = rng.uniform(-np.pi, np.pi, 5)
    u = rng.normal(size=5) + 1
    p = _core.CircleProblem(teacher)
    lam = 0.05
    J, risk, gw, gu = p.evaluate(theta, u, lam, biased)
    # Quadrature: f is 1-homogeneous in x, so E(f - y)^2 = E[r^2] mean_alpha (f - y)^2(alpha)
    # with E[r^2] = 2; the integrand is piecewise smooth (kinks at theta +- pi/2).
    alpha = np.linspace(-np.pi, np.pi, 400001)[:-1]
    Xa = np.stack([np.cos(alpha), np.sin(alpha)], axis=1)
    g = ref.predict(theta, u, Xa) - ref.teacher_values(teacher, Xa)
    assert risk == pytest.approx(2 * np.mean(g**2), rel=1e-8)
    assert risk == pytest.approx(ref.population_risk(theta, u, teacher), rel=1e-12, abs=1e-15)
    assert J == pytest.approx(ref.population_criterion(theta, u, teacher, lam, biased), rel=1e-12)
    gw_ref, gu_ref = ref.population_gradients(theta, u, teacher, lam, biased)
    np.testing.assert_allclose(gw, gw_ref, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(gu, gu_ref, rtol=1e-11, atol=1e-13)
    # and the reference population gradient against finite differences in w (R^2):
    h = 1e-6
    for j in range(theta.size):
        for c in range(2):

            def risk_w(shift: float, j: int = j, c: int = c) -> float:
                W = np.stack([np.cos(theta), np.sin(theta)], axis=1)
                W[j, c] += shift
                # relu(w.x) = |w| relu(w_hat.x): scale u_j instead of the norm
                norm = np.linalg.norm(W[j])
                th = np.arctan2(W[:, 1], W[:, 0])
                uu = u.copy()
                uu[j] *= norm
                return ref.population_risk(th, uu, teacher) / (2 * lam)

            fd = (risk_w(h) - risk_w(-h)) / (2 * h)
            assert gw_ref[j, c] == pytest.approx(fd, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("lam", [1e-1, 1e-3])
@pytest.mark.parametrize("biased", [False, True])
def test_cg_ridge_matches_a_dense_cholesky(lam: float, biased: bool) -> None:
    teacher, X, theta, _ = _problem(50, 400, seed=11)
    p = _core.CircleProblem(teacher, X)
    u, iters = p.ridge(theta, lam, biased)
    u_ref = ref.ridge(theta, X, p.y, lam, biased)
    A = ref.gram(theta, X) + lam * np.eye(theta.size)
    kappa = np.linalg.cond(A)
    assert iters > 0
    assert np.linalg.norm(u - u_ref) <= kappa * 4e-13 * np.linalg.norm(u_ref)
    # warm start from the answer: nothing (or almost nothing) left to do
    u2, iters2 = p.ridge(theta, lam, biased, u0=u)
    assert iters2 <= 2 and np.linalg.norm(u2 - u_ref) <= kappa * 4e-13 * np.linalg.norm(u_ref)
    # population
    pp = _core.CircleProblem(teacher)
    up, _ = pp.ridge(theta, lam, biased)
    Ap = ref.arccos_kernel(theta[:, None] - theta[None, :]) / theta.size + lam * np.eye(50)
    up_ref = ref.population_ridge(theta, teacher, lam, biased)
    bound = np.linalg.cond(Ap) * 4e-13 * np.linalg.norm(up_ref)
    assert np.linalg.norm(up - up_ref) <= bound


@pytest.mark.parametrize("biased", [False, True])
def test_one_step_of_each_method_matches_the_reference(biased: bool) -> None:
    teacher, X, theta, u = _problem(30, 200, seed=13)
    p = _core.CircleProblem(teacher, X)
    lam, dt = 1e-2, 2.0**-10
    A = ref.gram(theta, X) + lam * np.eye(theta.size)
    kappa = np.linalg.cond(A)
    th1, _, u_used, J = p.step(theta, np.zeros(30), "varpro", lam, biased, dt)
    th_ref, u_ref, J_ref = ref.varpro_step(theta, X, p.y, lam, biased, dt)
    tol = kappa * 1e-12
    np.testing.assert_allclose(u_used, u_ref, rtol=0, atol=tol * np.abs(u_ref).max())
    assert J == pytest.approx(J_ref, rel=tol)
    np.testing.assert_allclose(np.angle(np.exp(1j * (th1 - th_ref))), 0, atol=tol)
    th2, u2, u_used2, J2 = p.step(theta, u, "2ts", lam, biased, dt)
    th2_ref, u2_ref, J2_ref = ref.two_timescale_step(theta, u, X, p.y, lam, biased, dt)
    np.testing.assert_array_equal(u_used2, u)
    assert J2 == pytest.approx(J2_ref, rel=1e-12)
    np.testing.assert_allclose(u2, u2_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.angle(np.exp(1j * (th2 - th2_ref))), 0, atol=1e-12)


@pytest.mark.parametrize("method", ["varpro", "2ts"])
@pytest.mark.parametrize("dt", [2.0**-10, 2.0])
def test_a_run_is_the_reference_iterated(method: str, dt: float) -> None:
    # dt = 2: large moves, neurons overtake each other and cross the cut at -pi
    # (the run re-sorts them; the reference never sorts).
    teacher, X, theta, _ = _problem(12, 150, seed=17)
    p = _core.CircleProblem(teacher, X)
    lam = 0.05
    out = _core.circle_run(p, theta, lam, method, False, 5, [0, 2, 5], dt=dt)
    assert out.iterations.tolist() == [0, 2, 5]
    th, y = theta.copy(), p.y
    u = ref.ridge(th, X, y, lam)
    for i in range(6):
        if method == "varpro":
            th_next, u, J = ref.varpro_step(th, X, y, lam, dt=dt)
        else:
            th_next, u_next, J = ref.two_timescale_step(th, u, X, y, lam, dt=dt)
        if i in (0, 2, 5):
            k = [0, 2, 5].index(i)
            np.testing.assert_allclose(np.angle(np.exp(1j * (out.theta[k] - th))), 0, atol=1e-9)
            np.testing.assert_allclose(out.u[k], u, rtol=1e-9, atol=1e-9)
            assert out.criterion[k] == pytest.approx(J, rel=1e-9)
            assert out.mmd_teacher[k] == pytest.approx(ref.mmd(th, teacher), rel=1e-9)
        th = th_next
        if method == "2ts":
            u = u_next
    if dt == 2.0:  # the case did exercise the re-sort
        assert not np.array_equal(np.argsort(out.theta[0]), np.argsort(out.theta[-1]))


def test_ensembles_are_bit_identical_whatever_the_threads() -> None:
    teacher = _core.circle_sample_rho(64, 100.0, seed=0)
    problems = [
        _core.CircleProblem(teacher, _core.circle_gaussian_inputs(128, 1, s)) for s in (0, 1)
    ]
    problems.append(_core.CircleProblem(teacher))
    theta0 = [_core.circle_uniform_angles(16, 2, s) for s in range(3)]
    args = dict(
        problems=problems,
        theta0=theta0,
        lam=[1e-2, 1e-3, 1e-2],
        method=["varpro", "2ts", "varpro"],
        biased=False,
        iterations=20,
        record=[0, 10, 20],
    )
    one = _core.circle_run_ensemble(**args, threads=1)
    two = _core.circle_run_ensemble(**args, threads=2)
    for i, (a, b) in enumerate(zip(one, two, strict=True)):
        single = _core.circle_run(
            problems[i], theta0[i], args["lam"][i], args["method"][i], False, 20, [0, 10, 20]
        )
        for r in (b, single):
            for name in ("theta", "u", "criterion", "risk", "mmd_teacher"):
                np.testing.assert_array_equal(getattr(a, name), getattr(r, name))


def test_divergence_names_the_iteration() -> None:
    teacher, X, theta, _ = _problem(5, 40, seed=19)
    p = _core.CircleProblem(teacher, X)
    with pytest.raises(DivergenceError) as info:
        _core.circle_run(p, theta, 1e200, "2ts", False, 50, [0])
    assert 0 < info.value.step <= 50


def test_bad_arguments_are_named() -> None:
    teacher, X, theta, _ = _problem(5, 40, seed=23)
    p = _core.CircleProblem(teacher, X)
    for kwargs, word in [
        (dict(lam=0.0), "lam"),
        (dict(method="sgd"), "method"),
        (dict(record=[3, 2]), "record"),
        (dict(record=[0, 99]), "record"),
        (dict(dt=-1.0), "dt"),
        (dict(theta0=np.array([])), "theta0"),
    ]:
        call = dict(
            problem=p,
            theta0=theta,
            lam=0.1,
            method="varpro",
            biased=False,
            iterations=10,
            record=[0],
            dt=2.0**-10,
        )
        call.update(kwargs)
        with pytest.raises(ValueError, match=word):
            _core.circle_run(**call)
    with pytest.raises(ValueError, match="X"):
        _core.CircleProblem(teacher, np.ones((4, 3)))
    with pytest.raises(ValueError, match="teacher"):
        _core.CircleProblem(np.array([]), X)


def test_progress_callback_can_stop_a_run() -> None:
    teacher, X, theta, _ = _problem(5, 40, seed=29)
    p = _core.CircleProblem(teacher, X)

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _core.circle_run(p, theta, 0.1, "varpro", False, 10**9, [0], progress=stop)


# ---------------------------------------------------------------- the teacher's density


def test_rho_and_its_cell_masses() -> None:
    gamma = 100.0
    total = integrate.quad(lambda t: ref.rho(t, gamma), -np.pi, np.pi, points=[0, 0.4 * np.pi])
    assert total[0] == pytest.approx(1.0, abs=1e-10)
    th = np.linspace(-np.pi, np.pi, 101)
    np.testing.assert_allclose(_core.circle_rho(th, gamma), ref.rho(th, gamma), rtol=1e-14)
    masses = _core.circle_rho_cell_masses(16, gamma)
    edges = np.linspace(-np.pi, np.pi, 17)
    quad = [
        integrate.quad(lambda t: ref.rho(t, gamma), a, b, limit=200)[0]
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    np.testing.assert_allclose(masses, quad, rtol=1e-10, atol=1e-13)
    assert masses.sum() == pytest.approx(1.0, abs=1e-14)


def test_the_sampler_follows_rho_chi_square() -> None:
    # A proper goodness-of-fit test at a fixed seed: 40 equal-probability-ish
    # cells would need the CDF; equal cells with expected counts from quadrature
    # (all >= 5 here) are enough.
    gamma, n = 100.0, 40000
    edges = np.linspace(-np.pi, np.pi, 41)
    expected = n * np.array(
        [
            integrate.quad(lambda t: ref.rho(t, gamma), a, b, limit=200)[0]
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
    )
    assert expected.min() >= 5
    for sample in (
        _core.circle_sample_rho(n, gamma, seed=0),
        ref.sample_rho(n, gamma, np.random.default_rng(0)),
    ):
        assert sample.min() >= -np.pi and sample.max() < np.pi
        counts, _ = np.histogram(sample, edges)
        p = stats.chisquare(counts, expected * n / expected.sum()).pvalue
        assert p > 1e-3


# ---------------------------------------------------------------- distances


def test_mmd_matches_the_plain_double_sum() -> None:
    rng = np.random.default_rng(31)
    for n, m in [(1, 1), (5, 8), (60, 200)]:
        a = rng.uniform(-4, 4, n)  # any real angles
        b = rng.uniform(-np.pi, np.pi, m)
        wa, wb = rng.uniform(0.1, 1, n), rng.uniform(0.1, 1, m)
        assert _core.circle_mmd(a, b) == pytest.approx(ref.mmd(a, b), rel=1e-10, abs=1e-7)
        assert _core.circle_mmd(a, b, wa, wb) == pytest.approx(
            ref.mmd(a, b, wa, wb), rel=1e-10, abs=1e-7
        )
        plain = np.abs(np.exp(1j * a)[:, None] - np.exp(1j * b)[None, :]).mean()
        assert _core.circle_chord_sum(a, b) == pytest.approx(plain, rel=1e-12)
    a = rng.uniform(-np.pi, np.pi, 30)
    assert _core.circle_mmd(a, a) <= 1e-7


def _w1_by_linear_program(
    a: ArrayLike,
    b: ArrayLike,
    wa: ArrayLike | None = None,
    wb: ArrayLike | None = None,
    power: int = 1,
) -> float:
    """Exact W1 (arc length) by the transport linear program with the geodesic cost."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    pa = np.full(a.size, 1 / a.size) if wa is None else np.asarray(wa, float) / np.sum(wa)
    pb = np.full(b.size, 1 / b.size) if wb is None else np.asarray(wb, float) / np.sum(wb)
    cost = np.abs(np.angle(np.exp(1j * (a[:, None] - b[None, :])))) ** power
    n, m = a.size, b.size
    A_eq = np.zeros((n + m, n * m))
    for i in range(n):
        A_eq[i, i * m : (i + 1) * m] = 1
    for j in range(m):
        A_eq[n + j, j::m] = 1
    out = linprog(cost.ravel(), A_eq=A_eq, b_eq=np.concatenate([pa, pb]), bounds=(0, None))
    return float(out.fun) ** (1 / power)


def test_w1_against_the_transport_program_and_the_line() -> None:
    rng = np.random.default_rng(37)
    for n, m in [(1, 1), (4, 6), (9, 7)]:
        a = rng.uniform(-np.pi, np.pi, n)
        b = rng.uniform(-np.pi, np.pi, m)
        wa, wb = rng.uniform(0.1, 1, n), rng.uniform(0.1, 1, m)
        assert _core.circle_w1(a, b) == pytest.approx(
            _w1_by_linear_program(a, b), rel=1e-9, abs=1e-12
        )
        assert _core.circle_w1(a, b, wa, wb) == pytest.approx(
            _w1_by_linear_program(a, b, wa, wb), rel=1e-9, abs=1e-12
        )
    # On an arc shorter than pi/2 away from the cut, transport never goes round.
    a, b = rng.uniform(0, 1, 50), rng.uniform(0.2, 1.4, 70)
    assert _core.circle_w1(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12)


# ---------------------------------------------------------------- the PDE


def test_pde_rhs_jacobian_and_cyclic_solve() -> None:
    rng = np.random.default_rng(41)
    n = 12
    f = rng.uniform(0.05, 0.3, n)
    fstar = rng.uniform(0.05, 0.3, n)
    r = _core.circle_pde_rhs(f, fstar)
    np.testing.assert_allclose(r, ref.pde_rhs(f, fstar), rtol=1e-13, atol=1e-13 * np.abs(r).max())
    assert abs(r.sum()) <= 1e-13 * np.abs(r).sum()
    sub, diag, sup = _core.circle_pde_jacobian(f, fstar)
    A = np.diag(diag) + np.diag(sub[1:], -1) + np.diag(sup[:-1], 1)
    A[0, -1], A[-1, 0] = sub[0], sup[-1]
    h = 1e-7
    fd = np.stack(
        [
            (ref.pde_rhs(f + h * e, fstar) - ref.pde_rhs(f - h * e, fstar)) / (2 * h)
            for e in np.eye(n)
        ],
        axis=1,
    )
    np.testing.assert_allclose(A, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())
    W = np.eye(n) * 50 - A
    x = rng.normal(size=n)
    got = _core.circle_cyclic_solve(-sub, 50 - diag, -sup, x)
    np.testing.assert_allclose(W @ got, x, rtol=0, atol=1e-12 * np.abs(x).max() * np.linalg.cond(W))


def test_pde_conserves_mass_keeps_positivity_and_reaches_the_teacher() -> None:
    gamma, cells = 100.0, 512
    out = _core.circle_pde(cells, gamma, [0.0, 0.5, 31.25])
    np.testing.assert_allclose(out.mass, 1.0, rtol=0, atol=1e-12)
    assert out.f.min() > 0
    fstar = _core.circle_rho_cell_masses(cells, gamma) * cells / (2 * np.pi)
    np.testing.assert_allclose(out.f[0], 1 / (2 * np.pi), rtol=1e-15)
    # the steady state of the scheme is f* exactly (g constant); t = 31.25 is close to it
    assert np.abs(out.f[-1] - fstar).max() <= 1e-6 * fstar.max()
    assert np.abs(out.f[1] - fstar).max() >= 1e-2 * fstar.max()  # it did have to move


def test_pde_grid_convergence_is_second_order() -> None:
    gamma, t = 10.0, 0.1
    coarse = 32
    sols = {}
    for n in (coarse, 2 * coarse, 4 * coarse, 8 * coarse):
        f = _core.circle_pde(n, gamma, [t], rtol=1e-10, atol=1e-13).f[-1]
        sols[n] = f.reshape(coarse, -1).mean(axis=1)  # cell averages on the coarse grid
    e1 = np.abs(sols[coarse] - sols[2 * coarse]).max()
    e2 = np.abs(sols[2 * coarse] - sols[4 * coarse]).max()
    e3 = np.abs(sols[4 * coarse] - sols[8 * coarse]).max()
    assert np.log2(e1 / e2) > 1.8 and np.log2(e2 / e3) > 1.8


def test_w2_against_the_transport_program() -> None:
    rng = np.random.default_rng(43)
    for n in (1, 3, 8, 12):
        a = rng.uniform(-np.pi, np.pi, n)
        b = rng.uniform(-np.pi, np.pi, n)
        assert _core.circle_w2(a, b) == pytest.approx(
            _w1_by_linear_program(a, b, power=2), rel=1e-7
        )
    with pytest.raises(ValueError, match="same size"):
        _core.circle_w2(np.zeros(2), np.zeros(3))


def test_runs_record_distances_to_the_teacher_and_to_a_density() -> None:
    teacher, X, theta, _ = _problem(10, 60, seed=47)
    p = _core.CircleProblem(teacher, X)
    cells = 64
    dens = np.stack([_core.circle_rho_cell_masses(cells, g) for g in (0.0, 10.0)])
    out = _core.circle_run(p, theta, 0.1, "varpro", False, 3, [0, 3], density=dens)
    centres = _core.circle_cell_centres(cells)
    np.testing.assert_allclose(centres, -np.pi + (np.arange(cells) + 0.5) * 2 * np.pi / cells)
    assert out.mmd_density is not None
    for k in range(2):
        assert out.mmd_density[k] == pytest.approx(
            ref.mmd(out.theta[k], centres, wb=dens[k]), rel=1e-9
        )
        assert out.w1_teacher[k] == pytest.approx(_core.circle_w1(out.theta[k], teacher))
    assert _core.circle_run(p, theta, 0.1, "varpro", False, 3, [0]).mmd_density is None
    with pytest.raises(ValueError, match="density"):
        _core.circle_run(p, theta, 0.1, "varpro", False, 3, [0], density=dens)


def test_mmd_to_the_teachers_density_falls_with_the_number_of_particles() -> None:
    # particles drawn from rho against rho on a fine grid: MMD ~ M^(-1/2)
    cells = 4096
    masses = _core.circle_rho_cell_masses(cells, 100.0)
    centres = _core.circle_cell_centres(cells)
    d = [
        np.mean(
            [
                _core.circle_mmd(_core.circle_sample_rho(M, 100.0, seed=s), centres, wb=masses)
                for s in range(8)
            ]
        )
        for M in (64, 1024)
    ]
    assert d[1] < d[0] / 2.5  # sqrt(16) = 4 expected


def test_particles_approach_the_pde_as_m_grows() -> None:
    # VarPro at small lam follows the PDE better with more particles (the mean-field
    # limit); at t = 1/4 the gap between M = 16 and M = 256 is about 3x (seeds 0, 1).
    teacher = _core.circle_sample_rho(4096, 100.0, seed=0)
    record = [0, 128, 256]
    pde = _core.circle_pde(1024, 100.0, [i * 2.0**-10 for i in record])
    masses = pde.f * (2 * np.pi / 1024)
    np.testing.assert_allclose(masses.sum(axis=1), 1.0, atol=1e-12)
    gaps = {}
    for M in (16, 256):
        runs = _core.circle_run_ensemble(
            problems=[
                _core.CircleProblem(teacher, _core.circle_gaussian_inputs(1024, 1, s))
                for s in (0, 1)
            ],
            theta0=[_core.circle_uniform_angles(M, 2, s) for s in (0, 1)],
            lam=[1e-3, 1e-3],
            method=["varpro", "varpro"],
            biased=False,
            iterations=record[-1],
            record=record,
            density=masses,
        )
        gaps[M] = np.mean([r.mmd_density for r in runs], axis=0)
    assert np.all(gaps[256][1:] < gaps[16][1:] / 2)


def test_sigint_stops_an_ensemble_within_a_second() -> None:
    # An iteration polls, and these runs take hours otherwise.
    setup = """
        from ttnn import _core
        t = _core.circle_sample_rho(512, 100.0, seed=0)
        pbs = [_core.CircleProblem(t, _core.circle_gaussian_inputs(512, 1, s)) for s in (0, 1, 2)]
        th = [_core.circle_uniform_angles(256, 2, s) for s in (0, 1, 2)]
        """
    call = (
        '_core.circle_run_ensemble(pbs, th, [1e-3] * 3, ["varpro", "2ts", "varpro"],'
        " False, 10**9, [0], threads=2)"
    )
    assert_stops_within_a_second(setup, call, wait=1.0, what="circle ensemble")


@pytest.mark.parametrize(("M", "Mt"), [(1, 1), (2, 3), (60, 200)])
def test_population_sweeps_match_the_dense_kernel(M: int, Mt: int) -> None:
    # The population's sums run over the sorted angles laid out twice; include
    # duplicates, the cut at -pi and angles exactly pi apart.
    rng = np.random.default_rng(M + Mt)
    teacher = rng.uniform(-np.pi, np.pi, Mt)
    theta = rng.uniform(-np.pi, np.pi, M)
    theta[0] = -np.pi
    if M > 2:
        theta[1] = theta[2]
        theta[3] = 0.0
        teacher[0] = np.pi / 2 - 1e-300
        teacher[1] = 0.0
    u = rng.normal(size=M) + 1
    p = _core.CircleProblem(teacher)
    Kd = ref.arccos_kernel(theta[:, None] - theta[None, :]) / M
    v = rng.normal(size=M)
    bound = 64 * (M + Mt) * EPS * (np.abs(Kd) @ np.abs(v) + 1e-300)
    assert np.all(np.abs(p.k_times(theta, v) - Kd @ v) <= bound)
    kt = ref.arccos_kernel(theta[:, None] - teacher[None, :]).mean(axis=1)
    assert np.all(np.abs(p.phi_t_y(theta) - kt) <= 64 * (M + Mt) * EPS)
    yy = ref.arccos_kernel(teacher[:, None] - teacher[None, :]).mean()
    assert p.y_square == pytest.approx(yy, rel=64 * Mt * EPS)
    J, risk, gw, gu = p.evaluate(theta, u, 0.1, False)
    assert risk == pytest.approx(
        ref.population_risk(theta, u, teacher), abs=64 * (M + Mt) * EPS * (1 + np.abs(u).sum())
    )
    gw_ref, gu_ref = ref.population_gradients(theta, u, teacher, 0.1, False)
    scale = 64 * (M + Mt) * EPS * (1 + np.abs(u).max()) ** 2 / (0.1 * M)
    assert np.max(np.abs(gw - gw_ref)) <= scale
    assert np.max(np.abs(gu - gu_ref)) <= scale
