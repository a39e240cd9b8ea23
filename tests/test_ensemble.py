"""Parallel ensembles: independent streams, bit-identical for any thread count."""

import numpy as np
import pytest

import ttnn

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
