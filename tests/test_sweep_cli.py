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


#: ``ttnn sweep`` whose third ensemble call never ends: it says so with a marker
#: file, then runs its chunk again and again (real work, where Ctrl-C is polled)
#: until the signal lands. The two runs before it are stored by then, so the
#: signal always lands mid-sweep, however loaded the machine, and at once when idle.
HELD = """
import sys
from pathlib import Path

from ttnn._sweep import engine

real, calls = engine.run_chunk, []


def held(kind, payload, *args, **kwargs):
    calls.append(len(payload))
    if len(calls) > 2:
        Path(sys.argv[1]).touch()
        while True:
            real(kind, payload, *args, **kwargs)
    return real(kind, payload, *args, **kwargs)


engine.run_chunk = held
from ttnn.cli import main

sys.exit(main(sys.argv[2:]))
"""


def _sigint_as_default() -> None:
    """For the child: SIGINT's default action back. A shell's background job
    (``pytest &``) starts with SIGINT ignored, and Python then installs no
    KeyboardInterrupt handler: the signal would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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
    marker = tmp_path / "in-flight"
    argv = [str(marker), *_cmd(spec, out)[3:], "--threads", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-c", HELD, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_sigint_as_default,
    )
    # A hang guard only: the held chunk never ends, so no amount of load lets the
    # sweep finish before the signal.
    deadline = time.monotonic() + 600
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), proc.communicate(timeout=60)[1].decode()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=600)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err.decode()
        assert b"interrupted" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    before = xr.open_zarr(out).load()
    done = before.status != "pending"
    assert int(done.sum()) == 2  # the two runs finished before the held one, kept

    rerun = subprocess.run(_cmd(spec, out), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "2 runs skipped" in rerun.stdout and f"{N - 2} run;" in rerun.stdout
    after = xr.open_zarr(out).load()
    # Runs finished before the interrupt were not redone: even their wall times are kept.
    np.testing.assert_array_equal(
        after.wall_time.where(done).values, before.wall_time.where(done).values
    )
    xr.testing.assert_identical(after.drop_vars("wall_time"), uninterrupted.drop_vars("wall_time"))


SMALL = """
kind = "sgd"
repeats = {repeats}
[grid]
eps = [0.1, 1.0]
[settings]
h = 0.001
steps = 300
m = 3
"""


def _sweep(tmp_path, capsys, repeats, *flags):
    from ttnn.cli import main

    spec = tmp_path / f"spec{repeats}.toml"
    spec.write_text(SMALL.format(repeats=repeats))
    code = main(["sweep", str(spec), "--out", str(tmp_path / "s.zarr"), *flags])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_rerun_resumes_or_extends_the_store_and_fresh_starts_again(tmp_path, capsys, monkeypatch):
    from ttnn._sweep import engine

    computed: list[int] = []  # the runs handed to the core, call by call
    real = engine.run_chunk

    def spy(kind, payload, *args, **kwargs):
        computed.append(len(payload))
        return real(kind, payload, *args, **kwargs)

    monkeypatch.setattr(engine, "run_chunk", spy)
    assert _sweep(tmp_path, capsys, 2)[1].startswith("ttnn sweep: 0 runs skipped")
    first = xr.open_zarr(tmp_path / "s.zarr").load()
    assert sum(computed) == 4
    # The same spec again: nothing to run.
    computed.clear()
    assert "4 runs skipped (already in" in _sweep(tmp_path, capsys, 2)[1]
    assert sum(computed) == 0
    # More repeats: the store is extended, only the new runs run.
    code, out, _ = _sweep(tmp_path, capsys, 3)
    assert code == 0 and "4 runs skipped" in out and ", 2 run;" in out
    assert sum(computed) == 2
    grown = xr.open_zarr(tmp_path / "s.zarr").load()
    assert grown.sizes["repeat"] == 3
    xr.testing.assert_identical(grown.wall_time.isel(repeat=[0, 1]), first.wall_time)
    # --fresh: every run again, and the store holds the new sweep only.
    computed.clear()
    code, out, _ = _sweep(tmp_path, capsys, 2, "--fresh")
    assert code == 0 and "0 runs skipped" in out and ", 4 run;" in out
    assert sum(computed) == 4
    again = xr.open_zarr(tmp_path / "s.zarr").load()
    assert again.sizes["repeat"] == 2
    xr.testing.assert_identical(again.drop_vars("wall_time"), first.drop_vars("wall_time"))


def test_a_store_of_another_sweep_is_refused_unless_fresh(tmp_path, capsys):
    _sweep(tmp_path, capsys, 3)
    # Fewer repeats is not an extension: refused in one line that names --fresh.
    code, _, err = _sweep(tmp_path, capsys, 2)
    assert code == 2 and "holds another sweep" in err and "--fresh" in err
    assert err.count("\n") == 1
    code, out, _ = _sweep(tmp_path, capsys, 2, "--fresh")
    assert code == 0 and "0 runs skipped" in out
    assert xr.open_zarr(tmp_path / "s.zarr").sizes["repeat"] == 2


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


def test_a_damaged_store_is_healed_with_one_warning_line(tmp_path, capsys):
    _sweep(tmp_path, capsys, 2)
    clean = xr.open_zarr(tmp_path / "s.zarr").load()
    (tmp_path / "s.zarr" / "status" / "c" / "1").joinpath("0").unlink()  # eps = 1.0
    code, out, err = _sweep(tmp_path, capsys, 2)
    assert code == 0, err
    assert err.strip().splitlines() == [
        f"ttnn sweep: warning: store {str(tmp_path / 's.zarr')!r}: 2 runs were in missing "
        "or corrupt chunks; they are run again"
    ]
    assert "2 runs skipped" in out and "2 run (2 of them again: their chunks were lost);" in out
    healed = xr.open_zarr(tmp_path / "s.zarr").load()
    xr.testing.assert_identical(healed.drop_vars("wall_time"), clean.drop_vars("wall_time"))
