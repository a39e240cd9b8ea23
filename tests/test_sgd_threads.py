"""Threads inside one SGD run (docs/guide/threads.md): mini-batch steps above the work
threshold are split over threads, with the bits of the serial step for every thread count."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import ttnn
import ttnn.reference as ref
from ttnn import _core

TGT = ttnn.PiecewiseConstant.paper()

# (activation, m, eta, batch): steps whose work is above the threshold, so that
# threads > 1 take the split path (checked by every test through _kernel).
# Windowed kernels: m ≥ 2048, so the update has several superblocks (parts), an
# odd number of them (3) so that two threads split them unevenly; relu: the
# dense kernel.
SPLIT = [("cubic", 3000, 0.15, 256), ("ramp", 2500, 0.2, 256), ("relu", 600, 4e-3, 256)]
# The serial kernel each SPLIT case takes on one thread (its split one adds "+parts").
SERIAL = {"cubic": "blocked", "ramp": "blocked", "relu": "dense"}


def _kernel(net: ttnn.Network, batch: int, threads: int) -> str:
    return _core.sgd_kernel(net._c, batch, threads)


def _assert_split(net: ttnn.Network, batch: int) -> None:
    """The case takes the split step on 2 and 3 threads and the serial one on 1."""
    serial = SERIAL[net.activation]
    assert _kernel(net, batch, 1) == serial
    assert _kernel(net, batch, 2) == _kernel(net, batch, 3) == serial + "+parts"


def _h_eps(m: int) -> tuple[float, float]:
    # h·m ≈ 0.5 keeps f's step (≈ h·r·#saturated) tame; the large ε moves the
    # neurons by ~0.1 in 20 steps, past hundreds of neighbours (spacing 1/m).
    return 0.5 / m, 100.0


def _run(net: ttnn.Network, x, y, batch: int, threads: int | None, **kw) -> ttnn.SGDResult:
    h, eps = _h_eps(net.m)
    return ttnn.sgd(net, TGT, h=h, eps=eps, data=(x, y), batch=batch, threads=threads, **kw)


def _net_and_stream(act: str, m: int, eta: float, batch: int, steps: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.random(steps * batch)
    y = TGT(x) + rng.uniform(-1, 1, x.size)
    net = ttnn.Network(rng.normal(size=m + 1) / np.sqrt(m), rng.random(m), eta, act)
    return net, x, y


@pytest.mark.parametrize("act,m,eta,batch", SPLIT)
def test_split_path_is_taken_only_with_threads(act: str, m: int, eta: float, batch: int) -> None:
    net = ttnn.Network.init(m, eta, activation=act)
    _assert_split(net, batch)
    # too little work per step: the plain serial step
    assert _kernel(net, 4, 2) == SERIAL[act]
    # the paper's runs: online, m = 20
    small = ttnn.Network.init(20, 4e-3)
    assert _kernel(small, 1, 2) == "flat"


@pytest.mark.parametrize("act,m,eta,batch", SPLIT)
def test_split_steps_have_the_serial_bits_for_every_thread_count(
    act: str, m: int, eta: float, batch: int
) -> None:
    # 20 steps of 256 draws cross the kernel's refresh at 4096 draws.
    net, x, y = _net_and_stream(act, m, eta, batch, steps=20, seed=m)
    _assert_split(net, batch)
    serial = _run(net, x, y, batch, threads=1, snapshots=4)  # step_batch, unsplit
    assert np.abs(serial.u[-1] - net.u).max() > 1e-3  # the neurons moved
    for threads in (2, 3, None):
        res = _run(net, x, y, batch, threads=threads, snapshots=4)
        np.testing.assert_array_equal(res.a, serial.a)
        np.testing.assert_array_equal(res.u, serial.u)
        assert res.l2 is not None and serial.l2 is not None
        np.testing.assert_array_equal(res.l2, serial.l2)


@pytest.mark.parametrize("act,m,eta,batch", SPLIT)
def test_split_steps_match_the_reference(act: str, m: int, eta: float, batch: int) -> None:
    # Steps large enough that neurons cross (the order is restored after the split
    # update) and windows straddle the parts' boundaries (1024 sorted positions).
    net, x, y = _net_and_stream(act, m, eta, batch, steps=12, seed=7)
    _assert_split(net, batch)
    res = _run(net, x, y, batch, threads=2)
    h, eps = _h_eps(m)
    A, U = ref.sgd_replay(net.a, net.u, eta, eps, h, x, y, act, batch=batch)
    assert np.any(np.diff(U[np.argsort(net.u)]) < 0)  # some neurons swapped places
    # Sums of ≤ B·m terms in another order than NumPy's: a few ulps of f per step
    # (measured ~1e-14 after 20 steps), amplified a little by the crossings.
    np.testing.assert_allclose(res.a[-1], A, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.u[-1], U, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("act", ["cubic", "ramp"])
def test_split_steps_at_the_papers_eta_match_serial_and_reference(act: str) -> None:
    # η = 4e-3 with the paper's init, the smallest m whose update has two whole
    # superblocks (parts), and a batch above the threshold there; 10 steps of 512
    # draws cross the kernel's periodic refresh (every 4096 draws), which a split
    # step also splits by superblock when no neuron changed places. The reference
    # loop costs O(m) per draw: this size keeps it to about a second.
    m, eta, batch, steps = 2100, 4e-3, 512, 10
    net = ttnn.Network.init(m, eta, seed=4, activation=act)
    _assert_split(net, batch)
    x, y = ttnn.sample_stream(TGT, steps * batch, seed=9)
    h, eps = 1.0 / m, 0.5
    runs = {
        t: ttnn.sgd(net, TGT, h=h, eps=eps, data=(x, y), batch=batch, threads=t, snapshots=3)
        for t in (1, 2, 3)
    }
    for t in (2, 3):
        np.testing.assert_array_equal(runs[t].a, runs[1].a)
        np.testing.assert_array_equal(runs[t].u, runs[1].u)
    A, U = ref.sgd_replay(net.a, net.u, eta, eps, h, x, y, act, batch=batch)
    assert np.abs(A).max() > 1e-3 and np.abs(U - net.u).max() > 1e-5  # it moved
    # A few ulps of f per step, as in test_split_steps_match_the_reference.
    np.testing.assert_allclose(runs[2].a[-1], A, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(runs[2].u[-1], U, rtol=1e-10, atol=1e-12)


def test_sampled_split_run_has_the_same_bits_for_every_thread_count() -> None:
    net = ttnn.Network.init(3000, 0.15, seed=2)
    _assert_split(net, 256)
    kw = dict(h=1e-2, eps=1e-2, steps=30, batch=256, seed=5, snapshots=3)
    runs = [ttnn.sgd(net, TGT, threads=t, **kw) for t in (1, 2, 3, None)]
    for res in runs[1:]:
        np.testing.assert_array_equal(res.a, runs[0].a)
        np.testing.assert_array_equal(res.u, runs[0].u)


@pytest.mark.parametrize(
    "act,m,eta,variant",
    [("cubic", 20, 4e-3, "flat"), ("cubic", 1000, 4e-3, "blocked"), ("relu", 50, 0.05, "dense")],
)
def test_online_runs_do_not_depend_on_threads(act: str, m: int, eta: float, variant: str) -> None:
    net = ttnn.Network.init(m, eta, seed=1, activation=act)
    assert _kernel(net, 1, 1) == _kernel(net, 1, 2) == variant  # online steps are never split
    runs = [ttnn.sgd(net, TGT, h=1e-3, eps=1e-2, steps=3000, threads=t) for t in (1, 2, None)]
    for res in runs[1:]:
        np.testing.assert_array_equal(res.a, runs[0].a)
        np.testing.assert_array_equal(res.u, runs[0].u)


def test_ensemble_runs_stay_serial_and_equal_single_runs() -> None:
    # Each run of an ensemble is serial (threads go to the runs): run i equals the
    # single run, which splits its steps when given threads.
    nets = [ttnn.Network.init(3000, 0.15, seed=s) for s in range(2)]
    _assert_split(nets[0], 256)
    kw = dict(h=1e-2, eps=1e-2, steps=10, batch=256, snapshots=2)
    ens = ttnn.sgd_ensemble(nets, TGT, seed=[3, 4], threads=2, **kw)
    for net, seed, res in zip(nets, [3, 4], ens, strict=True):
        single = ttnn.sgd(net, TGT, seed=seed, threads=2, **kw)
        np.testing.assert_array_equal(res.a, single.a)
        np.testing.assert_array_equal(res.u, single.u)


@pytest.mark.parametrize(
    "bad,exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError), ("2", TypeError)]
)
def test_threads_is_validated(bad: object, exc: type[Exception]) -> None:
    net = ttnn.Network.init(20, 4e-3)
    with pytest.raises(exc, match="threads"):
        ttnn.sgd(net, TGT, h=1e-3, steps=10, threads=bad)  # type: ignore[arg-type]


def test_default_threads_stay_serial_while_the_cores_are_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mod = sys.modules["ttnn.sgd"]
    monkeypatch.setattr(mod.os, "getloadavg", lambda: (1e9, 0.0, 0.0))
    assert mod._run_threads(None) == 1
    assert mod._run_threads(2) == 2  # an explicit count is kept
    monkeypatch.setattr(mod.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert mod._run_threads(None) == 0  # OpenMP's count


@pytest.mark.parametrize("act,m,eta,batch", SPLIT)
def test_split_run_diverges_at_the_serial_step(act: str, m: int, eta: float, batch: int) -> None:
    # h far too large: the parameters overflow after a few steps, at the same step
    # whether the steps are split or not.
    net, x, y = _net_and_stream(act, m, eta, batch, steps=150, seed=3)
    _assert_split(net, batch)
    steps = []
    for threads in (1, 2):
        with pytest.raises(ttnn.DivergenceError) as err:
            ttnn.sgd(net, TGT, h=1e3, eps=1.0, data=(x, y), batch=batch, threads=threads)
        steps.append(err.value.step)
    assert steps[0] == steps[1] > 10  # (measured: 49, 49 and 89)
