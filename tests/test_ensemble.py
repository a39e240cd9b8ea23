"""Parallel ensembles: independent streams, bit-identical for any thread count."""

import numpy as np
import pytest

import ttnn
from ttnn.noise import GaussianNoise

T = ttnn.PiecewiseConstant.paper()


def test_ensemble_is_bit_identical_across_thread_counts_and_matches_sgd():
    nets = [ttnn.Network.init(20, 4e-3, seed=s) for s in range(5)]
    eps = [2e-5, 1e-3, 1e-2, 0.1, 1.0]  # one value per run: a sweep in one call
    kw = dict(h=1e-3, eps=eps, steps=50_000, seed=9, snapshots=3)
    r1 = ttnn.sgd_ensemble(nets, T, threads=1, **kw)
    r2 = ttnn.sgd_ensemble(nets, T, threads=2, **kw)
    for x, y in zip(r1, r2, strict=True):
        np.testing.assert_array_equal(x.a, y.a)
        np.testing.assert_array_equal(x.u, y.u)
        np.testing.assert_array_equal(x.l2, y.l2)
    single = ttnn.sgd(nets[0], T, h=1e-3, eps=2e-5, steps=50_000, seed=9, snapshots=3)
    np.testing.assert_array_equal(single.a, r1[0].a)
    assert [r.eps for r in r1] == eps
    # Runs draw from distinct streams: same init, different data.
    same = ttnn.sgd_ensemble([nets[0]] * 2, T, h=1e-3, eps=1.0, steps=1000, seed=9)
    assert not np.array_equal(same[0].a, same[1].a)


def test_ensemble_reports_a_diverging_run():
    nets = [ttnn.Network.init(20, 4e-3, seed=s) for s in range(3)]
    with pytest.raises(ttnn.DivergenceError):
        ttnn.sgd_ensemble(nets, T, h=[1e-3, 5.0, 1e-3], eps=1.0, steps=10_000)


@pytest.mark.parametrize(
    ("kw", "exc", "name"),
    [
        (dict(h=[1e-3, 1e-3]), ValueError, "h"),
        (dict(eps=-1.0), ValueError, "eps"),
        (dict(steps=[10, -1, 10]), ValueError, "steps"),
        (dict(threads=0), ValueError, "threads"),
        (dict(snapshots=20), ValueError, "snapshots"),
    ],
)
def test_ensemble_rejects_bad_input(kw, exc, name):
    nets = [ttnn.Network.init(5, 4e-3, seed=s) for s in range(3)]
    args = dict(h=1e-3, eps=1.0, steps=10)
    args.update(kw)
    with pytest.raises(exc, match=name):
        ttnn.sgd_ensemble(nets, T, **args)


def _replayed(net, h, eps, steps, seed, stream, noise=None):
    """Run `stream` of an ensemble, alone: replaying its draws (test_sample_stream.py
    shows that replaying a run's draws reproduces it bit for bit)."""
    kw = {} if noise is None else dict(noise=noise)
    x, y = ttnn.sample_stream(T, steps, seed=seed, stream=stream, **kw)
    try:
        return ttnn.sgd(net, T, h=h, eps=eps, data=(x, y), snapshots=3)
    except ttnn.DivergenceError as err:
        return err


def test_ensemble_runs_equal_runs_one_by_one():
    # More runs than threads, of different sizes (both prefix stores), lengths, h
    # and eps, a ramp run between cubic ones, and runs that diverge at different steps.
    ms = [20, 5, 20, 32, 1, 40, 20, 12, 20, 20, 20, 7]
    acts = ["cubic"] * 12
    acts[6] = "ramp"
    nets = [
        ttnn.Network.init(m, 4e-3, seed=i, activation=a)
        for i, (m, a) in enumerate(zip(ms, acts, strict=True))
    ]
    h = [1e-3, 2e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 3.0, 1e-3, 1e-3, 1.5, 1e-3]
    eps = [1e-2, 1.0, 1e-3, 1e-2, 0.1, 1e-2, 1e-2, 1e-2, 1e-2, 1e-2, 1e-2, 1e-2]
    steps = [3000, 5000, 2999, 100, 3000, 3000, 4000, 3000, 2, 6000, 3000, 2500]
    seed = 21
    outs = {
        th: ttnn.sgd_ensemble(
            nets,
            T,
            h=h,
            eps=eps,
            steps=steps,
            seed=seed,
            snapshots=3,
            threads=th,
            on_error="record",
        )
        for th in (1, 2)
    }
    diverged = 0
    for i in range(len(nets)):
        alone = _replayed(nets[i], h[i], eps[i], steps[i], seed, i)
        for th, rs in outs.items():
            r = rs[i]
            if isinstance(alone, ttnn.DivergenceError):
                assert isinstance(r, ttnn.DivergenceError), (i, th)
                assert r.step == alone.step, (i, th)
            else:
                np.testing.assert_array_equal(r.a, alone.a, err_msg=f"run {i}, {th} threads")
                np.testing.assert_array_equal(r.u, alone.u, err_msg=f"run {i}, {th} threads")
                np.testing.assert_array_equal(r.l2, alone.l2)
        diverged += isinstance(alone, ttnn.DivergenceError)
    assert diverged == 2  # the test covers runs that diverge among others


def test_ensemble_with_replayed_data_and_gaussian_noise():
    nets = [ttnn.Network.init(20, 4e-3, seed=i) for i in range(6)]
    noise = GaussianNoise(0.5)
    rs = ttnn.sgd_ensemble(
        nets, T, h=1e-3, eps=0.1, steps=2000, seed=4, noise=noise, threads=1, snapshots=3
    )
    for i, r in enumerate(rs):
        alone = _replayed(nets[i], 1e-3, 0.1, 2000, 4, i, noise=noise)
        np.testing.assert_array_equal(r.a, alone.a)
    # Per-run data, read in place or (two epochs) through the index of each draw.
    data = [ttnn.sample_stream(T, 1500, seed=9, stream=i) for i in range(6)]
    for epochs, steps in [(1, 1500), (2, 2500)]:
        rd = ttnn.sgd_ensemble(
            nets, T, h=1e-3, eps=0.1, data=data, steps=steps, epochs=epochs, threads=2, snapshots=3
        )
        for i, r in enumerate(rd):
            alone = ttnn.sgd(
                nets[i], T, h=1e-3, eps=0.1, data=data[i], steps=steps, epochs=epochs, snapshots=3
            )
            np.testing.assert_array_equal(r.a, alone.a)
            np.testing.assert_array_equal(r.u, alone.u)
