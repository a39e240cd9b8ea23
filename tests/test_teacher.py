"""Teacher targets: any Network is a target, with the loss exact to rounding."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ttnn
import ttnn.reference as ref

ACTS = ("cubic", "ramp", "relu")


def _pair(student: str, teacher: str, seed: int) -> tuple[ttnn.Network, ttnn.Network]:
    """A student and a teacher with neurons inside and outside [0, 1]."""
    rng = np.random.default_rng(seed)
    s_u = np.concatenate([rng.uniform(0.0, 1.0, 6), [-0.01, 1.02, -0.3]])
    t_u = np.concatenate([rng.uniform(0.0, 1.0, 4), [1.01, -0.02]])
    s = ttnn.Network(rng.normal(size=s_u.size + 1), s_u, 0.07, student)
    t = ttnn.Network(rng.normal(size=t_u.size + 1), t_u, 0.11, teacher)
    return s, t


def _kinks(net: ttnn.Network) -> list[float]:
    u = net.u
    if net.activation == "relu":
        return list(u)
    return list(np.concatenate([u - net.eta / 2, u, u + net.eta / 2]))


def _sigma(z: float, activation: str) -> float:
    """σ written here from its definition (docs/maths/model.md), not ttnn's."""
    if activation == "relu":
        return max(z, 0.0)
    if activation == "ramp":
        return min(max(z + 0.5, 0.0), 1.0)
    if z <= -0.5:
        return 0.0
    if z >= 0.5:
        return 1.0
    return 4.0 * (z + 0.5) ** 3 if z <= 0.0 else 1.0 - 4.0 * (0.5 - z) ** 3


def _f(net: ttnn.Network, x: float) -> float:
    """f(x) = a_0 + Σ_j a_j σ_η(x − u_j), with σ_η(z) = σ(z/η) (relu: σ(z))."""
    eta = 1.0 if net.activation == "relu" else net.eta
    return float(net.a[0]) + sum(
        float(aj) * _sigma((x - float(uj)) / eta, net.activation)
        for aj, uj in zip(net.a[1:], net.u, strict=True)
    )


def _pieces(s: ttnn.Network, t: ttnn.Network) -> np.ndarray:
    return np.unique(np.clip([0.0, 1.0, *_kinks(s), *_kinks(t)], 0.0, 1.0))


def _gauss_l2(s: ttnn.Network, t: ttnn.Network) -> float:
    """∫_0^1 (f − f*)² by 12-node Gauss–Legendre on every piece between the kinks of
    both networks (exact for the degree ≤ 6 integrand)."""
    nodes, weights = np.polynomial.legendre.leggauss(12)
    total = 0.0
    pts = _pieces(s, t)
    for lo, hi in zip(pts[:-1], pts[1:], strict=True):
        xs = 0.5 * (lo + hi) + 0.5 * (hi - lo) * nodes
        vals = np.array([(_f(s, x) - _f(t, x)) ** 2 for x in xs])
        total += 0.5 * (hi - lo) * float(np.sum(weights * vals))
    return total


@pytest.mark.parametrize("student", ACTS)
@pytest.mark.parametrize("teacher", ACTS)
def test_l2_error_against_teacher_equals_piecewise_quadrature(student: str, teacher: str) -> None:
    for seed in range(3):
        s, t = _pair(student, teacher, seed)
        exact = _gauss_l2(s, t)
        assert exact > 1e-3  # not a trivial comparison
        assert abs(ttnn.l2_error(s, t) - exact) <= 1e-11 * max(1.0, exact)


@pytest.mark.parametrize("student", ACTS)
@pytest.mark.parametrize("teacher", ACTS)
def test_l2_error_against_teacher_equals_adaptive_quadrature(student: str, teacher: str) -> None:
    # scipy's adaptive Gauss–Kronrod on each piece between the kinks of both networks,
    # tight tolerances; a warning (tolerance not reached) fails the test.
    quad = pytest.importorskip("scipy.integrate").quad
    s, t = _pair(student, teacher, 7)
    pts = _pieces(s, t)
    total, err_sum = 0.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for lo, hi in zip(pts[:-1], pts[1:], strict=True):
            val, err = quad(
                lambda x: (_f(s, x) - _f(t, x)) ** 2, lo, hi, epsabs=1e-13, epsrel=1e-13
            )
            total += val
            err_sum += err
    assert err_sum < 1e-12
    assert abs(ttnn.l2_error(s, t) - total) <= 1e-11 * max(1.0, total)


