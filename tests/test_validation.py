"""Every bad input of DESIGN.md §6 raises ValueError/TypeError naming the argument."""

import numpy as np
import pytest

import ttnn

T = ttnn.PiecewiseConstant.paper()
NET = ttnn.Network.init(5, 0.01, seed=0)
X = np.linspace(0.1, 0.9, 10)


def sgd(**kw):
    args = dict(h=1e-3, eps=1.0, steps=10, snapshots=2)
    args.update(kw)
    return ttnn.sgd(NET, T, **args)


CASES = [
    # (callable, exception, argument named in the message)
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
    (lambda: ttnn.l2_error(NET, None), TypeError, "target"),
    (lambda: ttnn.l2_error("net", T), TypeError, "net"),
    (lambda: sgd(h=0.0), ValueError, "h"),
    (lambda: sgd(h=-1e-3), ValueError, "h"),
    (lambda: sgd(h=np.inf), ValueError, "h"),
    (lambda: sgd(eps=-1.0), ValueError, "eps"),
    (lambda: sgd(eps=np.nan), ValueError, "eps"),
    (lambda: sgd(steps=-1), ValueError, "steps"),
    (lambda: sgd(steps=1.5), TypeError, "steps"),
    (lambda: sgd(snapshots=1), ValueError, "snapshots"),
    (lambda: sgd(snapshots=12), ValueError, "snapshots"),
    (lambda: sgd(noise="uniform"), TypeError, "noise"),
    (lambda: sgd(noise=ttnn.UniformNoise(-1.0)), ValueError, "r"),
    (lambda: sgd(noise=ttnn.GaussianNoise(np.nan)), ValueError, "s"),
    (lambda: sgd(seed=-3), ValueError, "seed"),
    (lambda: ttnn.sgd(NET, h=1e-3, steps=10), ValueError, "target"),
    (lambda: ttnn.sgd(NET, T, h=1e-3), TypeError, "steps"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=(X, X[:-1])), ValueError, "data"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=(X, X), steps=11), ValueError, "steps"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=(X, np.full(10, np.nan))), ValueError, "data y"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=X), TypeError, "data"),
    (lambda: ttnn.sgd(NET, h=1e-3, data=(X, X), snapshots=12), ValueError, "snapshots"),
    (lambda: ttnn.sgd("net", T, h=1e-3, steps=10), TypeError, "net"),
]


@pytest.mark.parametrize(("call", "exc", "name"), CASES)
def test_bad_input_is_rejected_naming_the_argument(call, exc, name):
    with pytest.raises(exc) as info:
        call()
    assert name in str(info.value)


def test_replayed_stream_is_not_copied_not_modified_and_checked_without_warnings():
    # A huge but finite stream sums to inf: the fast finiteness test must fall back
    # quietly to the exact one instead of rejecting it or warning.
    import warnings

    from ttnn import _validate as check

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
