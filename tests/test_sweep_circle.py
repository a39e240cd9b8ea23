"""The "circle" sweep kind: CircleRun's over a grid, stored in zarr, resumed, and
each stored run equal to ``ttnn.circle.train`` of its settings and seeds, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ttnn
from ttnn import circle

pytest.importorskip("xarray")
pytest.importorskip("zarr")

from ttnn._sweep.engine import run_sweep  # noqa: E402

SETTINGS = dict(
    iterations=12,
    N=64,
    particles=48,
    gamma=30.0,
    teacher_seed=5,
    snapshots=4,
    distances=["w1_teacher", "mmd_teacher"],
)
GRID = {"M": [4, 7], "method": ["varpro", "2ts"], "lam": [1e-1, 1e-2]}


def _sweep(store: Path | None, **kw: object):
    return run_sweep("circle", GRID, 2, seed=3, store=store, settings=SETTINGS, **kw)


def test_a_circle_sweep_is_stored_resumed_and_equals_train(tmp_path: Path) -> None:
    xr = pytest.importorskip("xarray")
    store = tmp_path / "circle.zarr"
    first = _sweep(store)
    assert (first.ran, first.skipped) == (16, 0)
    ds = first.dataset
    assert set(ds.status.values.ravel()) == {"ok"}
    assert ds.theta.dims == ("M", "method", "lam", "repeat", "neuron")
    assert ds.J_path.dims == ("M", "method", "lam", "repeat", "snapshot")
    assert "mmd_teacher_path" in ds and "w1_teacher" in ds and "mmd_pde" not in ds
    assert ds.attrs["kind"] == "circle"

    again = _sweep(store)  # resumed: every run is already stored
    assert (again.ran, again.skipped) == (0, 16)
    xr.testing.assert_identical(again.dataset.drop_vars("wall_time"), ds.drop_vars("wall_time"))
    on_disk = xr.open_zarr(store).load()
    np.testing.assert_array_equal(on_disk.theta.values, ds.theta.values)
    # Neither chunking nor threads change a run: one run per call, one thread.
    apart = _sweep(None, chunk=1, threads=1).dataset
    for name in ("theta", "u", "J_path", "mmd_teacher_path", "run_hash"):
        np.testing.assert_array_equal(apart[name].values, ds[name].values)

    teacher = circle.Teacher(gamma=30.0, particles=48, seed=5)
    for m_i, m in enumerate(GRID["M"]):
        for method_i, method in enumerate(GRID["method"]):
            cell = ds.isel(M=m_i, method=method_i, lam=1, repeat=1)
            want = circle.train(
                teacher,
                M=m,
                method=method,
                lam=1e-2,
                iterations=12,
                N=64,
                snapshots=4,
                distances=("mmd_teacher", "w1_teacher"),
                seed=int(cell.seed),
                init_seed=int(cell.init_seed),
            )
            # Bit for bit: the sweep's run is train's, padded with NaN past M.
            np.testing.assert_array_equal(cell.theta.values[:m], want.theta[-1])
            assert np.isnan(cell.theta.values[m:]).all()
            np.testing.assert_array_equal(cell.u.values[:m], want.u[-1])
            np.testing.assert_array_equal(cell.J_path.values, want.J)
            np.testing.assert_array_equal(cell.risk_path.values, want.risk)
            np.testing.assert_array_equal(cell.mmd_teacher_path.values, want.mmd_teacher)
            np.testing.assert_array_equal(cell.w1_teacher_path.values, want.w1_teacher)
            np.testing.assert_array_equal(cell.iteration.values, want.iteration)
            np.testing.assert_array_equal(cell.t.values, want.t)
            assert float(cell.J) == want.J[-1]
            assert int(cell.cg_iterations) == want.cg_iterations


def test_circle_sweep_settings_are_checked_naming_the_key() -> None:
    with pytest.raises(ValueError, match=r"grid\['lam'\] value -1.0 is refused by every run.*lam"):
        ttnn.sweep("circle", grid={"lam": [1e-2, -1.0]}, iterations=2, N=8, particles=8)
    with pytest.raises(ValueError, match="unknown setting 'm'"):
        ttnn.sweep("circle", grid={"m": [4]})
    with pytest.raises(ValueError, match="'distances' cannot be swept"):
        ttnn.sweep("circle", grid={"distances": [["mmd_teacher"]]})
    with pytest.raises(ValueError, match="method must be .varpro. or .2ts., got .sgd."):
        ttnn.sweep("circle", method="sgd", iterations=2, N=8, particles=8)
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        ttnn.sweep("circle", gamma=-1.0, iterations=2, N=8, particles=8)
