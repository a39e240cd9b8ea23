"""Hostile grids, damaged stores, stores that grow, concurrent starts (issue 20).

Every bad value is refused before anything runs or is written; a store with a
missing or corrupt chunk has those runs run again, to the bits of a clean
sweep; a store extended by repeats or grid values runs only the new runs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ttnn
from ttnn._sweep import engine
from ttnn._sweep.engine import run_sweep
from ttnn._sweep.store import SpecMismatch, StoreDamaged

xr = pytest.importorskip("xarray")
zarr = pytest.importorskip("zarr")

KW = dict(h=1e-3, steps=300, m=3)
GRID = {"eps": [0.1, 1.0]}


def _same(a, b) -> None:
    xr.testing.assert_identical(a.drop_vars("wall_time"), b.drop_vars("wall_time"))


@pytest.fixture
def counted(monkeypatch):
    """The runs actually computed (the payloads handed to run_chunk)."""
    seen: list[int] = []
    real = engine.run_chunk

    def spy(kind, payload, *args, **kwargs):
        seen.append(len(payload))
        return real(kind, payload, *args, **kwargs)

    monkeypatch.setattr(engine, "run_chunk", spy)
    return seen


@pytest.mark.parametrize(
    ("kind", "kw", "match"),
    [
        ("sgd", dict(grid={"activation": ["cubic", "relu6"]}, **KW), r"activation.*relu6"),
        ("sgd", dict(activation="relu6", **KW), r"activation.*relu6"),
        ("sgd", dict(grid={"m": [20, 10**10]}, h=1e-3, steps=10), r"'m'.*10000000000"),
        ("sgd", dict(grid={"tau": [0.035, 1e20]}, h=1e-3, m=3), r"'tau'.*1e\+20"),
        ("sgd", dict(snapshots=10**9, h=1e-3, steps=10**10, m=3), "snapshots"),
        ("sgd", dict(repeats=10**9, **KW), "repeats"),
        ("flow", dict(grid={"tau": [0.01, 1e20]}, m=3), r"'tau'.*1e\+20"),
        ("gd", dict(grid={"n": [10, 10**12]}, epochs=2, m=2), r"'n'.*1000000000000"),
        ("gd", dict(d=10**11, epochs=2, m=2), r"\bd = 100000000000"),
        ("limit", dict(grid={"method": ["rosenbrock_w"]}, tau=0.01, m=3), "method"),
    ],
)
def test_a_value_no_run_takes_is_named_before_anything_is_written(
    tmp_path, counted, kind, kw, match
):
    kw = dict(kw)
    repeats = kw.pop("repeats", 1)
    path = tmp_path / "runs.zarr"
    with pytest.raises(ValueError, match=match):
        ttnn.sweep(kind, store=path, repeats=repeats, **kw)
    assert counted == [] and not path.exists()


def test_steps_can_be_swept(tmp_path):
    ds = ttnn.sweep(
        "sgd", grid={"steps": [100, 200]}, h=1e-3, m=3, snapshots=3, store=tmp_path / "s"
    )
    assert ds.steps.values.tolist() == [100, 200] and "steps" in ds.coords
    assert (ds.status == "ok").all()
    # The slow-time coordinate along the path: tau = eps h step.
    np.testing.assert_array_equal(ds.tau.values, 1.0 * 1e-3 * ds.step.values)
    assert ds.step.sel(steps=200).values.ravel().tolist() == [0, 100, 200]
    _same(xr.open_zarr(tmp_path / "s").load(), ds)


def _store(tmp_path: Path, **kw) -> tuple[Path, object]:
    path = tmp_path / "runs.zarr"
    ds = ttnn.sweep("sgd", grid=GRID, repeats=2, store=path, **KW, **kw)
    return path, ds


@pytest.mark.parametrize(
    "damage", ["delete l2", "delete status", "corrupt a", "corrupt status", "zero u"]
)
def test_a_damaged_chunk_is_run_again(tmp_path, counted, damage):
    path, ds = _store(tmp_path)
    what, name = damage.split()
    chunk = path / name / "c" / "1" / "0"
    if name in ("a", "u"):
        chunk = chunk / "0"  # trailing dimension
    assert chunk.is_file()
    if what == "delete":
        chunk.unlink()
    elif what == "corrupt":
        raw = bytearray(chunk.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        chunk.write_bytes(bytes(raw))
    else:
        chunk.write_bytes(bytes(len(chunk.read_bytes())))
    counted.clear()
    with pytest.warns(UserWarning, match="2 runs were in missing or corrupt chunks"):
        out = run_sweep("sgd", GRID, 2, store=path, settings=KW)
    assert (out.damaged, out.skipped, out.ran) == (2, 2, 2)
    assert sum(counted) == 2  # the two runs of the damaged cell, and only them
    _same(out.dataset, ds)
    _same(xr.open_zarr(path).load(), ds)


def test_a_store_with_unreadable_metadata_is_refused_in_one_line(tmp_path):
    path, _ = _store(tmp_path)
    (path / "zarr.json").write_text("{ not json")
    with pytest.raises(StoreDamaged, match="damaged") as err:
        ttnn.sweep("sgd", grid=GRID, repeats=2, store=path, **KW)
    assert "\n" not in str(err.value)


def test_a_store_grows_by_repeats_and_grid_values(tmp_path, counted):
    path, _ = _store(tmp_path)
    counted.clear()
    more = run_sweep("sgd", GRID, 3, store=path, settings=KW)
    assert (more.reused, more.ran, sum(counted)) == (4, 2, 2)
    wider = {"eps": [0.1, 0.3, 1.0]}
    counted.clear()
    out = run_sweep("sgd", wider, 3, store=path, settings=KW)
    assert (out.reused, out.ran, sum(counted)) == (6, 3, 3)
    # The same as one sweep of the whole study, in memory and in the store.
    whole = ttnn.sweep("sgd", grid=wider, repeats=3, **KW)
    _same(out.dataset, whole)
    _same(xr.open_zarr(path).load(), whole)
    # A sweep that would drop stored runs, or another study, is refused; fresh restarts.
    with pytest.raises(SpecMismatch, match="grows only"):
        ttnn.sweep("sgd", grid=GRID, repeats=3, store=path, **KW)
    with pytest.raises(SpecMismatch, match="settings.steps"):
        ttnn.sweep("sgd", grid=wider, repeats=3, store=path, **{**KW, "steps": 301})
    counted.clear()
    ds = ttnn.sweep("sgd", grid=GRID, repeats=1, store=path, fresh=True, **KW)
    assert sum(counted) == 2 and ds.sizes["repeat"] == 1


def test_temporary_directories_of_a_killed_creation_are_removed(tmp_path):
    leftover = tmp_path / ".runs.zarr.0123abcd.tmp"
    (leftover / "l2").mkdir(parents=True)
    path, _ = _store(tmp_path)
    assert not leftover.exists() and path.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.zarr"]  # no lock file left


CHILD = """
import sys, ttnn
ttnn.sweep("sgd", grid={"eps": [0.1, 1.0]}, repeats=3, h=1e-3, steps=20000, m=3,
           store=sys.argv[1], threads=1)
