"""ttnn.sweep on a real Dask cluster (worker processes) equals the local sweep."""

from __future__ import annotations

import pytest

import ttnn

xr = pytest.importorskip("xarray")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    # Started once per module: a cluster of worker processes costs seconds.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.mark.parametrize(
    ("kind", "kw"),
    [
        ("sgd", dict(grid={"eps": [1e-2, 1.0], "h": [1e-3, 50.0]}, steps=800, m=4, snapshots=3)),
        ("flow", dict(grid={"m": [3, 5]}, tau=0.02, eps=0.5)),
        ("gd", dict(grid={"step_u": [0.01, 1.0]}, epochs=20, n=60, m=3)),
        ("limit", dict(grid={"m": [4, 8]}, tau=0.02, eta=0.05)),
    ],
)
def test_dask_equals_local(client, kind, kw):
    local = ttnn.sweep(kind, repeats=3, seed=4, threads=1, **kw)
    remote = ttnn.sweep(kind, repeats=3, seed=4, client=client, chunk=2, **kw)
    xr.testing.assert_identical(remote.drop_vars("wall_time"), local.drop_vars("wall_time"))
    if kind == "sgd":  # the diverging cell is recorded there too
        assert (remote.status.sel(h=50.0) == "diverged").all()


def test_dask_store(client, tmp_path):
    path = tmp_path / "runs.zarr"
    kw = dict(grid={"eps": [0.1, 1.0]}, repeats=2, h=1e-3, steps=300, m=3)
    ds = ttnn.sweep("sgd", client=client, chunk=1, store=path, **kw)
    xr.testing.assert_identical(xr.open_zarr(path).load(), ds)


def test_dask_progress_moves_as_chunks_complete(client):
    # Four runs of equal length, one per task: a quarter of the work each.
    calls: list[float] = []
    ttnn.sweep(
        "sgd",
        grid={"eps": [0.1, 1.0]},
        repeats=2,
        h=1e-3,
        steps=300,
        m=3,
        client=client,
        chunk=1,
        progress=lambda done, total: calls.append(done / total),
    )
    assert calls == [0.25, 0.5, 0.75, 1.0]
