"""Ctrl-C, progress and clean unwinding of long runs (docs/guide/errors.md).

Interruption is tested in a subprocess that receives a real SIGINT: every
thread of an ensemble must stop, also when the calling thread has no run left,
and at large m. The bound of 1 s after the signal is behaviour ("it stops"),
not speed: a poll happens every ~50 ms, and the runs take minutes otherwise.
"""

import os

import numpy as np
import pytest
from _sigint import assert_stops_within_a_second

import ttnn

# Each call below takes minutes to hours unless interrupted.
RELU_LIMIT_M = 300 if os.environ.get("TTNN_SANITIZED") else 600
LONG_CALLS = {
    # Thread 0 may take the short run and finish first: it must keep polling.
    "sgd_ensemble, one run short": (
        "nets = [ttnn.Network.init(20, 4e-3, seed=s) for s in (0, 1)]",
        "ttnn.sgd_ensemble(nets, T, h=1e-5, eps=2e-5, steps=[10**6, 10**11], threads=2)",
    ),
    "sgd_ensemble, one run long": (
        "nets = [ttnn.Network.init(20, 4e-3, seed=s) for s in (0, 1)]",
        "ttnn.sgd_ensemble(nets, T, h=1e-5, eps=2e-5, steps=[10**11, 10**6], threads=2)",
    ),
    # More runs than threads; the first is short.
    "sgd_ensemble of 8 runs, one short": (
        "nets = [ttnn.Network.init(20, 4e-3, seed=s) for s in range(8)]",
        "ttnn.sgd_ensemble(nets, T, h=1e-5, eps=2e-5, steps=[10**6] + [10**11] * 7, threads=2)",
    ),
    "full_batch_gd_ensemble, one run short": (
        "rng = np.random.default_rng(0); X = rng.random((2000, 2)); y = X.sum(1)\n"
        "nets = [ttnn.AdditiveNetwork.init_paper(2, 10, 1e-2, seed=s) for s in (0, 1)]",
        "ttnn.full_batch_gd_ensemble(nets, X, y, step_a=1.0, step_u=0.01,"
        " epochs=[10**9, 10], threads=2)",
    ),
    "sgd at m = 1000, eta = 1": (
        "net = ttnn.Network.init(1000, 1.0, seed=0)",
        "ttnn.sgd(net, T, h=1e-6, eps=1e-3, steps=10**12)",
    ),
    "relu sgd at m = 2000": (
        "net = ttnn.Network.init(2000, 4e-3, seed=0, activation='relu')",
        "ttnn.sgd(net, T, h=1e-7, eps=1e-3, steps=10**12)",
    ),
    # Each right-hand side is a dense O(m³) a*(u) (~0.25 s here; m = 300 under
    # the sanitizers' slower Debug build), a step takes six or more of them: the
    # limit must poll inside its steps, not only between.
    "finite-eta limit, relu at large m": (
        f"net = ttnn.Network.init({RELU_LIMIT_M}, 4e-3, seed=0, activation='relu')",
        "ttnn.two_timescale_limit(net, T, tau_end=1e3, max_steps=None)",
    ),
}


@pytest.mark.parametrize("case", list(LONG_CALLS))
def test_sigint_stops_every_long_call_within_a_second(case):
    # 1.5 s: inside the call, the short runs of the ensembles over.
    assert_stops_within_a_second(*LONG_CALLS[case], what=case)


class Stop(Exception):
    pass


def stop_at_first_report(done, total):
    raise Stop


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
@pytest.mark.skipif(
    bool(os.environ.get("TTNN_SANITIZED")),
    reason="under ASan RSS counts its quarantine of freed blocks; the plain build checks this",
)
def test_interrupted_sgd_frees_everything():
    # 10⁴ snapshots at m = 200 hold ~32 MB: 50 interrupted calls that leaked
    # them would grow RSS by over a GB.
    t = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(200, 4e-3, seed=0)

    def interrupted_call():
        with pytest.raises(Stop):
            ttnn.sgd(
                net,
                t,
                h=1e-5,
                eps=2e-5,
                steps=10**12,
                snapshots=10**4,
                progress=stop_at_first_report,
            )

    for _ in range(5):
        interrupted_call()
    before = _rss_bytes()
    for _ in range(50):
        interrupted_call()
    assert _rss_bytes() - before < 5 * 2**20


def test_a_raising_progress_callback_stops_an_ensemble_and_propagates():
    t = ttnn.PiecewiseConstant.paper()
    nets = [ttnn.Network.init(20, 4e-3, seed=s) for s in range(3)]
    with pytest.raises(Stop):
        ttnn.sgd_ensemble(
            nets,
            t,
            h=1e-5,
            eps=2e-5,
            steps=[10**5, 10**12, 10**5],
            threads=2,
            progress=stop_at_first_report,
        )


