"""The finite-η limit through meetings and hostile values (docs/maths/local_basis.md):
issue 19 item 3 (a meeting neither stops the run nor raises J), issue 23 (a target
near the float64 maximum raises DivergenceError instead of returning ±inf or NaN;
the relu limit stops promptly on Ctrl-C at large m)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

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
    banded KKT solve, O(m), and the limit polls before every right-hand side.
    As in test_interrupt.py, 1 s is behaviour ("it stops"), not speed."""
    script = textwrap.dedent(f"""
        import sys
        import ttnn
        T = ttnn.PiecewiseConstant.paper()
        net = ttnn.Network.init({RELU_M}, 4e-3, seed=0, activation="relu")
        print("ready", flush=True)
        try:
            ttnn.two_timescale_limit(net, T, tau_end=1e3, max_steps=None)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(0)
        print("finished", flush=True)
        """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS="2"),
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.5)  # inside the first dense factorisations
        assert proc.poll() is None, proc.stderr.read()
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().strip()
        stopped = time.monotonic() - sent
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert line == "interrupted", proc.stderr.read()
    assert proc.returncode == 0
    assert stopped < 1.0, f"stopped {stopped:.2f} s after SIGINT"
