"""ttnn.sweep (local backend): every run equals the direct call with its stored seeds,
bit for bit; threads and chunking change nothing; failures are recorded; bad specs are
refused naming the key; the zarr store round-trips and resumes."""

from __future__ import annotations

import hashlib
import inspect
import json
import re

import numpy as np
import pytest

import ttnn

xr = pytest.importorskip("xarray")
pytest.importorskip("zarr")

TARGET = ttnn.PiecewiseConstant.paper()
ETA = 4e-3


def _runs(ds):
    """(grid coordinates dict, repeat, the run's Dataset) for every run."""
    keys = [d for d in ds.l2.dims]
    for idx in np.ndindex(*ds.l2.shape):
        sel = dict(zip(keys, idx, strict=True))
        run = ds.isel(sel)
        yield {k: run[k].item() for k in keys[:-1]}, sel["repeat"], run


def _m(run) -> int:
    return int(np.isfinite(run.u.values).sum())


def _same(x, y) -> None:
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _drop_time(ds):
    return ds.drop_vars("wall_time")


#: The sgd sweep most tests here look at (2 x 2 cells, 2 repeats).
SGD_SWEEP = dict(
    grid={"eps": [1e-2, 1.0], "m": [3, 6]},
    repeats=2,
    seed=5,
    h=1e-3,
    tau=2e-2,
    eta=ETA,
    snapshots=3,
)


@pytest.fixture(scope="module")
def sgd_sweep():
    return ttnn.sweep("sgd", threads=1, **SGD_SWEEP)


def test_sgd_runs_equal_direct_calls(sgd_sweep):
    ds = sgd_sweep
    assert set(ds.status.values.ravel()) == {"ok"}
    for coords, _r, run in _runs(ds):
        m = coords["m"]
        net = ttnn.Network.init(m, ETA, seed=int(run.init_seed))
        steps = int(round(2e-2 / (coords["eps"] * 1e-3)))
        assert int(run.steps) == steps
        res = ttnn.sgd(
            net, TARGET, h=1e-3, eps=coords["eps"], steps=steps, seed=int(run.seed), snapshots=3
        )
        _same(run.u.values[:m], res.u[-1])
        assert np.isnan(run.u.values[m:]).all()  # ragged m: NaN padding
        _same(run.a.values[: m + 1], res.a[-1])
        assert run.l2.item() == res.l2[-1]
        _same(run.l2_path.values, res.l2)
        _same(run.step.values, res.steps)
        _same(run.covered.values, ttnn.breaks_covered(res.u[-1], TARGET, tol=2 * ETA))
        assert bool(run.all_covered) == bool(run.covered.values.all())
        assert int(run.n_outside) == int(ttnn.neurons_outside(res.u[-1]).sum())
        assert int(run.diverged_step) == -1 and str(run.message.item()) == ""


def test_flow_runs_equal_direct_calls():
    ds = ttnn.sweep("flow", grid={"eps": [0.1, 1.0]}, repeats=2, tau=0.05, m=5, eta=0.05)
    assert set(ds.status.values.ravel()) == {"ok"}
    for coords, _r, run in _runs(ds):
        net = ttnn.Network.init(5, 0.05, seed=int(run.init_seed))
        # The sweep's defaults for the flow: method "auto", 100 snapshots.
        res = ttnn.gradient_flow(
            net, TARGET, coords["eps"], 0.05 / coords["eps"], snapshots=100, method="auto"
        )
        _same(run.u.values, res.u[-1])
        _same(run.tau.values, coords["eps"] * res.t)  # slow time along the path
        _same(run.a.values, res.a[-1])
        assert run.l2.item() == res.l2[-1]


@pytest.mark.parametrize("kind", ["flow", "limit"])
def test_a_run_past_max_steps_is_recorded_and_the_others_complete(kind):
    length = {"flow": "t_end", "limit": "tau_end"}[kind]
    time_name = {"flow": "t", "limit": "tau"}[kind]
    extra = {"eps": 1.0} if kind == "flow" else {}
    ds = ttnn.sweep(
        kind, grid={length: [1e-4, 50.0]}, m=5, eta=0.05, max_steps=40, snapshots=2, **extra
    )
    short, long = (ds.sel({length: v}).isel(repeat=0) for v in (1e-4, 50.0))
    assert str(short.status.item()) == "ok"
    assert str(long.status.item()) == "step_limit"
    assert f"reached {time_name} = " in str(long.message.item())
    with pytest.raises(ttnn.StepLimitError):
        net = ttnn.Network.init(5, 0.05, seed=int(long.init_seed))
        if kind == "flow":
            ttnn.gradient_flow(net, TARGET, 1.0, 50.0, max_steps=40)
        else:
            ttnn.two_timescale_limit(net, TARGET, 50.0, max_steps=40)