def test_student_equal_to_teacher_has_zero_loss_and_gradient() -> None:
    _, t = _pair("cubic", "cubic", 1)
    loss, ga, gu = ttnn.l2_gradient(t, t)
    assert loss == pytest.approx(0.0, abs=1e-24)
    assert np.abs(ga).max() < 1e-13 and np.abs(gu).max() < 1e-13


@pytest.mark.parametrize("student", ACTS)
@pytest.mark.parametrize("teacher", ACTS)
def test_gradient_against_teacher_equals_finite_differences(student: str, teacher: str) -> None:
    s, t = _pair(student, teacher, 11)
    _, ga, gu = ttnn.l2_gradient(s, t)
    step = 1e-6
    for j in range(s.m + 1):
        d = np.zeros(s.m + 1)
        d[j] = step
        fd = (ttnn.l2_error(s.replace(a=s.a + d), t) - ttnn.l2_error(s.replace(a=s.a - d), t)) / (
            2 * step
        )
        assert ga[j] == pytest.approx(fd, rel=1e-6, abs=1e-7)
    for j in range(s.m):
        d = np.zeros(s.m)
        d[j] = step
        fd = (ttnn.l2_error(s.replace(u=s.u + d), t) - ttnn.l2_error(s.replace(u=s.u - d), t)) / (
            2 * step
        )
        assert gu[j] == pytest.approx(fd, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("student", ACTS)
@pytest.mark.parametrize("teacher", ACTS)
def test_loss_gradient_and_gram_against_teacher_equal_reference(student: str, teacher: str) -> None:
    s, t = _pair(student, teacher, 5)
    tt = ref.Teacher(t.a, t.u, t.eta, t.activation)
    assert ttnn.l2_error(s, t) == pytest.approx(
        ref.l2_error(s.a, s.u, s.eta, tt, None, student), rel=1e-13, abs=1e-14
    )
    _, ga, gu = ttnn.l2_gradient(s, t)
    rga, rgu = ref.l2_gradient(s.a, s.u, s.eta, tt, None, student)
    np.testing.assert_allclose(ga, rga, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gu, rgu, rtol=1e-12, atol=1e-13)
    G, b = ttnn._core.gram_system(s._c, ttnn.target.core_target(t))
    rG, rb = ref.gram_system(s.u, s.eta, tt, None, student)
    np.testing.assert_allclose(G, rG, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(b, rb, rtol=1e-12, atol=1e-13)


def test_sgd_against_teacher_on_replayed_stream_equals_reference() -> None:
    rng = np.random.default_rng(0)
    teacher = ttnn.Network([0.0, 1.0, -2.0, 3.0], [0.3, 0.5, 0.7], 1.0, "relu")
    x = rng.random(3000)
    y = teacher(x) + rng.uniform(-0.1, 0.1, x.size)
    for act, eta in (("relu", 1.0), ("cubic", 0.05)):
        net = ttnn.Network.init(10, eta, seed=2, activation=act)
        res = ttnn.sgd(net, teacher, h=5e-3, eps=0.5, data=(x, y), snapshots=4)
        steps, A, U = ref.sgd_replay(net.a, net.u, eta, 0.5, 5e-3, x, y, act, res.steps)
        np.testing.assert_allclose(res.a, A, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(res.u, U, rtol=1e-10, atol=1e-12)
        tt = ref.Teacher(teacher.a, teacher.u, teacher.eta, "relu")
        want = [ref.l2_error(A[k], U[k], eta, tt, None, act) for k in range(len(steps))]
        np.testing.assert_allclose(res.l2, want, rtol=1e-12)


def test_sampled_sgd_against_teacher_replays_its_stream() -> None:
    teacher = ttnn.Network([0.5, 1.0, -2.0], [0.3, 0.6], 0.1, "cubic")
    net = ttnn.Network.init(8, 0.05, seed=1)
    noise = ttnn.UniformNoise(0.2)
    res = ttnn.sgd(net, teacher, h=1e-2, steps=2000, noise=noise, seed=4, snapshots=3)
    x, y = ttnn.sample_stream(teacher, 2000, noise=noise, seed=4)
    assert np.all(np.abs(y - teacher(x)) <= 0.2)
    again = ttnn.sgd(net, teacher, h=1e-2, data=(x, y), snapshots=3)
    np.testing.assert_array_equal(res.a, again.a)
    np.testing.assert_array_equal(res.u, again.u)
    assert res.l2 is not None and res.l2[-1] < res.l2[0]


def test_flow_and_finite_eta_limit_accept_a_teacher() -> None:
    teacher = ttnn.Network([0.0, 1.0, -1.0], [0.35, 0.65], 0.05, "cubic")
    net = ttnn.Network.init(6, 0.05, seed=3)
    flow = ttnn.gradient_flow(net, teacher, eps=1.0, t_end=5.0, snapshots=3)
    assert flow.l2[-1] < flow.l2[0]
    assert flow.l2[-1] == pytest.approx(ttnn.l2_error(flow.final, teacher), rel=1e-12)
    lim = ttnn.two_timescale_limit(net, teacher, tau_end=0.5, snapshots=3)
    assert lim.l2[-1] <= lim.l2[0]
    # The limit's right-hand side is the reference's, with the teacher as target.
    tt = ref.Teacher(teacher.a, teacher.u, teacher.eta, "cubic")
    a_star = ref.optimal_outer(lim.u[-1], 0.05, tt, None)
    np.testing.assert_allclose(lim.a[-1], a_star, rtol=1e-8, atol=1e-9)
    with pytest.raises(TypeError, match="target must be a ttnn.PiecewiseConstant for limit='zero'"):
        ttnn.two_timescale_limit(net, teacher, tau_end=0.5, limit="zero")


def test_ensemble_against_teacher_run0_equals_sgd() -> None:
    teacher = ttnn.Network([0.0, 1.0, -2.0, 3.0], [0.3, 0.5, 0.7], 1.0, "relu")
    nets = [ttnn.Network.init(10, 1.0, seed=s, activation="relu") for s in range(3)]
    ens = ttnn.sgd_ensemble(nets, teacher, h=1e-2, steps=500, seed=9, threads=2, batch=[1, 4, 4])
    one = ttnn.sgd(nets[0], teacher, h=1e-2, steps=500, seed=9)
    np.testing.assert_array_equal(ens[0].a, one.a)
    four = ttnn.sgd(nets[1], teacher, h=1e-2, steps=500, seed=9, batch=4)
    x, y = ttnn.sample_stream(teacher, 2000, seed=9, stream=1)
    np.testing.assert_array_equal(
        ens[1].a, ttnn.sgd(nets[1], teacher, h=1e-2, data=(x, y), batch=4).a
    )
    assert not np.array_equal(ens[1].a, four.a)  # stream 1, not stream 0


def test_breaks_covered_with_a_teacher() -> None:
    teacher = ttnn.Network([0.0, 1.0, -2.0, 3.0, 1.0], [0.3, 0.5, 0.7, 1.4], 1.0, "relu")
    student = ttnn.Network(np.zeros(4), [0.29, 0.53, 0.9], 0.01, "relu")
    np.testing.assert_array_equal(ttnn.breaks_covered(student, teacher), [True, False, False])


def test_bad_targets_are_rejected_with_their_name() -> None:
    net = ttnn.Network.init(3, 0.1)
    for call in (
        lambda: ttnn.l2_error(net, [0.5]),
        lambda: ttnn.l2_gradient(net, "relu"),
        lambda: ttnn.gradient_flow(net, 1.0, eps=1.0, t_end=1.0),
        lambda: ttnn.sgd(net, (0.2, 0.4), h=1e-3, steps=10),
        lambda: ttnn.sgd_ensemble([net], None, h=1e-3, steps=10),
    ):
        with pytest.raises((TypeError, ValueError), match="target"):
            call()
