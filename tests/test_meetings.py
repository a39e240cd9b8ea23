"""The finite-η limit through meetings and hostile values (docs/maths/local_basis.md):
issue 19 item 3 (a meeting neither stops the run nor raises J), issue 23 (a target
near the float64 maximum raises DivergenceError instead of returning ±inf or NaN;
the relu limit stops promptly on Ctrl-C at large m)."""

import os
import warnings

import numpy as np
import pytest
from _sigint import assert_stops_within_a_second

import ttnn
from ttnn.reference.local_basis import tikhonov


def eight_breaks():
    rng = np.random.default_rng(0)
    return ttnn.PiecewiseConstant(np.linspace(0.1, 0.9, 8), rng.integers(0, 6, 9).astype(float))


def test_m200_eight_breaks_seed_1_completes_without_a_ridge():
    """Issue 19 item 3: this call ran 40 s and raised DivergenceError at tau = 0.13.
    It must complete with J = L + δ‖a‖² non-increasing, and L itself non-increasing
    up to the Tikhonov term's share δ‖a‖²."""
    net = ttnn.Network.init(200, 4e-3, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ttnn.IllConditionedWarning)
        res = ttnn.two_timescale_limit(net, eight_breaks(), tau_end=2.0, snapshots=9)
    assert res.tau[-1] == 2.0
    assert np.all(np.isfinite(res.a)) and np.all(np.isfinite(res.l2))
    lam_a2 = tikhonov(200) * np.sum(res.a**2, axis=1)
    J = res.limit_loss + lam_a2
    slack = 1e-13 * J[:-1] + 1e-15 * np.sum(np.abs(res.a[1:]), axis=1)
    assert np.all(np.diff(J) <= slack)
    assert np.all(np.diff(res.limit_loss) <= lam_a2[:-1] + slack)
    assert res.limit_loss[-1] < 0.1 * res.limit_loss[0]


@pytest.mark.parametrize("value", [1.7e308, 1e300, 1e160])
@pytest.mark.parametrize("act", ["cubic", "relu"])
def test_huge_target_values_raise_divergence_not_inf(value, act):
    """Issue 23: with target values near the float64 maximum the finite-η limit
    returned a = ±inf or NaN. Its loss (or a*) overflows: DivergenceError."""
    tgt = ttnn.PiecewiseConstant([0.5], [value, -value])
    net = ttnn.Network.init(10, 0.05, seed=0, activation=act)
    with pytest.raises(ttnn.DivergenceError, match="not finite"):
        ttnn.two_timescale_limit(net, tgt, tau_end=0.01, snapshots=3)


def test_large_but_representable_target_values_still_work():
    # 1e150: L ~ 1e300 stays finite, so the run completes, and scales exactly like
    # the unit target (a*(u) is linear in f*, u's field quadratic).
    net = ttnn.Network.init(10, 0.05, seed=0)
    tgt = ttnn.PiecewiseConstant([0.5], [1.0, -1.0])
    big = ttnn.PiecewiseConstant([0.5], [1e150, -1e150])
    small = ttnn.two_timescale_limit(net, tgt, tau_end=0.0, snapshots=2)
    large = ttnn.two_timescale_limit(net, big, tau_end=0.0, snapshots=2)
    np.testing.assert_allclose(large.a / 1e150, small.a, rtol=1e-9, atol=1e-12)
    assert np.all(np.isfinite(large.l2))


RELU_M = 1500 if os.environ.get("TTNN_SANITIZED") else 3000


def test_sigint_stops_the_relu_limit_at_large_m():
    """Issue 23: the relu limit at m = 2000 stopped 12–19 s after SIGINT (its O(m³)
    Gram assembly and dense solve could not be interrupted). Its a*(u) is now the
    banded KKT solve, O(m), and the limit polls before every right-hand side."""
    assert_stops_within_a_second(
        f"net = ttnn.Network.init({RELU_M}, 4e-3, seed=0, activation='relu')",
        "ttnn.two_timescale_limit(net, T, tau_end=1e3, max_steps=None)",
        what="relu limit",
    )