def _inputs():
    """A target, three networks, a GD batch and three additive networks."""
    t = ttnn.PiecewiseConstant.paper()
    nets = [ttnn.Network.init(20, 4e-3, seed=s) for s in range(3)]
    rng = np.random.default_rng(0)
    X = rng.random((500, 2))
    anets = [ttnn.AdditiveNetwork.init_paper(2, 10, 1e-2, seed=s) for s in range(3)]
    return t, nets, X, np.sin(3 * X).sum(1), anets


def _calls():
    t, nets, X, y, anets = _inputs()
    return {
        "sgd": (
            lambda p: ttnn.sgd(nets[0], t, h=1e-3, eps=1.0, steps=3 * 10**6, progress=p),
            3 * 10**6,
        ),
        "sgd_ensemble": (
            lambda p: ttnn.sgd_ensemble(
                nets, t, h=1e-3, steps=[10**6, 2 * 10**6, 3], snapshots=3, threads=2, progress=p
            ),
            3 * 10**6 + 3,
        ),
        "full_batch_gd": (
            lambda p: ttnn.full_batch_gd(
                anets[0], X, y, step_a=1.0, step_u=1.0, epochs=4000, progress=p
            ),
            4000,
        ),
        "full_batch_gd_ensemble": (
            lambda p: ttnn.full_batch_gd_ensemble(
                anets, X, y, step_a=1.0, step_u=1.0, epochs=[3000, 10, 2000], threads=2, progress=p
            ),
            5010,
        ),
    }


@pytest.mark.parametrize("name", ["sgd", "sgd_ensemble", "full_batch_gd", "full_batch_gd_ensemble"])
def test_progress_is_monotone_and_ends_at_the_total(name):
    call, total = _calls()[name]
    seen = []
    call(lambda done, tot: seen.append((done, tot)))
    assert seen, "progress was never called"
    assert all(tot == total for _, tot in seen)
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and all(0 <= d <= total for d in dones)
    assert dones[-1] == total


def test_progress_true_shows_a_bar_on_stderr_and_false_is_quiet(capsys):
    t = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(20, 4e-3, seed=0)
    a = ttnn.sgd(net, t, h=1e-3, steps=10**5, progress=True)
    err = capsys.readouterr().err
    assert "sgd" in err
    b = ttnn.sgd(net, t, h=1e-3, steps=10**5)
    assert capsys.readouterr() == ("", "")
    assert np.array_equal(a.a, b.a)


@pytest.mark.parametrize("bad", ["yes", 1.5, object()])
def test_progress_must_be_a_bool_or_a_callable(bad):
    t = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(5, 4e-3, seed=0)
    with pytest.raises(TypeError, match="progress"):
        ttnn.sgd(net, t, h=1e-3, steps=10, progress=bad)


def test_full_batch_gd_runs_up_to_the_largest_epoch_count():
    # 2**63 − 1 epochs: no overflow in the schedule or the progress total; the
    # run is stopped by its first progress report.
    rng = np.random.default_rng(0)
    X = rng.random((50, 2))
    net = ttnn.AdditiveNetwork.init_paper(2, 5, 1e-2, seed=0)
    totals = []

    def stop(done, total):
        totals.append(total)
        raise Stop

    with pytest.raises(Stop):
        ttnn.full_batch_gd(
            net, X, X.sum(1), step_a=0.1, step_u=0.1, epochs=2**63 - 1, progress=stop
        )
    assert totals == [2**63 - 1]
    with pytest.raises(ValueError, match="epochs"):
        ttnn.full_batch_gd(net, X, X.sum(1), step_a=0.1, step_u=0.1, epochs=2**63)


def _long_calls():
    # Long enough (~0.3 s of CPU each on the dev machine) that the core's ~50 ms
    # reports must fall within the run, whatever the machine's load.
    t, nets, X, y, anets = _inputs()
    gd = dict(step_a=1.0, step_u=1.0)
    return {
        "sgd": lambda p: ttnn.sgd(nets[0], t, h=1e-3, steps=6 * 10**6, progress=p),
        "sgd_ensemble": lambda p: ttnn.sgd_ensemble(
            nets, t, h=1e-3, steps=2 * 10**6, threads=2, progress=p
        ),
        "full_batch_gd": lambda p: ttnn.full_batch_gd(
            anets[0], X, y, epochs=40_000, progress=p, **gd
        ),
        "full_batch_gd_ensemble": lambda p: ttnn.full_batch_gd_ensemble(
            anets, X, y, epochs=15_000, threads=2, progress=p, **gd
        ),
    }


@pytest.mark.parametrize("name", ["sgd", "sgd_ensemble", "full_batch_gd", "full_batch_gd_ensemble"])
def test_progress_moves_while_a_run_goes_on(name):
    # Not only 0 and done: a bar fed by these reports moves during the run.
    seen = []
    _long_calls()[name](lambda done, total: seen.append((done, total)))
    total = seen[-1][1]
    assert seen[-1][0] == total
    inside = [d for d, _ in seen if 0 < d < total]
    assert inside, seen
