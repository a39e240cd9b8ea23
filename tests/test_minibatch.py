"""Mini-batch SGD and finite datasets (epochs, shuffling) against plain NumPy loops."""

from __future__ import annotations

import numpy as np
import pytest

import ttnn
import ttnn.reference as ref
from ttnn import _core

TGT = ttnn.PiecewiseConstant.paper()

# (activation, m, eta): the flat and blocked sorted kernels (the store rule:
# cpp/include/ttnn/sgd_sorted.hpp), ramp, and the dense relu kernel; η wide enough
# that windows hold several neurons. VARIANT: the kernel each case is meant to run,
# checked with _core.sgd_kernel by the tests that use KERNELS.
KERNELS = [("cubic", 20, 0.05), ("cubic", 100, 0.03), ("ramp", 40, 0.05), ("relu", 12, 1.0)]
VARIANT = {
    ("cubic", 20): "flat",
    ("cubic", 100): "blocked",
    ("ramp", 40): "blocked",
    ("relu", 12): "dense",
    ("cubic", 1000): "blocked",
}


def _assert_variant(net: ttnn.Network, batch: int) -> None:
    # Steps of these sizes are never split over threads, online or mini-batch.
    expected = VARIANT[net.activation, net.m]
    assert _core.sgd_kernel(net._c, batch, 1) == _core.sgd_kernel(net._c, batch, 2) == expected


