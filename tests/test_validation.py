"""Bad input (docs/guide/errors.md): every bad argument raises ValueError or
TypeError naming it, before any work or writes, with messages written once in
ttnn._validate.

1. CASES: one call per bad argument, grouped by the function they go to, and the
   argument its message must name.
2. The text of messages where it matters (a zero step count is a steps problem,
   ranges printed with their bounds, h printed briefly, choices listed).
3. A replayed stream is checked without copies, warnings or writes.

Numerical and memory guards (overflow during a run, requests too big for memory)
are in test_guards.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ttnn
from ttnn import _validate as check

T = ttnn.PiecewiseConstant.paper()
NET = ttnn.Network.init(5, 0.01, seed=0)
X = np.linspace(0.1, 0.9, 10)


def sgd(**kw):
    args = dict(h=1e-3, eps=1.0, steps=10, snapshots=2)
    args.update(kw)
    return ttnn.sgd(NET, T, **args)


def ens(**kw):
    args = dict(h=1e-3, eps=1.0, steps=10, snapshots=2)
    args.update(kw)
    return ttnn.sgd_ensemble([NET, NET], T, **args)


ANET = ttnn.AdditiveNetwork.init_paper(2, 3, 1e-2, seed=0)
XA = np.random.default_rng(0).random((8, 2))
YA = XA.sum(1)


def gd(**kw):
    args = dict(step_a=1.0, step_u=1.0, epochs=3)
    args.update(kw)
    return ttnn.full_batch_gd(ANET, XA, YA, **args)


def gd_ens(**kw):
    args = dict(step_a=1.0, step_u=1.0, epochs=3)
    args.update(kw)
    return ttnn.full_batch_gd_ensemble([ANET, ANET], XA, YA, **args)


def flow(**kw):
    args = dict(eps=1.0, t_end=0.1, snapshots=2)
    args.update(kw)
    return ttnn.gradient_flow(NET, T, **args)


def limit(**kw):
    args = dict(tau_end=0.01, snapshots=2)
    args.update(kw)
    return ttnn.two_timescale_limit(NET, T, **args)


CASES = [
    # (callable, exception, argument named in the message)
    # Targets: breaks sorted, distinct, inside (0, 1) and finite; one more value than
    # breaks, finite; real arrays.
    (lambda: ttnn.PiecewiseConstant([0.5, 0.2], [1, 2, 3]), ValueError, "breaks"),
    (lambda: ttnn.PiecewiseConstant([0.2, 0.2], [1, 2, 3]), ValueError, "breaks"),
    (lambda: ttnn.PiecewiseConstant([0.0, 0.5], [1, 2, 3]), ValueError, "breaks"),
    (lambda: ttnn.PiecewiseConstant([0.2, 1.5], [1, 2, 3]), ValueError, "breaks"),
    (lambda: ttnn.PiecewiseConstant([0.2, np.nan], [1, 2, 3]), ValueError, "breaks"),
    (lambda: ttnn.PiecewiseConstant([0.2, 0.5], [1, 2]), ValueError, "values"),
    (lambda: ttnn.PiecewiseConstant([0.2, 0.5], [1, np.inf, 2]), ValueError, "values"),
    (lambda: ttnn.PiecewiseConstant([[0.2]], [1, 2]), ValueError, "breaks"),
    (lambda: ttnn.PiecewiseConstant(["a"], [1, 2]), TypeError, "breaks"),
    (lambda: ttnn.PiecewiseConstant.paper("both"), ValueError, "values"),
    (lambda: ttnn.PiecewiseConstant([0.5], [1, 2j]), TypeError, "values"),
    (
        lambda: ttnn.PiecewiseConstant([0.5], np.ma.array([1.0, 2.0], mask=[1, 0])),
        TypeError,
        "values",
    ),
    (lambda: ttnn.PiecewiseConstant(None, [1]), TypeError, "breaks"),
    (lambda: T(None), TypeError, "x"),
    (lambda: T([0.5 + 1j]), TypeError, "x"),
    (lambda: T([np.inf]), ValueError, "x"),
    # Networks: len(a) = m + 1, finite a and u, eta > 0, a known activation;
    # Network.init; evaluation.
    (lambda: ttnn.Network([0, 1], [0.5, 0.6], 0.1), ValueError, "a"),
    (lambda: ttnn.Network([0, 1, 2], [0.5, np.nan], 0.1), ValueError, "u"),
    (lambda: ttnn.Network([0, np.inf, 2], [0.5, 0.6], 0.1), ValueError, "a"),
    (lambda: ttnn.Network([0, 1], [0.5], 0.0), ValueError, "eta"),
    (lambda: ttnn.Network([0, 1], [0.5], -1.0), ValueError, "eta"),
    (lambda: ttnn.Network([0, 1], [0.5], np.nan), ValueError, "eta"),
    (lambda: ttnn.Network([0, 1], [0.5], "0.1"), TypeError, "eta"),
    (lambda: ttnn.Network([0, 1], [0.5], 0.1, activation="tanh"), ValueError, "activation"),
    (lambda: ttnn.Network([0, 1], [0.5], 0.1, activation=3), TypeError, "activation"),
    (lambda: ttnn.Network.init(0, 0.1), ValueError, "m"),
    (lambda: ttnn.Network.init(2.5, 0.1), TypeError, "m"),
    (lambda: ttnn.Network.init(3, 0.1, seed=-1), ValueError, "seed"),
    (lambda: ttnn.Network([0, 1 + 1j], [0.5], 0.1), TypeError, "a"),
    (lambda: ttnn.Network(np.ma.array([0.0, 1.0], mask=[0, 1]), [0.5], 0.1), TypeError, "a"),
    (lambda: ttnn.Network([0, None], [0.5], 0.1), TypeError, "a"),
    (lambda: ttnn.Network([0, 1], [None], 0.1), TypeError, "u"),
    (lambda: ttnn.Network(None, [0.5], 0.1), TypeError, "a"),
    (lambda: ttnn.Network([0, 1], 0.5, 0.1), ValueError, "u"),
    (lambda: ttnn.Network([0, 1], [0.5], None), TypeError, "eta"),
    (lambda: ttnn.Network([0, 1], [0.5], 0.1 + 0j), TypeError, "eta"),
    (lambda: NET(None), TypeError, "x"),
    (lambda: NET([0.5, None]), TypeError, "x"),
    (lambda: NET(0.5 + 1j), TypeError, "x"),
    (lambda: NET(np.nan), ValueError, "x"),
    (lambda: NET(np.ma.array([0.5], mask=[1])), TypeError, "x"),
    # The additive network.
    (lambda: ttnn.AdditiveNetwork(np.ones((2, 2)), np.ones((2, 2)) * 1j, 0.1), TypeError, "u"),
    (lambda: ANET(None), TypeError, "X"),
    # The loss.
    (lambda: ttnn.l2_error(NET, None), TypeError, "target"),
    (lambda: ttnn.l2_error("net", T), TypeError, "net"),
    # sgd: step size, eps, steps, snapshots, noise, seed, target, progress.
    (lambda: sgd(h=0.0), ValueError, "h"),
    (lambda: sgd(h=-1e-3), ValueError, "h"),
    (lambda: sgd(h=np.inf), ValueError, "h"),
    (lambda: sgd(eps=-1.0), ValueError, "eps"),
    (lambda: sgd(eps=np.nan), ValueError, "eps"),
    (lambda: sgd(steps=-1), ValueError, "steps"),
    (lambda: sgd(steps=1.5), TypeError, "steps"),
    (lambda: sgd(snapshots=1), ValueError, "snapshots"),
    (lambda: sgd(noise="uniform"), TypeError, "noise"),
    (lambda: sgd(noise=ttnn.UniformNoise(-1.0)), ValueError, "r"),
    (lambda: sgd(noise=ttnn.GaussianNoise(np.nan)), ValueError, "s"),
    (lambda: sgd(seed=-3), ValueError, "seed"),
    (lambda: ttnn.sgd(NET, h=1e-3, steps=10), ValueError, "target"),
    (lambda: ttnn.sgd(NET, T, h=1e-3), TypeError, "steps"),
    (lambda: ttnn.sgd("net", T, h=1e-3, steps=10), TypeError, "net"),
    (lambda: sgd(progress="yes"), TypeError, "progress"),
    # sgd: integers beyond the core's signed 64-bit range (never a pybind11 signature dump);
    # steps × batch draws must fit the same count.
    (lambda: sgd(steps=2**63), ValueError, "steps"),
    (lambda: sgd(steps=2**64 + 5), ValueError, "steps"),
    (lambda: sgd(snapshots=2**63), ValueError, "snapshots"),
    (lambda: sgd(seed=2**64), ValueError, "seed"),
    (lambda: sgd(steps=2**62, batch=4, snapshots=2), ValueError, "batch"),
    # sgd: 0-d arrays, complex numbers, None and strings where a number is expected.
    (lambda: sgd(h=np.array(1e-3)), TypeError, "h"),
    (lambda: sgd(h=1e-3 + 0j), TypeError, "h"),
    (lambda: sgd(h=np.complex128(1e-3)), TypeError, "h"),
    (lambda: sgd(h=None), TypeError, "h"),
    (lambda: sgd(steps=None), TypeError, "steps"),
    (lambda: sgd(seed="3"), TypeError, "seed"),
    # sgd on a replayed stream (data=(x, y)): lengths, finiteness (squares too), real arrays.
    (lambda: ttnn.sgd(NET, h=1e-3, data=(X, X[:-1])), ValueError, "data"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=(X, X), steps=11), ValueError, "steps"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=(X, np.full(10, np.nan))), ValueError, "data y"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=X), TypeError, "data"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=(X, X), snapshots=12), ValueError, "snapshots"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=(X, X + 0j)), TypeError, "data y"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=(np.ma.array(X), X)), TypeError, "data x"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=(X, np.full(10, 1e308))), ValueError, "data y"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=(None, X)), TypeError, "data x"),
    # sgd_ensemble: per-run lists (the failing entry named by index), threads, shapes, types.
    (lambda: ens(steps=2**63), ValueError, "steps"),
    (lambda: ens(steps=[10, 2**63]), ValueError, "steps[1]"),
    (lambda: ens(threads=2**31), ValueError, "threads"),
    (lambda: ens(threads=2**63), ValueError, "threads"),
    (lambda: ens(threads=0), ValueError, "threads"),
    (lambda: ens(h=np.array(1e-3)), ValueError, "h"),
    (lambda: ens(steps=np.array(10)), ValueError, "steps"),
    (lambda: ens(eps=np.array([[1.0, 1.0]])), ValueError, "eps"),
    (lambda: ens(h=[1e-3, 1e-3 + 1j]), TypeError, "h[1]"),
    (lambda: ens(h=np.array([1e-3, 1e-3], dtype=complex)), TypeError, "h"),
    (lambda: ens(h=np.ma.array([1e-3, 1e-3], mask=[0, 1])), TypeError, "h"),
    (lambda: ens(h=None), TypeError, "h"),
    (lambda: ens(steps=[10, 2**61], batch=[1, 8]), ValueError, "steps[1]"),
    # full_batch_gd and its ensemble.
    (lambda: gd(epochs=2**63), ValueError, "epochs"),
    (lambda: gd(snapshots=2**63), ValueError, "snapshots"),
    (lambda: gd_ens(threads=2**31), ValueError, "threads"),
    (lambda: gd_ens(epochs=[3, 2**63]), ValueError, "epochs[1]"),
    (lambda: gd_ens(step_a=np.array(1.0)), ValueError, "step_a"),
    (lambda: gd(epochs=None), TypeError, "epochs"),
    (
        lambda: ttnn.full_batch_gd(ANET, XA, np.full(8, 1e200), step_a=1.0, step_u=1.0, epochs=1),
        ValueError,
        "y",
    ),
    (
        lambda: ttnn.full_batch_gd(ANET, XA + 0j, YA, step_a=1.0, step_u=1.0, epochs=1),
        TypeError,
        "X",
    ),
    # gradient_flow and two_timescale_limit: horizons, tolerances, snapshots.
    (lambda: flow(snapshots=2**31), ValueError, "snapshots"),
    (lambda: limit(snapshots=2**31), ValueError, "snapshots"),
    (lambda: flow(t_end=1e308), ValueError, "t_end"),
    (lambda: flow(t_end=None), TypeError, "t_end"),
    (lambda: flow(rtol=1e-16), ValueError, "rtol"),
    (lambda: flow(rtol=0.0), ValueError, "rtol"),
    (lambda: flow(rtol=2.0), ValueError, "rtol"),
    (lambda: flow(atol=1e-300), ValueError, "atol"),
    (lambda: flow(atol=0.0), ValueError, "atol"),
    (lambda: limit(tau_end=1e308), ValueError, "tau_end"),
    (lambda: limit(atol=1e-300), ValueError, "atol"),
    # snapshot_steps, shuffle_order and sample_stream.
    (lambda: ttnn.snapshot_steps(2**63, 2), ValueError, "steps"),
    (lambda: ttnn.shuffle_order(0, 3, 0), ValueError, "n"),
    (lambda: ttnn.shuffle_order(5.5, 3, 0), TypeError, "n"),
    (lambda: ttnn.shuffle_order(5, -1, 0), ValueError, "draws"),
    (lambda: ttnn.shuffle_order(5, 3, -1), ValueError, "seed"),
    (lambda: ttnn.shuffle_order(5, 3, 0, stream=2**64), ValueError, "stream"),
    (lambda: ttnn.sample_stream(T, 2**63), ValueError, "draws"),
]


@pytest.mark.parametrize(("call", "exc", "name"), CASES)
def test_bad_input_is_rejected_naming_the_argument(call, exc, name):
    with pytest.raises(exc) as info:
        call()
    assert name in str(info.value)


# Message text


def _msg(fn) -> str:
    with pytest.raises(ValueError) as info:
        fn()
    return str(info.value)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: ttnn.sgd(NET, T, h=1e-3, steps=0), "steps"),
        (lambda: ttnn.sgd(NET, T, h=1e-3, steps=0, snapshots=5), "steps"),
        (lambda: ttnn.snapshot_steps(0, 2), "steps"),
        (lambda: ttnn.sgd_ensemble([NET, NET], T, h=1e-3, steps=[4, 0]), "min(steps)"),
        (
            lambda: ttnn.full_batch_gd(
                ttnn.AdditiveNetwork.init_paper(d=1, m=2),
                np.ones((3, 1)),
                np.ones(3),
                step_a=1.0,
                step_u=1.0,
                epochs=0,
            ),
            "epochs",
        ),
    ],
)
def test_zero_steps_is_a_steps_problem(call, name: str) -> None:
    msg = _msg(call)
    assert msg.startswith(f"{name} must be >= 1"), msg
    assert "snapshots" not in msg.split("(")[0]


def test_snapshots_out_of_range_still_names_snapshots() -> None:
    assert _msg(lambda: ttnn.sgd(NET, T, h=1e-3, steps=3, snapshots=5)).startswith(
        "snapshots must be in [2, steps + 1] = [2, 4]"
    )
    assert _msg(lambda: ttnn.snapshot_steps(3, 1)).startswith("snapshots must be in")


def test_divergence_message_prints_h_briefly() -> None:
    with pytest.raises(ttnn.DivergenceError) as info:
        ttnn.sgd(NET, T, h=1e300, steps=10, noise=None)
    msg = str(info.value)
    assert "h = 1e+300" in msg, msg
    assert len(msg) < 150, msg
    with pytest.raises(ttnn.DivergenceError) as info:
        ttnn.sgd(NET, T, h=1.0 / 3.0 * 1e200, steps=10, noise=None)
    assert "h = 3.33333e+199" in str(info.value)


@pytest.mark.parametrize(
    "call, exc, text",
    [
        (lambda: ttnn.Network.init(3, 0.01, activation="tanh"), ValueError, "activation must be"),
        (lambda: ttnn.Network.init(3, 0.01, activation=1), TypeError, "activation must be"),
        (lambda: ttnn.two_timescale_limit(NET, T, 0.1, eta=0), TypeError, "eta must be"),
        (
            lambda: ttnn.sgd_ensemble([NET], T, h=1e-3, steps=2, on_error="ignore"),
            ValueError,
            "on_error must be 'raise' or 'record'",
        ),
    ],
)
def test_choices_name_the_argument(call, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=text):
        call()


# A replayed stream


def test_replayed_stream_is_not_copied_not_modified_and_checked_without_warnings():
    # A huge but finite stream sums to inf: the fast finiteness test must fall back
    # quietly to the exact one instead of rejecting it or warning.
    big = np.array([1e308, 1e308, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = check.vector("x", big, copy=False)
    assert out is big
    with pytest.raises(ValueError, match="x must be finite"):
        check.vector("x", np.array([1e308, 1e308, np.nan]), copy=False)
    tgt = ttnn.PiecewiseConstant.paper()
    x = np.random.default_rng(0).random(100)
    y = tgt(x)
    x0, y0 = x.copy(), y.copy()
    ttnn.sgd(ttnn.Network.init(5, 4e-3, seed=0), tgt, h=1e-3, eps=2e-5, data=(x, y))
    assert np.array_equal(x, x0) and np.array_equal(y, y0)
