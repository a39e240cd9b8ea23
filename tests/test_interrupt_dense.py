"""Ctrl-C inside the dense steps of the full Rosenbrock method and in shuffle_order
(docs/guide/errors.md), and the interruptible dense LU those steps use.

The SIGINT tests follow tests/test_interrupt.py: a real signal to a subprocess,
which must stop within 1 s (behaviour, not speed: the calls below take minutes
otherwise, one Jacobian or one factorisation alone several seconds).
"""

import os

import numpy as np
import pytest
import scipy.linalg
from _sigint import assert_stops_within_a_second

from ttnn import _core

M = 300 if os.environ.get("TTNN_SANITIZED") else 1500
LONG_CALLS = {
    # A step builds a (2m + 1)² Jacobian from 2m + 1 right-hand sides, then factors it.
    "gradient_flow, rosenbrock": (
        f"net = ttnn.Network.init({M}, 4e-3, seed=0)",
        "ttnn.gradient_flow(net, T, eps=1e-3, t_end=1e6, method='rosenbrock', max_steps=None)",
    ),
    "finite-eta limit, rosenbrock": (
        f"net = ttnn.Network.init({M}, 4e-3, seed=0)",
        "ttnn.two_timescale_limit(net, T, tau_end=1e6, method='rosenbrock', max_steps=None)",
    ),
    # 10⁷ epochs of 10 samples.
    "shuffle_order": ("", "ttnn.shuffle_order(10, 10**8, 0)"),
    # The factorisation alone, ~3 s at n = 5000 on an idle 2-core machine (the flow at m = 2500).
    "dense LU": (
        "from ttnn import _core; a = np.random.default_rng(0).random((5000, 5000))",
        "_core.dense_lu(a, np.ones(5000))",
    ),
}


@pytest.mark.parametrize("case", list(LONG_CALLS))
def test_sigint_stops_the_dense_calls_within_a_second(case):
    # 1.5 s: inside the call (a Jacobian, a factorisation, the epochs).
    assert_stops_within_a_second(*LONG_CALLS[case], what=case)


EPS = np.finfo(float).eps


def _unpack(packed, piv, a):
    """(P a, L, U) from the packed factors and getrf-style interchanges."""
    n = a.shape[0]
    rows = np.arange(n)
    for k, p in enumerate(piv):
        rows[[k, p]] = rows[[p, k]]
    lower = np.tril(packed, -1) + np.eye(n)
    return a[rows], lower, np.triu(packed)


def _ill_conditioned(n, cond, rng):
    q1, _ = np.linalg.qr(rng.standard_normal((n, n)))
    q2, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q1 * np.logspace(0, -np.log10(cond), n)) @ q2


# Sizes around the panel (64) and chunk (256) widths: one panel, a ragged last
# panel, several chunks of the trailing update.
@pytest.mark.parametrize("n", [1, 5, 64, 65, 200, 333])
@pytest.mark.parametrize("kind", ["random", "ill-conditioned"])
def test_dense_lu_is_as_accurate_as_lapack(n, kind):
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n)) if kind == "random" else _ill_conditioned(n, 1e12, rng)
    b = rng.standard_normal(n)
    packed, piv, x = _core.dense_lu(a, b)
    assert all(k <= p < n for k, p in enumerate(piv))
    pa, lower, upper = _unpack(packed, piv, a)
    # Partial pivoting: every multiplier is at most 1 in magnitude.
    assert np.abs(np.tril(packed, -1)).max(initial=0.0) <= 1.0
    # Backward error of the factors, against LAPACK's getrf on the same matrix
    # (the same algorithm: both are O(n·eps·growth), growth ~1 on these).
    lu_ref, piv_ref = scipy.linalg.lu_factor(a)
    # The same pivots as LAPACK's getrf: only the order of the updates differs,
    # which could flip a choice between two candidates equal to rounding, not
    # met on these matrices.
    assert np.array_equal(piv, piv_ref)
    pa_ref, lower_ref, upper_ref = _unpack(lu_ref, piv_ref, a)
    scale = np.abs(a).max()
    back = np.abs(pa - lower @ upper).max() / scale
    back_ref = np.abs(pa_ref - lower_ref @ upper_ref).max() / scale
    assert back <= 10 * max(back_ref, n * EPS)
    # The solve: a backward-stable residual, like NumPy's.
    x_ref = np.linalg.solve(a, b)
    norm_a = np.linalg.norm(a, np.inf)
    res = np.linalg.norm(a @ x - b, np.inf) / (norm_a * np.linalg.norm(x, np.inf))
    res_ref = np.linalg.norm(a @ x_ref - b, np.inf) / (norm_a * np.linalg.norm(x_ref, np.inf))
    assert res <= 10 * max(res_ref, n * EPS)
    # Forward error within cond(a)·n·eps of NumPy's answer.
    cond = np.linalg.cond(a, np.inf)
    assert np.linalg.norm(x - x_ref, np.inf) <= 10 * cond * n * EPS * np.linalg.norm(x_ref, np.inf)


def test_dense_lu_pivots_and_flags_singularity_without_failing():
    # a[0, 0] = 0 needs a row interchange; an exactly singular matrix factors
    # with a zero pivot, and a right-hand side outside its range gives a
    # non-finite solve (the callers check).
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    _, piv, x = _core.dense_lu(a, np.array([1.0, 5.0]))
    assert piv[0] == 1
    assert np.allclose(x, [1.0, 1.0], rtol=0, atol=4 * EPS)
    _, _, x = _core.dense_lu(np.ones((3, 3)), np.array([1.0, 2.0, 3.0]))
    assert not np.isfinite(x).all()


def test_dense_lu_refuses_a_non_square_matrix():
    with pytest.raises(ValueError, match="square"):
        _core.dense_lu(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="b"):
        _core.dense_lu(np.ones((2, 2)), np.ones(3))
