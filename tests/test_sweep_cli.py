"""`ttnn sweep SPEC.toml --out runs.zarr`: Ctrl-C (or kill -9) keeps the finished runs,
a rerun resumes without redoing them and ends with the data of an uninterrupted sweep."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import ttnn

xr = pytest.importorskip("xarray")
zarr = pytest.importorskip("zarr")

SPEC = """
kind = "sgd"
repeats = 4
seed = 3
[grid]
eps = [0.01, 0.1, 1.0]
m = [5, 8]
[settings]
eta = 0.004
h = 0.001
steps = 500000
"""
N = 24


def _cmd(spec, out):
    return [sys.executable, "-m", "ttnn", "sweep", str(spec), "--out", str(out), "--chunk", "1"]


def _finished(path) -> int:
    try:
        st = zarr.open_group(str(path), mode="r")["status"][...]
    except Exception:  # not created yet
        return 0
    return int((st != "pending").sum())


@pytest.fixture(scope="module")
def uninterrupted():
    return ttnn.sweep(
        "sgd",
        grid={"eps": [0.01, 0.1, 1.0], "m": [5, 8]},
        repeats=4,
        seed=3,
        eta=0.004,
        h=0.001,
        steps=500000,
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupt_and_resume(tmp_path, uninterrupted, sig):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    out = tmp_path / "runs.zarr"
    proc = subprocess.Popen(
        [*_cmd(spec, out), "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while _finished(out) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err.decode()
        assert b"interrupted" in err
    else:  # killed at an arbitrary point, possibly in the middle of writing a chunk
        assert proc.returncode == -signal.SIGKILL
    before = xr.open_zarr(out).load()
    done = before.status != "pending"
    n_done = int(done.sum())
    assert 2 <= n_done < N  # interrupted mid-sweep, finished runs kept

    rerun = subprocess.run(_cmd(spec, out), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{n_done} runs skipped" in rerun.stdout and f"{N - n_done} run;" in rerun.stdout
    after = xr.open_zarr(out).load()
    # Runs finished before the interrupt were not redone: even their wall times are kept.
    np.testing.assert_array_equal(
        after.wall_time.where(done).values, before.wall_time.where(done).values
    )
    xr.testing.assert_identical(after.drop_vars("wall_time"), uninterrupted.drop_vars("wall_time"))


def test_bad_spec_file(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('kind = "sgd"\nrepeats = 1\nbogus = 2\n')
    r = subprocess.run(_cmd(spec, tmp_path / "o.zarr"), capture_output=True, text=True)
    assert r.returncode == 2 and "'bogus'" in r.stderr
    spec.write_text(
        'kind = "sgd"\nrepeats = 1\n[grid]\neps = []\n[settings]\nh = 1e-3\nsteps = 5\n'
    )
    r = subprocess.run(_cmd(spec, tmp_path / "o.zarr"), capture_output=True, text=True)
    assert r.returncode == 2 and "grid['eps'] is empty" in r.stderr
