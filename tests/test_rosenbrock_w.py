"""The Rosenbrock-W flow (docs/maths/dynamics.md#stiff-steps): the banded implicit solve
(I + c G) x = r of the local basis (docs/maths/local_basis.md#implicit-steps) against a
dense solve, in C++ and in the NumPy twin; the integrator against the explicit path
(against scipy DOP853: test_flow.py, with the other methods); its step count where an
explicit method is stability-limited; its contracts (max_steps, progress, bad input) and
the "auto" rule."""

import numpy as np
import pytest

import ttnn
from ttnn import _core
from ttnn import reference as ref

TGT = ttnn.PiecewiseConstant([0.2, 0.35, 0.5, 0.65, 0.8], [1, 5, 1, 3, 1, 5])
PAPER = ttnn.PiecewiseConstant.paper()

CASES = [
    # (m, eta * m = how many windows overlap, lo, hi): neurons spread over [lo, hi],
    # lo < 0 / hi > 1 puts neurons outside [0, 1] (their psi vanish there: H singular,
    # D^T D + c H still positive definite).
    (1, 0.3, 0.0, 1.0),
    (2, 1.0, -0.2, 1.2),
    (7, 2.5, -0.05, 1.05),
    (40, 4.0, -0.1, 1.1),
    (120, 6.0, 0.0, 1.0),
]
ACT_CASES = [(act, *case) for act in ("cubic", "ramp") for case in CASES]
ACT_CASES.append(("cubic", 300, 3.0, -0.02, 1.02))  # the dense oracle costs ~1 s here


@pytest.mark.parametrize("act, m, overlap, lo, hi", ACT_CASES)
def test_banded_implicit_solve_equals_dense_solve(act, m, overlap, lo, hi):
    rng = np.random.default_rng(m)
    u = rng.permutation(lo + (hi - lo) * rng.uniform(0, 1, m))  # unsorted, random gaps
    eta = overlap / m
    net = ttnn.Network(np.zeros(m + 1), u, eta, act)
    breaks, values = np.asarray(TGT.breaks), np.asarray(TGT.values)
    g, _ = ref.gram_system(u, eta, breaks, values, act)
    r = rng.normal(size=m + 1)
    for c in (0.0, 1e-3, 0.87, 30.0):
        want = np.linalg.solve(np.eye(m + 1) + c * g, r)
        scale = np.linalg.norm(want)
        x = _core.shifted_gram_solve(net._c, TGT._c, c, r)
        assert np.linalg.norm(x - want) <= 1e-10 * scale, (c, np.linalg.norm(x - want) / scale)
        x_ref = ref.shifted_gram_solve(u, eta, breaks, values, c, r, act)
        assert np.linalg.norm(x_ref - want) <= 1e-10 * scale, c


def test_banded_implicit_solve_rejects_relu_and_bad_shift():
    net = ttnn.Network(np.zeros(4), [0.2, 0.5, 0.7], 0.1, "relu")
    with pytest.raises(ValueError, match="windowed"):
        _core.shifted_gram_solve(net._c, TGT._c, 1.0, np.ones(4))
    cubic = ttnn.Network(np.zeros(4), [0.2, 0.5, 0.7], 0.1)
    with pytest.raises(ValueError, match="c must"):
        _core.shifted_gram_solve(cubic._c, TGT._c, -1.0, np.ones(4))
    with pytest.raises(ValueError, match="m \\+ 1"):
        _core.shifted_gram_solve(cubic._c, TGT._c, 1.0, np.ones(3))


