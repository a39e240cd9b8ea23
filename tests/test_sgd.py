"""Online SGD: the C++ core against ttnn.reference on replayed streams, the
snapshot schedule, reproducibility, divergence and Ctrl-C (docs/maths/dynamics.md#online-sgd,
docs/maths/dynamics.md#snapshots)."""

import numpy as np
import pytest
from _sigint import assert_stops_within_a_second

import ttnn
from ttnn import reference as ref


def stream(n, seed=0):
    rng = np.random.default_rng(seed)
    t = ttnn.PiecewiseConstant.paper()
    x = rng.random(n)
    return x, t(x) + rng.uniform(-1, 1, n)


@pytest.mark.parametrize(("eps", "h"), [(2e-5, 1e-3), (1e-3, 1e-4)])
def test_sgd_equals_reference_on_replayed_stream(eps, h):
    net = ttnn.Network.init(m=20, eta=4e-3, seed=1)
    x, y = stream(10_000)
    res = ttnn.sgd(net, h=h, eps=eps, data=(x, y), snapshots=5)
    steps, A, U = ref.sgd_replay(net.a, net.u, net.eta, eps, h, x, y, snapshot_steps=res.steps)
    np.testing.assert_array_equal(res.steps, steps)
    assert np.max(np.abs(res.a - A)) <= 1e-10
    assert np.max(np.abs(res.u - U)) <= 1e-10
    assert np.max(np.abs(res.a[-1])) > 0.5  # it did learn something


@pytest.mark.parametrize("act", ["cubic", "ramp", "relu"])
def test_sgd_equals_reference_with_crossing_neurons(act):
    # Wide windows, eps = 1 and clustered neurons: neurons cross each other,
    # which exercises the sorted kernel's reordering. (With a much larger h the
    # cubic's u-update, whose σ′ reaches 3/η, amplifies rounding exponentially
    # and no two correct implementations stay within 1e-10.)
    rng = np.random.default_rng(5)
    u = np.concatenate([rng.uniform(0.3, 0.32, 6), rng.uniform(0, 1, 6)])
    net = ttnn.Network(rng.normal(size=13), u, eta=0.1, activation=act)
    x, y = stream(3000, seed=2)
    res = ttnn.sgd(net, h=2e-4, eps=1.0, data=(x, y), snapshots=4)
    _, A, U = ref.sgd_replay(
        net.a, net.u, net.eta, 1.0, 2e-4, x, y, activation=act, snapshot_steps=res.steps
    )
    order0, order1 = np.argsort(res.u[0]), np.argsort(res.u[-1])
    assert not np.array_equal(order0, order1), "test meant to make neurons cross"
    np.testing.assert_allclose(res.a, A, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.u, U, rtol=0, atol=1e-10)


def test_snapshot_schedule_and_loss():
    assert ttnn.snapshot_steps(10, 4).tolist() == [0, 3, 7, 10]
    assert ttnn.snapshot_steps(5, 3).tolist() == [0, 3, 5]  # 2.5 rounds up
    np.testing.assert_array_equal(
        ttnn.snapshot_steps(1_750_000, 100), ref.snapshot_steps(1_750_000, 100)
    )
    t = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(20, 4e-3, seed=0)
    res = ttnn.sgd(net, t, h=1e-3, eps=2e-5, steps=1000, snapshots=11, seed=0)
    assert res.steps.tolist() == list(range(0, 1001, 100))
    np.testing.assert_array_equal(res.a[0], net.a)
    np.testing.assert_array_equal(res.u[0], net.u)
    for k in (0, 5, 10):
        assert res.l2[k] == ttnn.l2_error(res.network(k), t)
    assert res.final.a.tolist() == res.a[-1].tolist()
    np.testing.assert_allclose(res.tau, res.steps * 1e-3 * 2e-5)


def test_sampling_is_seeded_and_inputs_untouched():
    t = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(20, 4e-3, seed=0)
    a0, u0 = net.a.copy(), net.u.copy()
    kw = dict(h=1e-3, eps=2e-5, steps=20_000, snapshots=3)
    r1 = ttnn.sgd(net, t, seed=11, **kw)
    r2 = ttnn.sgd(net, t, seed=11, **kw)
    r3 = ttnn.sgd(net, t, seed=12, **kw)
    np.testing.assert_array_equal(r1.a, r2.a)
    np.testing.assert_array_equal(r1.u, r2.u)
    assert not np.array_equal(r1.a, r3.a)
    np.testing.assert_array_equal(net.a, a0)
    np.testing.assert_array_equal(net.u, u0)
    # Without noise the labels are exactly f*(x): a different trajectory.
    r4 = ttnn.sgd(net, t, seed=11, noise=None, **kw)
    r5 = ttnn.sgd(net, t, seed=11, noise=ttnn.GaussianNoise(0.5), **kw)
    assert not np.array_equal(r1.a, r4.a) and not np.array_equal(r4.a, r5.a)


def test_noise_free_sgd_reduces_the_loss():
    t = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(20, 4e-3, seed=0)
    res = ttnn.sgd(net, t, h=1e-3, eps=1.0, steps=20_000, noise=None, snapshots=5)
    assert res.l2[-1] < 0.5 * res.l2[0]


def test_divergence_names_the_step():
    t = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(20, 4e-3, seed=0)
    with pytest.raises(ttnn.DivergenceError, match="step") as info:
        ttnn.sgd(net, t, h=5.0, eps=1.0, steps=100_000)
    assert 1 <= info.value.step < 100_000
    # The same stream replayed up to just before that step is still finite.
    res = ttnn.sgd(net, t, h=5.0, eps=1.0, steps=info.value.step - 1)
    assert np.all(np.isfinite(res.a)) and np.all(np.isfinite(res.u))


def test_ctrl_c_stops_a_long_online_run():
    # The paper's m = 20 online run (the flat-store kernel): the harness's 1 s bound
    # after a real SIGINT is the interrupt bound of tests/_sigint.py.
    assert_stops_within_a_second(
        "net = ttnn.Network.init(20, 4e-3, seed=0)",
        "ttnn.sgd(net, T, h=1e-5, eps=2e-5, steps=10**12)",  # hours of work
        what="sgd at m = 20",
    )
