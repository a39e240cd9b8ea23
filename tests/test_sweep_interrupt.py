"""A sweep killed by a real signal keeps every run stored before it (issue 20).

A child process runs a sweep into a store, locally or on a real
``distributed.LocalCluster`` (worker processes), and prints the runs each store
write holds once the write has returned. SIGINT, SIGTERM or SIGKILL is sent at
a random moment after the first write. Then every run printed before the
signal is in the store, as "ok" and with the bits of an uninterrupted sweep,
and a rerun completes the store to that sweep, running only the missing runs.
The progress test checks the bar's fraction against the steps actually done.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import ttnn
from ttnn._sweep import engine
from ttnn._sweep.engine import run_sweep

xr = pytest.importorskip("xarray")
pytest.importorskip("zarr")

# 8 runs of ~0.1-0.3 s (m = 5): long enough that a signal lands mid-sweep.
GRID = {"eps": [0.25, 0.5, 1.0, 2.0]}
SETTINGS = dict(h=1e-3, steps=800_000, m=5)
REPEATS = 2

CHILD = """
import sys
import ttnn
from ttnn._sweep import store

write = store.Store.write

def reporting(self, indices):
    write(self, indices)
    print("stored", " ".join(",".join(map(str, i)) for i in indices), flush=True)

store.Store.write = reporting
client = None
if sys.argv[2] == "dask":
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
print("start", flush=True)
try:
    ttnn.sweep("sgd", grid=GRID, repeats=REPEATS, store=sys.argv[1], client=client,
               chunk=1, threads=1, **SETTINGS)
except KeyboardInterrupt:
    # The sweep has unwound (store closed, tasks cancelled): leave without the
    # cluster's own shutdown, which is Dask's business, not what is tested here.
    print("interrupted", flush=True)
    import os
    os._exit(130)
print("finished", flush=True)
"""


def _sigint_as_default() -> None:
    """For the child: SIGINT's default action back. A shell's background job
    (``pytest &``) starts with SIGINT ignored, and Python then installs no
    KeyboardInterrupt handler: the signal would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def reference():
    return ttnn.sweep("sgd", grid=GRID, repeats=REPEATS, threads=1, **SETTINGS)


def _child_source() -> str:
    return (
        textwrap.dedent(CHILD)
        .replace("GRID", repr(GRID))
        .replace("REPEATS", str(REPEATS))
        .replace("**SETTINGS", ", ".join(f"{k}={v!r}" for k, v in SETTINGS.items()))
    )


@pytest.mark.parametrize("backend", ["local", "dask"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_killed_sweep_keeps_its_stored_runs_and_resumes_to_the_same_bits(
    tmp_path, reference, backend, sig
):
    path = tmp_path / "runs.zarr"
    proc = subprocess.Popen(
        [sys.executable, "-c", _child_source(), str(path), backend],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # the Dask workers too, to be cleaned up below
        preexec_fn=_sigint_as_default,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("stored"):
                break
        if backend == "dask" and "start\n" not in lines:
            pytest.skip("the LocalCluster did not start (an overloaded machine)")
        time.sleep(random.uniform(0.0, 0.6))
        proc.send_signal(sig)
        try:  # every write reported, before the signal took effect
            out, _ = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the sweep did not stop on signal {sig!r}")
        lines += out.splitlines()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    stored = {
        tuple(map(int, i.split(",")))
        for line in lines
        if line.startswith("stored")
        for i in line.split()[1:]
    }
    kept = xr.open_zarr(path).load()
    ok = {tuple(map(int, i)) for i in np.argwhere(kept.status.values == "ok")}
    assert stored and stored <= ok
    keep = ["status", "l2", "a", "u", "covered", "steps", "seed", "init_seed"]
    for idx in ok:
        cell = dict(zip(("eps", "repeat"), idx, strict=True))
        xr.testing.assert_identical(kept[keep].isel(cell), reference[keep].isel(cell))
    out = run_sweep("sgd", GRID, REPEATS, store=path, threads=1, settings=SETTINGS)
    assert (out.skipped, out.ran) == (len(ok), 8 - len(ok))
    drop = ["wall_time"]
    xr.testing.assert_identical(out.dataset.drop_vars(drop), reference.drop_vars(drop))
    xr.testing.assert_identical(
        xr.open_zarr(path).load().drop_vars(drop), reference.drop_vars(drop)
    )


def test_progress_follows_the_steps_done_not_the_runs(monkeypatch):
    # One run of 8000 steps, then eight of ~1000, one per chunk, in grid order.
    # After the long run half the steps are done but 1 run of 9: a bar counting
    # runs would read 0.11 there.
    steps = [8000, 994, 996, 998, 1000, 1002, 1004, 1006, 1008]
    truth = np.cumsum([0, *steps[:-1]]) / sum(steps)  # fraction done as each run starts
    reported = [0.0]
    seen: list[float] = []
    real = engine.run_chunk

    def spy(kind, payload, *args, **kwargs):
        seen.append(reported[-1])  # what the sweep reports as a run starts
        return real(kind, payload, *args, **kwargs)

    monkeypatch.setattr(engine, "run_chunk", spy)
    ttnn.sweep(
        "sgd",
        grid={"steps": steps},
        h=1e-3,
        m=3,
        chunk=1,
        threads=1,
        progress=lambda done, total: reported.append(done / total),
    )
    assert len(seen) == len(steps)
    assert abs(truth[1] - 0.5) < 1e-3  # half the steps are done after the first run
    assert abs(seen[1] - 0.5) <= 0.1 * 0.5
    np.testing.assert_allclose(seen, truth, atol=1e-12)
    assert reported[-1] == 1.0