def _numpy_minibatch(net: ttnn.Network, eps: float, h: float, x, y, batch: int):
    """The plain mini-batch loop: per step, the mean of the per-sample gradients of
    (y − f)² at the pre-step parameters, from ttnn.reference's f, σ_η and σ′_η."""
    a, u = net.a.copy(), net.u.copy()
    for p in range(len(x) // batch):
        xb, yb = x[p * batch : (p + 1) * batch], y[p * batch : (p + 1) * batch]
        grad_a = np.zeros_like(a)
        grad_u = np.zeros_like(u)
        for xi, yi in zip(xb, yb, strict=True):
            ga, gu = ref.sample_gradient(a, u, net.eta, xi, net.activation)
            r = 2.0 * (ref.forward(a, u, net.eta, xi, net.activation) - yi)
            grad_a += r * ga
            grad_u += r * gu
        a = a - h * grad_a / batch
        u = u - eps * h * grad_u / batch
    return a, u


@pytest.mark.parametrize("act,m,eta", KERNELS)
@pytest.mark.parametrize("batch", [2, 8, 64])
def test_batch_equals_numpy_minibatch_loop(act: str, m: int, eta: float, batch: int) -> None:
    rng = np.random.default_rng(batch + m)
    steps = 60 if batch < 64 else 25
    x = rng.random(steps * batch)
    y = TGT(x) + rng.uniform(-1, 1, x.size)
    # Steps that move neurons by ~0.1 but keep the dynamics tame (large ones make
    # it chaotic, and rounding differences then grow past any tolerance).
    net = ttnn.Network(0.3 * rng.normal(size=m + 1), np.sort(rng.random(m)), eta, act)
    _assert_variant(net, batch)
    res = ttnn.sgd(net, h=0.02, eps=0.05, data=(x, y), batch=batch)
    a, u = _numpy_minibatch(net, 0.05, 0.02, x, y, batch)
    assert np.abs(u - net.u).max() > 1e-3
    np.testing.assert_allclose(res.a[-1], a, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(res.u[-1], u, rtol=1e-9, atol=1e-10)
    # and the reference twin, with snapshots
    steps_k, A, U = ref.sgd_replay(
        net.a, net.u, eta, 0.05, 0.02, x, y, act, snapshot_steps=res.steps, batch=batch
    )
    np.testing.assert_allclose(res.a, A, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(res.u, U, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("act,m,eta", [*KERNELS, ("cubic", 1000, 4e-3)])
def test_long_batch_run_with_crossing_neurons_stays_sorted_and_exact(
    act: str, m: int, eta: float
) -> None:
    # Steps that make neurons cross one another (the sorted kernel must restore its
    # order after every batch); 400 steps of 16 cross the kernel's bucket refresh.
    rng = np.random.default_rng(3)
    batch = 16
    x = rng.random(400 * batch)
    y = TGT(x) + rng.uniform(-1, 1, x.size)
    net = ttnn.Network(0.1 * rng.normal(size=m + 1), np.sort(rng.random(m)), eta, act)
    _assert_variant(net, batch)
    h, eps = (0.05, 0.02) if m < 1000 else (1e-3, 1e-2)
    res = ttnn.sgd(net, h=h, eps=eps, data=(x, y), batch=batch)
    A, U = ref.sgd_replay(net.a, net.u, eta, eps, h, x, y, act, batch=batch)
    assert np.any(np.diff(U) < 0)  # neurons crossed
    np.testing.assert_allclose(res.a[-1], A, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.u[-1], U, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("act,m,eta", KERNELS)
def test_batch_one_is_online_sgd_bit_for_bit(act: str, m: int, eta: float) -> None:
    net = ttnn.Network.init(m, eta, seed=1, activation=act)
    _assert_variant(net, 1)
    online = ttnn.sgd(net, TGT, h=1e-2, steps=3000, seed=5, snapshots=4)
    one = ttnn.sgd(net, TGT, h=1e-2, steps=3000, seed=5, snapshots=4, batch=1)
    np.testing.assert_array_equal(online.a, one.a)
    np.testing.assert_array_equal(online.u, one.u)
    assert online.batch == one.batch == 1


@pytest.mark.parametrize("act,m,eta", KERNELS)
def test_sampled_batch_run_replays_its_stream(act: str, m: int, eta: float) -> None:
    # A step of batch B consumes B consecutive draws: replaying steps·B draws is the run.
    net = ttnn.Network.init(m, eta, seed=2, activation=act)
    _assert_variant(net, 8)
    res = ttnn.sgd(net, TGT, h=1e-2, steps=500, seed=8, batch=8, snapshots=3)
    x, y = ttnn.sample_stream(TGT, 500 * 8, seed=8)
    again = ttnn.sgd(net, TGT, h=1e-2, data=(x, y), batch=8, snapshots=3)
    np.testing.assert_array_equal(res.a, again.a)
    np.testing.assert_array_equal(res.u, again.u)
    np.testing.assert_array_equal(res.l2, again.l2)
    # The first online steps use the same draws as the first batch.
    online = ttnn.sgd(net, TGT, h=1e-2, data=(x[:1], y[:1]))
    first = ttnn.sgd(net, TGT, h=1e-2, steps=1, seed=8)
    np.testing.assert_array_equal(online.a, first.a)


def test_epochs_and_shuffle_equal_replaying_the_concatenated_stream() -> None:
    rng = np.random.default_rng(0)
    n = 50
    x = rng.random(n)
    y = TGT(x) + rng.uniform(-1, 1, n)
    net = ttnn.Network.init(20, 0.05, seed=0)
    # In order: E passes one after the other.
    res = ttnn.sgd(net, TGT, h=1e-2, data=(x, y), epochs=3, batch=4)
    assert res.steps[-1] == (3 * n) // 4
    flat = ttnn.sgd(net, TGT, h=1e-2, data=(np.tile(x, 3), np.tile(y, 3)), batch=4)
    np.testing.assert_array_equal(res.a, flat.a)
    # Shuffled: epoch e is the e-th permutation of default_rng([seed, 0]).
    shuf = ttnn.sgd(net, TGT, h=1e-2, data=(x, y), epochs=3, shuffle=True, seed=12, batch=5)
    g = np.random.default_rng([12, 0])
    order = np.concatenate([g.permutation(n) for _ in range(3)])
    replay = ttnn.sgd(net, TGT, h=1e-2, data=(x[order], y[order]), batch=5)
    np.testing.assert_array_equal(shuf.a, replay.a)
    np.testing.assert_array_equal(shuf.u, replay.u)
    same = ttnn.sgd(net, TGT, h=1e-2, data=(x, y), epochs=3, shuffle=True, seed=12, batch=5)
    np.testing.assert_array_equal(shuf.a, same.a)
    other = ttnn.sgd(net, TGT, h=1e-2, data=(x, y), epochs=3, shuffle=True, seed=13, batch=5)
    assert not np.array_equal(shuf.a, other.a)
    np.testing.assert_array_equal(ttnn.shuffle_order(n, 3 * n, 12), order)


def test_ensemble_accepts_per_run_data_and_batches() -> None:
    rng = np.random.default_rng(1)
    data = []
    for n in (40, 60):
        x = rng.random(n)
        data.append((x, TGT(x)))
    nets = [ttnn.Network.init(20, 0.05, seed=s) for s in range(2)]
    ens = ttnn.sgd_ensemble(
        nets, TGT, h=1e-2, data=data, batch=[2, 3], epochs=2, shuffle=True, seed=4, threads=2
    )
    for i, (net, d, b) in enumerate(zip(nets, data, (2, 3), strict=True)):
        n = d[0].size
        order = ttnn.shuffle_order(n, (2 * n) // b * b, 4, stream=i)
        one = ttnn.sgd(net, TGT, h=1e-2, data=(d[0][order], d[1][order]), batch=b)
        np.testing.assert_array_equal(ens[i].a, one.a)
        np.testing.assert_array_equal(ens[i].l2, one.l2)
    no_target = ttnn.sgd_ensemble(nets, None, h=1e-2, data=data)
    assert no_target[0].l2 is None
    np.testing.assert_array_equal(no_target[1].a, ttnn.sgd(nets[1], h=1e-2, data=data[1]).a)


def test_divergence_with_batch_names_the_step() -> None:
    net = ttnn.Network.init(20, 0.05, seed=0)
    with pytest.raises(ttnn.DivergenceError) as info:
        ttnn.sgd(net, TGT, h=50.0, steps=1000, batch=4)
    assert 1 <= info.value.step <= 1000


def test_bad_new_arguments_are_rejected_by_name() -> None:
    net = ttnn.Network.init(5, 0.05)
    x = np.random.default_rng(0).random(10)
    d = (x, TGT(x))
    cases = [
        (dict(batch=0, steps=5), ValueError, "batch"),
        (dict(batch=1.5, steps=5), TypeError, "batch"),
        (dict(batch=True, steps=5), TypeError, "batch"),
        (dict(epochs=2, steps=5), ValueError, "epochs"),
        (dict(shuffle=True, steps=5), ValueError, "shuffle"),
        (dict(data=d, epochs=0), ValueError, "epochs"),
        (dict(data=d, shuffle=1), TypeError, "shuffle"),
        (dict(data=d, noise=ttnn.UniformNoise(1.0)), ValueError, "noise"),
        (dict(data=d, seed=3), ValueError, "seed"),
        (dict(data=d, steps=6, batch=2), ValueError, "steps"),
        (dict(data=d, steps=11, epochs=1), ValueError, "steps"),
        (dict(data=d, shuffle=True, seed=-1), ValueError, "seed"),
    ]
    for kw, exc, name in cases:
        with pytest.raises(exc, match=name):
            ttnn.sgd(net, TGT, h=1e-3, **kw)
    with pytest.raises(ValueError, match="batch"):
        ttnn.sgd_ensemble([net], TGT, h=1e-3, steps=5, batch=[1, 2])
    with pytest.raises(ValueError, match="data"):
        ttnn.sgd_ensemble([net, net], TGT, h=1e-3, data=[d])
    with pytest.raises(ValueError, match="noise"):
        ttnn.sgd_ensemble([net], TGT, h=1e-3, data=[d], noise=ttnn.UniformNoise(1.0))
    with pytest.raises(ValueError, match="draws"):
        ttnn.sample_stream(TGT, -1)


def test_huge_batches_and_bad_shuffle_orders_are_refused_by_name(monkeypatch) -> None:
    net = ttnn.Network.init(5, 0.05)
    with pytest.raises(ValueError, match=r"batch must be <= 2147483647"):
        ttnn.sgd(net, TGT, h=1e-3, steps=5, batch=2**31)
    monkeypatch.setenv("TTNN_MEMORY_LIMIT_GIB", "0.1")
    with pytest.raises(ValueError, match=r"batch = 100000000 needs about .* fewer samples"):
        ttnn.sgd(net, TGT, h=1e-3, steps=5, batch=10**8)
    with pytest.raises(ValueError, match=r"batch\[1\] = 100000000"):
        ttnn.sgd_ensemble([net, net], TGT, h=1e-3, steps=5, batch=[1, 10**8])
    with pytest.raises(ValueError, match="shuffle_order of 100000000 draws"):
        ttnn.shuffle_order(10, 10**8, 0)
    x = np.random.default_rng(0).random(10)
    with pytest.raises(ValueError, match="fewer steps or epochs"):
        ttnn.sgd(net, TGT, h=1e-3, data=(x, TGT(x)), epochs=10**7, shuffle=True)
    monkeypatch.delenv("TTNN_MEMORY_LIMIT_GIB")
    for args, exc, name in [
        ((-1, 5, 0), ValueError, "n must be >= 0"),
        ((0, 5, 0), ValueError, "n must be >= 1"),
        ((5, 1.5, 0), TypeError, "draws"),
        ((5, -1, 0), ValueError, "draws"),
        ((5, 5, -1), ValueError, "seed"),
        ((5, 5, 0, "a"), TypeError, "stream"),
    ]:
        with pytest.raises(exc, match=name):
            ttnn.shuffle_order(*args)
    np.testing.assert_array_equal(ttnn.shuffle_order(0, 0, 0), np.zeros(0, dtype=np.int64))