def test_integrators_are_bounded_by_default():
    # A run that can never finish must stop on its own: the default is finite,
    # and a sweep that does not set max_steps gets the same bound.
    for fn in (ttnn.gradient_flow, ttnn.two_timescale_limit):
        default = inspect.signature(fn).parameters["max_steps"].default
        assert isinstance(default, int) and 0 < default <= 10**7
    ds = ttnn.sweep("flow", grid={"eps": [1.0]}, m=3, eta=0.05, t_end=0.01)
    assert "max_steps" not in ds.attrs["settings"]  # old stores keep their hashes


def test_flow_and_limit_methods_reach_the_runs():
    # Each run equals the direct call with the same method, bit for bit.
    kw = dict(m=5, eta=0.05, snapshots=2)
    flow = ttnn.sweep("flow", grid={"method": ["rosenbrock", "auto"]}, t_end=2.0, **kw)
    limit = ttnn.sweep("limit", grid={"method": ["rk45", "auto"]}, tau_end=0.05, **kw)
    for ds, kind in ((flow, "flow"), (limit, "limit")):
        assert set(ds.status.values.ravel()) == {"ok"}
        for coords, _r, run in _runs(ds):
            net = ttnn.Network.init(5, 0.05, seed=int(run.init_seed))
            if kind == "flow":
                res = ttnn.gradient_flow(net, TARGET, 1.0, 2.0, snapshots=2, **coords)
            else:
                res = ttnn.two_timescale_limit(net, TARGET, 0.05, snapshots=2, **coords)
            _same(run.u.values, res.u[-1])
            _same(run.a.values, res.a[-1])
    # A method no run accepts is an error naming it, before anything runs.
    with pytest.raises(ValueError, match="method.*rosenbrock_w"):
        ttnn.sweep("limit", grid={"method": ["rosenbrock_w"]}, m=3, eta=0.05, tau_end=0.01)


def test_limit_runs_equal_direct_calls():
    ds = ttnn.sweep("limit", grid={"m": [4, 8]}, repeats=2, tau=0.02, eta=0.05)
    assert set(ds.status.values.ravel()) == {"ok"}
    for coords, _r, run in _runs(ds):
        m = coords["m"]
        net = ttnn.Network.init(m, 0.05, seed=int(run.init_seed))
        # The sweep's defaults for the limit: method "auto", 100 snapshots.
        res = ttnn.two_timescale_limit(net, TARGET, 0.02, snapshots=100, method="auto")
        _same(run.u.values[:m], res.u[-1])
        _same(run.a.values[: m + 1], res.a[-1])
        assert run.l2.item() == res.l2[-1]
        _same(run.tau.values, res.tau)  # the path's slow time


def test_gd_runs_equal_direct_calls():
    ds = ttnn.sweep("gd", grid={"step_u": [0.01, 1.0]}, repeats=2, epochs=30, n=100, d=2, m=4)
    assert set(ds.status.values.ravel()) == {"ok"}
    for coords, _r, run in _runs(ds):
        net = ttnn.AdditiveNetwork.init_paper(2, 4, 1e-2, seed=int(run.init_seed))
        X = np.random.default_rng(int(run.seed)).random((100, 2))
        y = (X[:, :, None] > np.array([0.3, 0.5, 0.7])).sum(axis=(1, 2)).astype(float)
        res = ttnn.full_batch_gd(net, X, y, step_a=1.0, step_u=coords["step_u"], epochs=30)
        _same(run.u.values, res.u[-1].ravel())
        _same(run.a.values, res.a[-1].ravel())
        assert run.l2.item() == res.criterion[-1]


