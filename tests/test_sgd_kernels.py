"""The SGD kernel's internal variants against ttnn.reference (docs/maths/dynamics.md#online-sgd).

The C++ core picks its prefix-sum store by m (flat up to 32 neurons, blocked of
32 above, summing the blocks in 8 partial sums instead of 2 from m = 2048) and,
when windows hold about m·η ≥ 1 neurons, counts the window with a fixed-length
loop that falls back to a scan past 8 neurons. Each variant is held here against
the plain NumPy loop on replayed streams, including neurons that cross each
other around a block boundary and windows longer than 8.
"""

import numpy as np
import pytest

import ttnn
from ttnn import reference as ref


def stream(n, seed=0):
    rng = np.random.default_rng(seed)
    t = ttnn.PiecewiseConstant.paper()
    x = rng.random(n)
    return x, t(x) + rng.uniform(-1, 1, n)


def check_against_reference(net, h, eps, x, y, snapshots=4):
    res = ttnn.sgd(net, h=h, eps=eps, data=(x, y), snapshots=snapshots)
    _, A, U = ref.sgd_replay(
        net.a, net.u, net.eta, eps, h, x, y, activation=net.activation, snapshot_steps=res.steps
    )
    np.testing.assert_allclose(res.a, A, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.u, U, rtol=0, atol=1e-10)
    return res


@pytest.mark.parametrize("m", [20, 31, 32, 33, 100, 1000, 2048])
def test_both_prefix_stores_equal_reference(m):
    # m around the flat/blocked switch and the block size, the bench's sizes, and
    # the first m whose blocked sums use 8 partial sums.
    net = ttnn.Network.init(m=m, eta=4e-3, seed=3)
    x, y = stream(10_000, seed=4)
    res = check_against_reference(net, 1e-4, 1e-3, x, y)
    assert np.max(np.abs(res.a[-1])) > 0.05  # it did learn something (a starts at 0)


@pytest.mark.parametrize("m", [1, 7, 8, 15, 16, 20, 24, 32])
def test_flat_store_at_small_m(m):
    # The flat store from 1 neuron to its largest m: wide windows (η = 0.05)
    # change single a_k often, eps = 0.2 makes neurons cross (larger eps is
    # chaotic here: rounding grows to O(1) between any two exact codes), and
    # the snapshots read mid-run.
    rng = np.random.default_rng(20 + m)
    net = ttnn.Network(rng.normal(size=m + 1), rng.random(m), eta=0.05)
    x, y = stream(3000, seed=21)
    res = check_against_reference(net, 2e-4, 0.2, x, y, snapshots=7)
    if m >= 7:
        assert not np.array_equal(np.argsort(res.u[0]), np.argsort(res.u[-1])), "no crossing"


@pytest.mark.parametrize("m", [20, 100])
def test_snapshots_do_not_change_the_run(m):
    # Reading the parameters for a snapshot must not change how the run rounds
    # (the blocked store keeps lazy offsets per block).
    tgt = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(m, 4e-3, seed=1)
    runs = [
        ttnn.sgd(net, tgt, h=1e-3, eps=1e-3, steps=30_000, seed=2, snapshots=k) for k in (2, 301)
    ]
    np.testing.assert_array_equal(runs[0].a[-1], runs[1].a[-1])
    np.testing.assert_array_equal(runs[0].u[-1], runs[1].u[-1])


@pytest.mark.parametrize("act", ["cubic", "ramp"])
def test_neurons_crossing_a_block_boundary(act):
    # 40 neurons: 26 spread over [0, 0.29), 14 clustered on [0.3, 0.32), i.e. at
    # sorted positions 26..39 across the block boundary at 32. Wide windows
    # (m·η = 4, and all 14 clustered neurons in one window: longer than the
    # 8-neuron count) and eps = 1 make them cross.
    rng = np.random.default_rng(11)
    u = np.concatenate([rng.uniform(0, 0.29, 26), rng.uniform(0.3, 0.32, 14)])
    net = ttnn.Network(rng.normal(size=41), u, eta=0.1, activation=act)
    x, y = stream(3000, seed=12)
    res = check_against_reference(net, 2e-4, 1.0, x, y)
    assert not np.array_equal(np.argsort(res.u[0]), np.argsort(res.u[-1])), "no crossing"


@pytest.mark.parametrize("act", ["cubic", "ramp"])
def test_long_windows_on_the_flat_store(act):
    # 12 of 20 neurons in one window (m·η = 2): the count falls back to a scan.
    rng = np.random.default_rng(13)
    u = np.concatenate([rng.uniform(0.5, 0.52, 12), rng.uniform(0, 1, 8)])
    net = ttnn.Network(rng.normal(size=21), u, eta=0.1, activation=act)
    x, y = stream(3000, seed=14)
    check_against_reference(net, 2e-4, 1.0, x, y)


def test_neurons_outside_the_unit_interval():
    # The bucket table covers [0, 1); neurons beyond it are found by the scans.
    rng = np.random.default_rng(15)
    u = np.concatenate([rng.uniform(-0.3, 0.0, 20), rng.uniform(1.0, 1.3, 20), rng.random(60)])
    net = ttnn.Network(rng.normal(size=101), u, eta=4e-3)
    x, y = stream(5000, seed=16)
    check_against_reference(net, 1e-4, 1e-3, x, y)


def test_divergence_names_the_step_with_blocked_store():
    # test_sgd.py checks m = 20 (flat store); this is the blocked one.
    t = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(m=200, eta=4e-3, seed=0)
    with pytest.raises(ttnn.DivergenceError) as info:
        ttnn.sgd(net, t, h=5.0, eps=1.0, steps=100_000)
    step = info.value.step
    assert 1 <= step <= 100_000
    # One step earlier everything is still finite: the step named is the first bad one.
    res = ttnn.sgd(net, t, h=5.0, eps=1.0, steps=step - 1)
    assert np.all(np.isfinite(res.a)) and np.all(np.isfinite(res.u))