@pytest.mark.parametrize(
    "m, t_end, act", [(20, 1750.0, "cubic"), (200, 20.0, "cubic"), (50, 50.0, "ramp")]
)
def test_rosenbrock_w_agrees_with_the_explicit_path_on_e1(m, t_end, act):
    # E1 (docs/maths/experiments.md): η = 4e-3, ε = 2e-5, paper target, default tolerances.
    net = ttnn.Network.init(m=m, eta=4e-3, seed=0, activation=act)
    kw = {"eps": 2e-5, "t_end": t_end, "snapshots": 8}
    rk = ttnn.gradient_flow(net, PAPER, **kw)
    w = ttnn.gradient_flow(net, PAPER, method="rosenbrock_w", **kw)
    err = np.max(np.abs(np.hstack((rk.a, rk.u)) - np.hstack((w.a, w.u))))
    assert err < 1e-7, err
    assert np.all(np.diff(w.l2) <= 1e-12 * w.l2[0])  # L non-increasing along the flow
    assert w.l2[-1] < 0.1 * w.l2[0]


def test_rosenbrock_w_steps_where_explicit_steps_are_stability_limited():
    # E1 at m = 500: λ_max(2G) ≈ 195, so Dormand–Prince needs h ≲ 3.3 / 195 whatever the
    # tolerance (~3,000 steps to t = 50); the W-method's steps follow accuracy only.
    net = ttnn.Network.init(m=500, eta=4e-3, seed=0)
    ceiling = 1000
    kw = {"eps": 2e-5, "t_end": 50.0, "snapshots": 2, "rtol": 1e-6, "max_steps": ceiling}
    w = ttnn.gradient_flow(net, PAPER, method="rosenbrock_w", **kw)
    assert w.stats["accepted"] + w.stats["rejected"] < ceiling
    assert w.l2[-1] < w.l2[0]
    with pytest.raises(ttnn.StepLimitError) as info:
        ttnn.gradient_flow(net, PAPER, method="rk45", **kw)
    assert info.value.t < 0.5 * 50.0


def test_rosenbrock_w_contracts():
    net = ttnn.Network.init(m=20, eta=4e-3, seed=0)
    with pytest.raises(ttnn.StepLimitError, match="max_steps = 10 ") as info:
        ttnn.gradient_flow(net, PAPER, eps=2e-5, t_end=100.0, method="rosenbrock_w", max_steps=10)
    assert 0 < info.value.t < 100.0
    calls = []
    res = ttnn.gradient_flow(
        net,
        PAPER,
        eps=2e-5,
        t_end=10.0,
        snapshots=5,
        method="rosenbrock_w",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls and calls[-1] == (4, 4)
    assert res.stiff_from is None
    again = ttnn.gradient_flow(net, PAPER, eps=2e-5, t_end=10.0, snapshots=5, method="rosenbrock_w")
    np.testing.assert_array_equal(res.u, again.u)  # deterministic
    huge = ttnn.Network(np.full(6, 1e200), np.linspace(0.1, 0.9, 5), 0.1)
    with pytest.raises(ttnn.DivergenceError):
        ttnn.gradient_flow(huge, TGT, eps=1.0, t_end=1.0, method="rosenbrock_w")
    relu = ttnn.Network.init(m=5, eta=0.1, seed=0, activation="relu")
    with pytest.raises(ValueError, match="windowed"):
        ttnn.gradient_flow(relu, TGT, eps=1.0, t_end=1.0, method="rosenbrock_w")
    with pytest.raises(ValueError, match="rosenbrock_w"):
        ttnn.gradient_flow(net, TGT, eps=1.0, t_end=1.0, method="rosenbrock-w")


def test_auto_goes_rosenbrock_w_for_windowed_networks_above_m_200():
    net = ttnn.Network.init(m=250, eta=4e-3, seed=0)
    kw = {"eps": 2e-5, "t_end": 20.0, "snapshots": 3}
    auto = ttnn.gradient_flow(net, PAPER, method="auto", **kw)
    assert auto.stiff_from is not None and 0 < auto.stiff_from < 20.0
    rk = ttnn.gradient_flow(net, PAPER, **kw)
    err = np.max(np.abs(np.hstack((rk.a, rk.u)) - np.hstack((auto.a, auto.u))))
    assert err < 1e-7, err
    # Full Rosenbrock at this size would cost 2m + 4 = 504 right-hand sides per step.
    steps = auto.stats["accepted"] + auto.stats["rejected"]
    assert auto.stats["rhs_calls"] < 8 * steps