def test_threads_and_chunks_change_nothing(sgd_sweep):
    ref = _drop_time(sgd_sweep)
    xr.testing.assert_identical(_drop_time(ttnn.sweep("sgd", threads=2, **SGD_SWEEP)), ref)
    for chunk in (1, 3, 100):
        xr.testing.assert_identical(_drop_time(ttnn.sweep("sgd", chunk=chunk, **SGD_SWEEP)), ref)


def test_seed_rule_is_the_documented_hash():
    ds = ttnn.sweep("sgd", grid={"eps": [0.1, 1.0]}, repeats=3, seed=11, h=1e-3, steps=10, m=2)
    for _coords, r, run in _runs(ds):
        key = json.dumps({"repeat": r, "sweep_seed": 11}, sort_keys=True, separators=(",", ":"))
        d = hashlib.blake2b(key.encode(), digest_size=16).digest()
        assert int(run.init_seed) == int.from_bytes(d[:8], "little")
        assert int(run.seed) == int.from_bytes(d[8:], "little")
    # Paired: every cell of a repeat shares its draws; repeats differ.
    assert (ds.init_seed.isel(eps=0) == ds.init_seed.isel(eps=1)).all()
    assert len(set(ds.seed.isel(eps=0).values.tolist())) == 3
    unpaired = ttnn.sweep(
        "sgd", grid={"eps": [0.1, 1.0]}, repeats=3, seed=11, h=1e-3, steps=10, m=2, paired=False
    )
    assert not (unpaired.seed.isel(eps=0) == unpaired.seed.isel(eps=1)).any()


def test_diverging_and_refused_runs_are_recorded():
    ds = ttnn.sweep("sgd", grid={"h": [1e-3, 50.0]}, repeats=2, steps=2000, m=4, threads=2)
    ok, bad = ds.sel(h=1e-3), ds.sel(h=50.0)
    assert (ok.status == "ok").all() and np.isfinite(ok.l2).all()
    assert (bad.status == "diverged").all()
    assert (bad.diverged_step > 0).all() and np.isnan(bad.l2).all()
    assert all("diverged" in str(s) for s in bad.message.values)
    # The eta -> 0 limit needs 2 neurons per piece: m = 2 is refused, m = 100 runs.
    lim = ttnn.sweep("limit", grid={"m": [2, 100]}, repeats=1, tau=0.01, limit="zero")
    assert lim.status.sel(m=2).item() == "refused"
    assert "at least 2 per piece" in str(lim.message.sel(m=2).item())
    assert lim.status.sel(m=100).item() == "ok"


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(kind="sgd", grid={"epz": [1.0]}), ValueError, "'epz'"),
        (dict(kind="sgd", grid={}, bogus=1), ValueError, "'bogus'"),
        (dict(kind="sgd", grid={"eps": []}), ValueError, r"grid\['eps'\] is empty"),
        (dict(kind="sgd", grid={"eps": [1.0]}, repeats=-1), ValueError, "repeats"),
        (dict(kind="sgd", grid={"eps": [1.0]}, eps=0.1), ValueError, "'eps' is both"),
        (dict(kind="sgdd", grid={}), ValueError, "kind"),
        (dict(kind="sgd", grid={"eps": ["a"]}), TypeError, "eps"),
        (dict(kind="sgd", grid={"m": [2.5]}), TypeError, "m"),
        (dict(kind="sgd", grid={"eps": 0.1}), TypeError, r"grid\['eps'\]"),
        (dict(kind="sgd", grid={"target": ["paper"]}), ValueError, "'target' cannot"),
    ],
)
def test_bad_specs_name_the_key(kwargs, exc, match):
    base = dict(repeats=1, h=1e-3, steps=10)
    base.update(kwargs)
    kind = base.pop("kind")
    with pytest.raises(exc, match=match):
        ttnn.sweep(kind, **base)


def test_length_must_be_given_once():
    with pytest.raises(ValueError, match="exactly one of 'steps', 'tau'"):
        ttnn.sweep("sgd", repeats=1, h=1e-3)
    with pytest.raises(ValueError, match="exactly one of 'steps', 'tau'"):
        ttnn.sweep("sgd", repeats=1, h=1e-3, steps=10, tau=0.1)
    with pytest.raises(ValueError, match="'h' is required"):
        ttnn.sweep("sgd", repeats=1, steps=10)


