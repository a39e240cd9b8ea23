"""Bit-identity across refactors: a fixed set of runs, hashed.

Every kind of run (SGD online, mini-batch, finite data, ensembles, split over
threads; the flow with each method; the finite-η and η → 0 limits; full-batch GD;
the circle model and its PDE; the exact loss; a sweep) is run with fixed settings
and its arrays hashed. The expected hashes were recorded on main at 243b8fc,
before the redesign of issue 21 (one object per kind, the core split by
concept), which must leave every result bit for bit as it was. A change that is
*meant* to move results (a new rounding order, a new default) updates this table
in its own commit, which says why.

The C++ core rounds the same on every x86-64 machine (no -ffast-math, no FMA
contraction: its AVX2 clones leave FMA off), so its hashes are exact. The η → 0
limit is NumPy/SciPy code whose ufuncs may pick CPU-specific SIMD loops, so its
arrays are hashed after rounding to 9 significant digits, far above those loops'
last-bit differences and far below any change a refactor could make on purpose.

``python tests/test_hashes.py`` prints the table for the current code.
"""

from __future__ import annotations

import hashlib
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import ttnn
from ttnn import circle

PAPER = ttnn.PiecewiseConstant.paper("code")


def _digest(*arrays: Any, digits: int | None = None) -> str:
    h = hashlib.sha256()
    for x in arrays:
        a = np.ascontiguousarray(np.asarray(x))
        assert a.dtype.kind in "biuf", f"hash numbers only, got {a.dtype}"
        if digits is not None and a.dtype.kind == "f":
            a = np.array([float(f"{v:.{digits - 1}e}") for v in a.ravel()]).reshape(a.shape)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def _net(m: int = 20, activation: str = "cubic", seed: int = 0) -> ttnn.Network:
    return ttnn.Network.init(m, 4e-3, seed=seed, activation=activation)


def _sgd(res: Any) -> str:
    return _digest(res.steps, res.u, res.a, res.l2)


def _sgd_online(activation: str) -> str:
    return _sgd(ttnn.sgd(_net(activation=activation), PAPER, h=1e-2, steps=20_000, seed=3))


def _sgd_batch() -> str:
    return _sgd(ttnn.sgd(_net(), PAPER, h=1e-2, steps=3000, batch=8, seed=4, snapshots=4))


def _sgd_split() -> str:
    # Large enough for the split mini-batch step (its bits do not depend on threads).
    net = _net(m=3000, activation="ramp")
    return _sgd(ttnn.sgd(net, PAPER, h=1e-3, steps=20, batch=256, seed=5, threads=2))


def _sgd_teacher() -> str:
    teacher = ttnn.Network([0.1, 0.5, 1.0, -2.0], [0.2, 0.5, 0.7], 4e-3)
    return _sgd(ttnn.sgd(_net(activation="relu"), teacher, h=1e-2, steps=10_000, seed=6))


def _sgd_finite() -> str:
    data = ttnn.sample_stream(PAPER, 500, seed=7)
    res = ttnn.sgd(_net(), PAPER, h=1e-2, steps=1500, data=data, epochs=3, shuffle=True, seed=8)
    return _sgd(res)


def _sgd_ensemble() -> str:
    nets = [_net(seed=s) for s in range(3)]
    outs = ttnn.sgd_ensemble(nets, PAPER, h=[1e-2, 2e-2, 5e-3], steps=5000, seed=[1, 2, 3])
    return _digest(*[x for r in outs for x in (r.u, r.a, r.l2)])


def _flow(activation: str, method: str) -> str:
    res = ttnn.gradient_flow(
        _net(activation=activation), PAPER, eps=1e-2, t_end=200.0, method=method
    )
    return _digest(res.t, res.u, res.a, res.l2)


def _limit(activation: str) -> str:
    with warnings.catch_warnings():
        # relu's random start has near-coinciding neurons: a*(u) warns, and is still exact.
        warnings.simplefilter("ignore", ttnn.IllConditionedWarning)
        res = ttnn.two_timescale_limit(_net(activation=activation), PAPER, tau_end=2.0)
    return _digest(res.tau, res.u, res.a, res.l2, res.limit_loss)


def _limit_zero() -> str:
    res = ttnn.two_timescale_limit(
        _net(m=60, seed=2), PAPER, tau_end=1.0, limit="zero", snapshots=5
    )
    return _digest(res.tau, res.u, res.a, res.l2, digits=9)


def _gd() -> str:
    net = ttnn.AdditiveNetwork.init_paper(2, m=8, eta=1e-2, seed=1)
    X = np.random.default_rng(0).random((200, 2))
    y = np.where(X[:, 0] > 0.5, 1.0, 0.0) + np.where(X[:, 1] > 0.3, 2.0, 0.0)
    res = ttnn.full_batch_gd(net, X, y, step_a=1.0, step_u=0.01, epochs=300, snapshots=3)
    return _digest(res.epochs, res.u, res.a, res.criterion)


