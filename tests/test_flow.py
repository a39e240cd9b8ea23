"""Gradient flow (docs/maths/dynamics.md#gradient-flow): the C++ integrator against scipy
on the NumPy reference right-hand side, monotone loss, the Gram system, SGD tracking the
flow, and bad inputs."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import ttnn
from ttnn import _core
from ttnn import reference as ref

TGT = ttnn.PiecewiseConstant([0.2, 0.35, 0.5, 0.65, 0.8], [1, 5, 1, 3, 1, 5])


def small_net(seed=3, m=5, eta=0.1):
    rng = np.random.default_rng(seed)
    return ttnn.Network(rng.normal(0, 0.5, m + 1), np.sort(rng.uniform(0, 1, m)), eta)


@pytest.mark.parametrize("act", ["cubic", "ramp", "relu"])
def test_gram_system_equals_reference(act):
    rng = np.random.default_rng(1)
    u = np.sort(rng.uniform(-0.1, 1.1, 30))
    u[4] = u[5]  # coinciding neurons
    for eta in (0.1, 4e-3):
        net = ttnn.Network(np.zeros(31), u, eta, act)
        G, b = _core.gram_system(net._c, TGT._c)
        G_ref, b_ref = ref.gram_system(u, eta, TGT.breaks, TGT.values, act)
        assert np.max(np.abs(G - G_ref)) < 1e-13
        assert np.max(np.abs(b - b_ref)) < 1e-13
        # ∇_a L = 2 (G a − b) for any a.
        a = rng.normal(size=31)
        _, ga, _ = ttnn.l2_gradient(net.replace(a=a), TGT)
        np.testing.assert_allclose(ga, 2 * (G @ a - b), atol=1e-12)


# Large, with a neuron left of 0, one right of 1 and two coinciding: G is
# singular, so a* comes from the eigendecomposition, whose blocked products
# Eigen may run on several threads when built with OpenMP. G, b and a* must
# not depend on OMP_NUM_THREADS.
_BIG_U = np.sort(np.concatenate((np.random.default_rng(5).uniform(0, 1, 597), [-0.3, 1.2])))
_BIG_U = np.insert(_BIG_U, 300, _BIG_U[300])

_THREADS_SCRIPT = """
import hashlib, sys
import numpy as np
import ttnn
from ttnn import _core
u = np.frombuffer(bytes.fromhex(sys.argv[1]))
net = ttnn.Network(np.zeros(len(u) + 1), u, 4e-3)
tgt = ttnn.PiecewiseConstant([0.2, 0.35, 0.5, 0.65, 0.8], [1, 5, 1, 3, 1, 5])
G, b = _core.gram_system(net._c, tgt._c)
a = _core.optimal_outer(net._c, tgt._c, 0.0)
print(hashlib.sha256(G.tobytes() + b.tobytes() + a.tobytes()).hexdigest())
"""


def test_large_gram_system_equals_reference_and_is_bit_identical_across_threads():
    net = ttnn.Network(np.zeros(len(_BIG_U) + 1), _BIG_U, 4e-3)
    G, b = _core.gram_system(net._c, TGT._c)
    G_ref, b_ref = ref.gram_system(_BIG_U, 4e-3, TGT.breaks, TGT.values)
    assert np.max(np.abs(G - G_ref)) < 1e-12
    assert np.max(np.abs(b - b_ref)) < 1e-12
    np.testing.assert_array_equal(G, G.T)
    digests = []
    for threads in ("1", "2"):
        env = dict(os.environ, OMP_NUM_THREADS=threads)
        out = subprocess.run(
            [sys.executable, "-c", _THREADS_SCRIPT, _BIG_U.tobytes().hex()],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=True,
        )
        digests.append(out.stdout.strip())
    a = _core.optimal_outer(net._c, TGT._c, 0.0)
    here = hashlib.sha256(G.tobytes() + b.tobytes() + a.tobytes()).hexdigest()
    assert digests[0] == digests[1] == here


@pytest.mark.parametrize("method", ["rk45", "rosenbrock", "rosenbrock_w"])
def test_flow_matches_scipy_dop853_on_reference_rhs(method):
    # Each integrator (Dormand-Prince, Rosenbrock 4(3), Rosenbrock-W) against scipy's
    # DOP853 on the NumPy right-hand side, two orders of magnitude tighter.
    net = small_net()
    eps, t_end = 0.5, 3.0
    res = ttnn.gradient_flow(
        net, TGT, eps=eps, t_end=t_end, snapshots=7, rtol=1e-11, atol=1e-13, method=method
    )
    sol = solve_ivp(
        lambda t, y: ref.flow_rhs(y, eps, net.eta, TGT.breaks, TGT.values),
        (0.0, t_end),
        np.concatenate((net.a, net.u)),
        method="DOP853",
        rtol=1e-12,
        atol=1e-14,
        t_eval=res.t,
    )
    np.testing.assert_allclose(res.t, np.linspace(0, t_end, 7), rtol=0, atol=0)
    err = np.max(np.abs(np.hstack((res.a, res.u)) - sol.y.T))
    assert err < 1e-8, err
    assert np.max(np.abs(res.u[-1] - res.u[0])) > 1e-2  # the neurons did move
    assert res.l2[-1] == pytest.approx(ttnn.l2_error(res.final, TGT), rel=1e-14)
    assert res.stats["accepted"] > 0 and res.stats["rhs_calls"] >= 4 * res.stats["accepted"]


def test_flow_loss_is_non_increasing_and_exact():
    net = ttnn.Network.init(m=20, eta=4e-3, seed=0)
    res = ttnn.gradient_flow(net, TGT, eps=1e-2, t_end=50.0, snapshots=50)
    assert np.all(np.diff(res.l2) <= 1e-12 * res.l2[0])
    assert res.l2[-1] < 0.1 * res.l2[0]
    assert res.l2[-1] == pytest.approx(ttnn.l2_error(res.final, TGT), rel=1e-14)
    np.testing.assert_allclose(res.tau, 1e-2 * res.t)


def test_sgd_with_small_step_tracks_the_flow():
    net = ttnn.Network.init(m=8, eta=0.05, seed=2)
    h, eps, steps = 1e-3, 0.2, 5000
    flow = ttnn.gradient_flow(net, TGT, eps=eps, t_end=h * steps, snapshots=2)
    runs = [
        ttnn.sgd(net, TGT, h=h, eps=eps, steps=steps, noise=None, seed=s, snapshots=2)
        for s in range(4)
    ]
    a_mean = np.mean([r.a[-1] for r in runs], axis=0)
    u_mean = np.mean([r.u[-1] for r in runs], axis=0)
    moved = np.max(np.abs(flow.a[-1] - flow.a[0]))
    assert np.max(np.abs(a_mean - flow.a[-1])) < 0.1 * moved
    assert np.max(np.abs(u_mean - flow.u[-1])) < 0.02


def test_flow_divergence_raises():
    net = ttnn.Network(np.full(6, 1e200), np.linspace(0.1, 0.9, 5), 0.1)
    with pytest.raises(ttnn.DivergenceError):
        ttnn.gradient_flow(net, TGT, eps=1.0, t_end=1.0)


@pytest.mark.parametrize(
    ("kwargs", "name", "exc"),
    [
        ({"eps": -1.0}, "eps", ValueError),
        ({"eps": float("nan")}, "eps", ValueError),
        ({"t_end": -1.0}, "t_end", ValueError),
        ({"snapshots": 1}, "snapshots", ValueError),
        ({"snapshots": 2.5}, "snapshots", TypeError),
        ({"rtol": 0.0}, "rtol", ValueError),
        ({"atol": -1.0}, "atol", ValueError),
        ({"t_end": "1"}, "t_end", TypeError),
    ],
)
def test_flow_bad_inputs_name_the_argument(kwargs, name, exc):
    args = {"eps": 1.0, "t_end": 1.0} | kwargs
    with pytest.raises(exc, match=name):
        ttnn.gradient_flow(small_net(), TGT, **args)
    with pytest.raises(TypeError, match="net"):
        ttnn.gradient_flow("net", TGT, eps=1.0, t_end=1.0)
    with pytest.raises(TypeError, match="target"):
        ttnn.gradient_flow(small_net(), None, eps=1.0, t_end=1.0)


# The Rosenbrock 4(3) path (docs/maths/dynamics.md#stiff-steps).
def test_rosenbrock_agrees_with_the_explicit_path_on_e1():
    # E1 (docs/maths/experiments.md): m = 20, η = 4e-3, ε = 2e-5, paper target, to t = 1750.
    tgt = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(m=20, eta=4e-3, seed=0)
    kw = {"eps": 2e-5, "t_end": 1750.0, "snapshots": 8}  # default rtol = 1e-8, atol = 1e-10
    rk = ttnn.gradient_flow(net, tgt, **kw)
    for method in ("rosenbrock", "auto"):
        res = ttnn.gradient_flow(net, tgt, method=method, **kw)
        err = np.max(np.abs(np.hstack((rk.a, rk.u)) - np.hstack((res.a, res.u))))
        assert err < 1e-7, (method, err)
        assert np.all(np.diff(res.l2) <= 1e-12 * res.l2[0])


def test_rosenbrock_finishes_the_stiff_eps_1_flow_under_a_step_ceiling():
    # m = 20, ε = 1, t_end = 1e4: near convergence the curvature in u (of order Δ²/η)
    # limits explicit steps (Dormand–Prince needed 146,645 accepted steps to t = 100).
    tgt = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(m=20, eta=4e-3, seed=0)
    ceiling = 5000
    res = ttnn.gradient_flow(
        net, tgt, eps=1.0, t_end=1e4, snapshots=50, method="rosenbrock", max_steps=ceiling
    )
    assert res.stats["accepted"] + res.stats["rejected"] <= ceiling
    assert np.all(np.diff(res.l2) <= 1e-12 * res.l2[0])
    assert res.l2[-1] < 0.1 * res.l2[0]
    # The explicit method, no longer the default, stalls under the same ceiling.
    with pytest.raises(ttnn.StepLimitError):
        ttnn.gradient_flow(
            net, tgt, eps=1.0, t_end=1e4, snapshots=2, max_steps=ceiling, method="rk45"
        )
    # The default ("auto") does not.
    res = ttnn.gradient_flow(net, tgt, eps=1.0, t_end=1e4, snapshots=2, max_steps=ceiling)
    assert res.stiff_from is not None and res.l2[-1] < 0.1 * res.l2[0]


def test_flow_method_is_validated():
    with pytest.raises(ValueError, match="method"):
        ttnn.gradient_flow(small_net(), TGT, eps=1.0, t_end=1.0, method="bdf")
    with pytest.raises(TypeError, match="method"):
        ttnn.gradient_flow(small_net(), TGT, eps=1.0, t_end=1.0, method=1)


def test_auto_goes_implicit_on_the_stiff_flow_and_matches_rosenbrock():
    tgt = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(m=20, eta=4e-3, seed=0)
    ceiling = 5000
    kw = {"eps": 1.0, "t_end": 1e4, "snapshots": 20, "max_steps": ceiling}
    auto = ttnn.gradient_flow(net, tgt, method="auto", **kw)
    ros = ttnn.gradient_flow(net, tgt, method="rosenbrock", **kw)
    assert auto.stiff_from is not None and 0 < auto.stiff_from < 100
    assert ros.stiff_from is None
    assert auto.stats["accepted"] + auto.stats["rejected"] <= ceiling
    assert np.all(np.diff(auto.l2) <= 1e-12 * auto.l2[0])
    err = np.max(np.abs(np.hstack((auto.a, auto.u)) - np.hstack((ros.a, ros.u))))
    assert err < 1e-5, err


def test_a_step_limit_after_the_switch_names_the_callers_max_steps():
    # "auto" counts max_steps over both methods, and the error names the caller's
    # bound, not what was left of it at the switch.
    tgt = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(m=20, eta=4e-3, seed=0)
    kw = {"eps": 1.0, "t_end": 1e3, "snapshots": 5}
    with pytest.raises(ttnn.StepLimitError, match=r"max_steps = 400 steps") as info:
        ttnn.gradient_flow(net, tgt, max_steps=400, **kw)
    assert info.value.steps == 400
    # The bound changes no step before it: the same run without it switched earlier.
    free = ttnn.gradient_flow(net, tgt, max_steps=None, **kw)
    assert free.stiff_from is not None and free.stiff_from < info.value.t
    assert free.stats["accepted"] + free.stats["rejected"] > 400


def test_auto_stays_explicit_where_the_flow_is_not_stiff():
    # The small problem of the DOP853 comparison: accuracy, not stability, limits
    # the steps, so "auto" is Dormand–Prince bit for bit.
    net = small_net()
    kw = {"eps": 0.5, "t_end": 3.0, "snapshots": 7, "rtol": 1e-11, "atol": 1e-13}
    auto = ttnn.gradient_flow(net, TGT, method="auto", **kw)
    rk = ttnn.gradient_flow(net, TGT, **kw)
    assert auto.stiff_from is None
    np.testing.assert_array_equal(auto.a, rk.a)
    np.testing.assert_array_equal(auto.u, rk.u)
    assert auto.stats == rk.stats