def test_missing_extra_says_what_to_install():
    from ttnn._sweep.dataset import require

    with pytest.raises(ImportError, match=r"pip install \"\.\[sweep\]\""):
        require("ttnn_no_such_module")


def test_store_round_trip_and_resume(tmp_path):
    from ttnn._sweep.engine import run_sweep

    kw = dict(grid={"eps": [0.1, 1.0], "h": [1e-3, 50.0]}, repeats=2, steps=500, m=4)
    path = tmp_path / "runs.zarr"
    ds = ttnn.sweep("sgd", store=path, **kw)
    xr.testing.assert_identical(xr.open_zarr(path).load(), ds)
    assert ds.attrs["kind"] == "sgd" and ds.attrs["ttnn_version"] == ttnn.__version__
    assert ds.attrs["settings"]["steps"] == 500

    # A rerun runs nothing and returns the same Dataset.
    out = run_sweep("sgd", kw["grid"], 2, store=path, settings={"steps": 500, "m": 4})
    assert (out.skipped, out.ran) == (8, 0)
    xr.testing.assert_identical(out.dataset, ds)

    # A run left "pending" (as after a kill between its data and its status) is redone,
    # and only it.
    import zarr

    g = zarr.open_group(str(path), mode="r+")
    st = g["status"][...]
    st[1, 0, 1] = "pending"
    g["status"][...] = st
    out = run_sweep("sgd", kw["grid"], 2, store=path, settings={"steps": 500, "m": 4})
    assert (out.skipped, out.ran) == (7, 1)
    xr.testing.assert_identical(_drop_time(out.dataset), _drop_time(ds))
    xr.testing.assert_identical(xr.open_zarr(path).load(), out.dataset)

    # Another sweep into the same store is refused.
    with pytest.raises(ValueError, match="holds another sweep.*steps"):
        ttnn.sweep("sgd", store=path, **{**kw, "steps": 600})


def test_default_install_does_not_import_the_sweep_extra():
    import subprocess
    import sys

    code = (
        "import sys, ttnn; "
        "print([m for m in ('xarray', 'zarr', 'dask', 'distributed') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _percents(err: str) -> set[int]:
    return {int(k) for k in re.findall(r"(\d+)%\|", err)}


def test_progress_moves_within_a_chunk(capfd):
    # One chunk (one ensemble call): without the core's step count the bar would
    # only ever show 0 % and 100 %.
    ttnn.sweep("sgd", repeats=4, h=1e-3, steps=3_000_000, m=5, chunk=4, threads=1, progress=True)
    err = capfd.readouterr().err
    assert {p for p in _percents(err) if 0 < p < 100}, err
    assert "4/4 runs done" in err and "1/4 runs done" not in err  # one chunk
    assert ttnn.sweep("sgd", repeats=1, h=1e-3, steps=10, m=2) is not None
    assert capfd.readouterr().err == ""  # quiet unless asked


@pytest.mark.parametrize(
    "kind, length",
    [("flow", {"t_end": 15.0, "eps": 1.0}), ("limit", {"tau_end": 0.5, "method": "rk45"})],
)
def test_progress_moves_within_an_ode_chunk(capfd, kind, length):
    # The flow and limit ensembles count stored snapshots: 4 runs of a few tenths
    # of a second each (the limit by rk45: its default method takes ~30 ms here,
    # too short for the bar to draw between 0 and 100 %).
    ttnn.sweep(kind, repeats=4, m=20, snapshots=40, chunk=4, threads=1, progress=True, **length)
    err = capfd.readouterr().err
    assert {p for p in _percents(err) if 0 < p < 100}, err


def test_run_hash_is_the_digest_of_the_runs_canonical_json():
    # The spec encodes each cell's part of the text once: the same digest as the
    # whole dict through the canonical JSON.
    from ttnn._sweep.spec import SCHEMA_VERSION, _digest, make_spec

    spec = make_spec("sgd", {"eps": [0.5, 1.0], "m": [3, 4]}, 2, 7, {"h": 1e-3, "steps": 10})
    for r in spec.runs:
        whole = {
            "schema": SCHEMA_VERSION,
            "kind": "sgd",
            "settings": r.settings,
            "coords": r.coords,
            "repeat": r.repeat,
            "init_seed": r.init_seed,
            "seed": r.seed,
        }
        assert r.run_hash == int.from_bytes(_digest(whole, 8), "little")