print("done")
"""


def test_two_sweeps_started_together_on_one_new_store_both_succeed(tmp_path):
    path = tmp_path / "runs.zarr"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(CHILD), str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0 and out.strip() == "done", err
    ref = ttnn.sweep(
        "sgd", grid={"eps": [0.1, 1.0]}, repeats=3, h=1e-3, steps=20000, m=3, threads=1
    )
    _same(xr.open_zarr(path).load(), ref)


def test_reading_a_damaged_store_never_shows_its_lost_runs_as_ok(tmp_path):
    # What ttnn plot reads (store.read): a deleted l2 chunk makes its cell's runs
    # "pending", where xarray.open_zarr shows them "ok" with NaN l2.
    from ttnn._sweep.store import read

    path, ds = _store(tmp_path)
    clean, damaged = read(path)
    assert damaged == 0
    _same(clean, ds)
    (path / "l2" / "c" / "1" / "0").unlink()
    assert (xr.open_zarr(path).status.values == "ok").all()  # the trap
    got, damaged = read(path)
    assert damaged == 2
    assert got.status.values.tolist() == [["ok", "ok"], ["pending", "pending"]]
    assert np.isnan(got.l2.isel(eps=1)).all() and np.isnan(got.u.isel(eps=1)).all()
    _same(got.isel(eps=0), ds.isel(eps=0))


@pytest.mark.parametrize("kind", ["limit", "sgd"])
def test_tau_can_be_swept_with_paths(kind):
    # tau names the grid dimension; the slow time along the path is then tau_path
    # (the limit's own time axis clashed with it before).
    extra = dict(h=1e-3, snapshots=3) if kind == "sgd" else dict(snapshots=5)
    ds = ttnn.sweep(kind, grid={"tau": [0.01, 0.02]}, m=4, eta=0.05, **extra)
    assert ds.attrs["slow_time"] == "tau_path" and (ds.status == "ok").all()
    # The path ends at the run's length in slow time.
    end = ds.tau_path.isel(snapshot=-1).isel(repeat=0).values
    np.testing.assert_allclose(end, [0.01, 0.02], rtol=1e-12)
