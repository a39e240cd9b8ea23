"""Ensembles for studies: one seed per run, and on_error="raise" | "record"."""

from __future__ import annotations

import numpy as np
import pytest

import ttnn

TARGET = ttnn.PiecewiseConstant.paper()


def _nets(n: int, m: int = 5):
    return [ttnn.Network.init(m, 4e-3, seed=i) for i in range(n)]


def test_sgd_ensemble_seed_sequence_equals_single_runs():
    nets = _nets(3)
    seeds = [7, 2**64 - 1, 7]
    res = ttnn.sgd_ensemble(nets, TARGET, h=1e-3, steps=500, seed=seeds, threads=2)
    for net, s, r in zip(nets, seeds, res, strict=True):
        one = ttnn.sgd(net, TARGET, h=1e-3, steps=500, seed=s)
        np.testing.assert_array_equal(r.u, one.u)
        np.testing.assert_array_equal(r.a, one.a)
    # A scalar seed keeps its meaning: run i uses the stream (seed, i).
    scalar = ttnn.sgd_ensemble(nets, TARGET, h=1e-3, steps=500, seed=7)
    np.testing.assert_array_equal(scalar[0].u, res[0].u)
    assert not np.array_equal(scalar[2].u, res[2].u)
    with pytest.raises(ValueError, match="seed"):
        ttnn.sgd_ensemble(nets, TARGET, h=1e-3, steps=5, seed=[1, 2])
    with pytest.raises(ValueError, match=r"seed\[1\]"):
        ttnn.sgd_ensemble(nets, TARGET, h=1e-3, steps=5, seed=[1, -2, 3])


def test_sgd_ensemble_on_error():
    nets = _nets(3)
    kw = dict(h=[1e-3, 100.0, 1e-3], steps=2000, seed=[1, 2, 3])
    rec = ttnn.sgd_ensemble(nets, TARGET, on_error="record", **kw)
    assert isinstance(rec[1], ttnn.DivergenceError)
    assert rec[1].run == 1 and rec[1].step > 0 and str(rec[1]).startswith("run 1: ")
    for i in (0, 2):  # the others complete, equal to their single runs
        one = ttnn.sgd(nets[i], TARGET, h=1e-3, steps=2000, seed=i + 1)
        np.testing.assert_array_equal(rec[i].u, one.u)
    with pytest.raises(ttnn.DivergenceError, match=r"^run 1: ") as info:
        ttnn.sgd_ensemble(nets, TARGET, **kw)
    assert info.value.run == 1 and info.value.step == rec[1].step
    with pytest.raises(ValueError, match="on_error"):
        ttnn.sgd_ensemble(nets, TARGET, on_error="ignore", **kw)


def test_full_batch_gd_ensemble_on_error():
    rng = np.random.default_rng(0)
    X = rng.random((50, 2))
    y = X.sum(axis=1)
    nets = [ttnn.AdditiveNetwork.init_paper(2, 4, seed=i) for i in range(3)]
    # 1e308: the weights leave the double range at epoch 2 (1e200 only made the
    # unscaled criterion overflow, while the weights stayed finite; issue 23).
    kw = dict(step_a=[0.5, 1e308, 0.5], step_u=0.01, epochs=200)
    rec = ttnn.full_batch_gd_ensemble(nets, X, y, on_error="record", **kw)
    assert isinstance(rec[1], ttnn.DivergenceError) and rec[1].run == 1
    assert str(rec[1]).startswith("run 1: ")
    for i in (0, 2):
        one = ttnn.full_batch_gd(nets[i], X, y, step_a=0.5, step_u=0.01, epochs=200)
        np.testing.assert_array_equal(rec[i].u, one.u)
    with pytest.raises(ttnn.DivergenceError, match=r"^run 1: "):
        ttnn.full_batch_gd_ensemble(nets, X, y, **kw)