def _loss() -> str:
    net = _net(m=50_000, activation="ramp", seed=9)
    value, ga, gu = ttnn.l2_gradient(net, PAPER, threads=2)
    return _digest(np.array([ttnn.l2_error(net, PAPER), value]), ga, gu)


def _circle(method: str, data: str) -> str:
    teacher = circle.Teacher(gamma=100.0, particles=512, seed=1)
    res = circle.train(
        teacher, M=32, method=method, data=data, N=512, iterations=200, snapshots=3, seed=2
    )
    return _digest(
        res.iteration, res.theta, res.u, res.J, res.risk, res.mmd_teacher, res.w1_teacher
    )


def _pde() -> str:
    res = circle.pde([0.0, 0.05, 0.2], cells=256)
    return _digest(res.t, res.f, res.mass)


def _sweep(kind: str, grid: dict[str, Any], **settings: Any) -> str:
    ds = ttnn.sweep(kind, grid=grid, repeats=2, seed=11, **settings)
    names = ["l2", "a", "u", "covered", "init_seed", "seed", "run_hash"]
    if "l2_path" in ds:
        names.append("l2_path")
    return _digest(*(ds[v].values for v in names))


RUNS: dict[str, Callable[[], str]] = {
    "sgd-cubic": lambda: _sgd_online("cubic"),
    "sgd-ramp": lambda: _sgd_online("ramp"),
    "sgd-relu": lambda: _sgd_online("relu"),
    "sgd-batch": _sgd_batch,
    "sgd-split": _sgd_split,
    "sgd-teacher": _sgd_teacher,
    "sgd-finite": _sgd_finite,
    "sgd-ensemble": _sgd_ensemble,
    "flow-cubic-rk45": lambda: _flow("cubic", "rk45"),
    "flow-ramp-auto": lambda: _flow("ramp", "auto"),
    "flow-relu-auto": lambda: _flow("relu", "auto"),
    "limit-cubic": lambda: _limit("cubic"),
    "limit-relu": lambda: _limit("relu"),
    "limit-zero": _limit_zero,
    "gd": _gd,
    "loss": _loss,
    "circle-varpro-samples": lambda: _circle("varpro", "samples"),
    "circle-2ts-population": lambda: _circle("2ts", "population"),
    "pde": _pde,
    "sweep-sgd": lambda: _sweep("sgd", {"h": [1e-2, 2e-2]}, steps=2000),
    "sweep-flow": lambda: _sweep("flow", {"eps": [1e-2, 1e-1]}, t_end=20.0, m=10),
    "sweep-limit": lambda: _sweep("limit", {"activation": ["cubic", "ramp"]}, tau_end=0.5),
    "sweep-gd": lambda: _sweep("gd", {"step_u": [1e-2, 2e-2]}, epochs=50, n=100),
}

EXPECTED: dict[str, str] = {
    "sgd-cubic": "094f08da84e682e2",
    "sgd-ramp": "be31964e0d66c0ac",
    "sgd-relu": "afc565b75bdb1dd8",
    "sgd-batch": "9701613e538f9b72",
    "sgd-split": "2bb475775196690c",
    "sgd-teacher": "7a5fbc8f5b732ae7",
    "sgd-finite": "59f44391235dcde5",
    "sgd-ensemble": "5df044c4719565d0",
    "flow-cubic-rk45": "0f8365784f14eace",
    "flow-ramp-auto": "a7ddc7e73bd7c503",
    "flow-relu-auto": "87b66e6da71994cc",
    "limit-cubic": "a9caeab528d776dc",
    "limit-relu": "3377f1d8b1db2e77",
    "limit-zero": "6ba322f123ed7cd3",
    "gd": "dd4aa1ac6d154f7d",
    "loss": "306ddbc5ffe3492f",
    "circle-varpro-samples": "6862bba6f65e6f3f",
    "circle-2ts-population": "2598fbf9a1dd6d36",
    "pde": "97c9dfe327213c45",
    "sweep-sgd": "cefc08e30275a7fe",
    "sweep-flow": "17da81bc30e010c8",
    "sweep-limit": "8565e6559fcc774f",
    "sweep-gd": "b28f0e97b8bed4e8",
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_same_bits_as_before(name: str) -> None:
    assert RUNS[name]() == EXPECTED[name]


def test_table_covers_every_run() -> None:
    assert sorted(EXPECTED) == sorted(RUNS)


if __name__ == "__main__":
    for name in RUNS:
        print(f'    "{name}": "{RUNS[name]()}",')
    sys.exit(0)
