"""ttnn.plot: the drawn numbers are the statistics over ok runs (checked against
xarray's own reductions), runs that are not ok are left out and said, log axes
where the values span a decade, clear errors naming the argument, no pyplot."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import ttnn

xr = pytest.importorskip("xarray")
pytest.importorskip("matplotlib")

GRID = {"eps": [1.0, 1e-3, 1e-2], "m": [3, 6]}  # eps deliberately unsorted


@pytest.fixture(scope="module")
def ds():
    out = ttnn.sweep("sgd", grid=GRID, repeats=4, h=1e-3, steps=3000, eta=4e-3, seed=1)
    assert (out.status == "ok").all()
    # Runs that are not ok, as a study would hold them (NaN error, status said):
    # two of one cell, and every run of another.
    out = out.copy(deep=True)
    status = out.status.values.copy()
    status[0, 1, 0] = "diverged"  # eps = 1, m = 6
    status[0, 1, 2] = "refused"
    status[1, 0, :] = "diverged"  # eps = 1e-3, m = 3: no ok run at all
    out["status"] = (out.status.dims, status)
    out["l2"] = out.l2.where(out.status == "ok")
    return out


def _mesh(ax):
    (mesh,) = ax.collections
    return np.ma.filled(mesh.get_array(), np.nan)


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def _expected(ds, var, how):
    ok = ds[var].where(ds.status == "ok").astype(float)
    return getattr(ok, how)("repeat").sortby("eps").transpose("m", "eps").values


@pytest.mark.parametrize("stat", ["median", "mean", "min", "max"])
def test_phase_diagram_draws_the_statistic_over_ok_runs(ds, stat):
    ax = ttnn.plot.phase_diagram(ds, x="eps", y="m", stat=stat)
    np.testing.assert_allclose(_mesh(ax), _expected(ds, "l2", stat), rtol=1e-12)
    assert np.isnan(_mesh(ax)[0, 0])  # (m = 3, eps = 1e-3): no ok run, grey
    title = ax.get_title()
    assert f"{stat} of l2" in title
    assert "6 of 24 runs not ok" in title and "5 diverged" in title and "1 refused" in title
    texts = _texts(ax)
    assert texts.count("0/4 ok") == 1 and sum("2/4 ok" in t for t in texts) == 1
    assert ax.get_xscale() == "log"  # eps spans three decades
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.001", "0.01", "1"]


def test_success_map_is_the_fraction_of_ok_repeats_covering_every_break(ds):
    ax = ttnn.plot.success_map(ds, "eps", "m")
    np.testing.assert_allclose(_mesh(ax), _expected(ds, "all_covered", "mean"), rtol=1e-12)
    mesh = ax.collections[0]
    assert (mesh.norm.vmin, mesh.norm.vmax) == (0.0, 1.0)
    assert "not ok" in ax.get_title()


def test_curve_median_and_quartile_band(ds):
    ax = ttnn.plot.curve(ds, "eps", sel={"m": 6})
    (line,) = ax.lines
    one = ds.sel(m=6).sortby("eps")
    ok = one.l2.where(one.status == "ok")
    np.testing.assert_array_equal(line.get_xdata(), [1e-3, 1e-2, 1.0])
    np.testing.assert_allclose(line.get_ydata(), ok.median("repeat").values, rtol=1e-12)
    (band,) = ax.collections
    lo, hi = ok.quantile([0.25, 0.75], dim="repeat").values
    verts = band.get_paths()[0].vertices
    for q in (lo, hi):  # the band's outline passes through every quantile
        for x, y in zip([1e-3, 1e-2, 1.0], q, strict=True):
            assert np.any(np.isclose(verts[:, 0], x) & np.isclose(verts[:, 1], y, rtol=1e-12))
    assert any("2/4 ok" in t.get_text() for t in ax.texts)
    assert ax.get_xscale() == "log"


def test_curve_hue_and_no_band(ds):
    ax = ttnn.plot.curve(ds, "eps", "n_outside", stat="max", hue="m", band=None)
    assert [ln.get_label() for ln in ax.lines] == ["m = 3", "m = 6"]
    assert not ax.collections
    ok = ds.n_outside.where(ds.status == "ok").sortby("eps")
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), ok.sel(m=6).max("repeat").values)
    ttnn.plot.curve(ds, "eps", hue="m", band="minmax")


def test_log_scales_only_where_the_values_span_a_decade(ds):
    ax = ttnn.plot.phase_diagram(ds, "eps", "m")
    assert ax.get_yscale() == "linear"  # m in {3, 6}
    assert ax.get_xscale() == "log"
    ax = ttnn.plot.phase_diagram(ds, "m", "eps", logx=True, logy=False, logc=False)
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "linear")
    np.testing.assert_allclose(_mesh(ax), _expected(ds, "l2", "median").T, rtol=1e-12)
    with pytest.raises(ValueError, match="logy=True needs positive"):
        ttnn.plot.phase_diagram(ds.assign_coords(m=[0, 6]), "eps", "m", logy=True)


def test_a_real_diverging_cell_is_left_out_and_said():
    ds = ttnn.sweep("sgd", grid={"h": [1e-3, 50.0], "m": [3, 4]}, repeats=2, steps=2000)
    assert (ds.status.sel(h=50.0) == "diverged").all()
    ax = ttnn.plot.phase_diagram(ds, "h", "m")
    assert "4 of 8 runs not ok, left out: 4 diverged" in ax.get_title()
    assert _texts(ax).count("0/2 ok") == 2


def test_a_store_read_back_plots_the_same(tmp_path):
    kw = dict(grid={"eps": [1e-2, 1.0], "m": [2, 3]}, repeats=2, h=1e-3, steps=500)
    ds = ttnn.sweep("sgd", store=tmp_path / "r.zarr", **kw)
    lazy = xr.open_zarr(tmp_path / "r.zarr")
    a = ttnn.plot.phase_diagram(ds, "eps", "m")
    b = ttnn.plot.phase_diagram(lazy, "eps", "m")
    np.testing.assert_array_equal(_mesh(a), _mesh(b))


def test_draws_on_a_given_axes():
    from matplotlib.figure import Figure

    ds = ttnn.sweep("sgd", grid={"eps": [1e-2, 1.0], "m": [2, 3]}, repeats=2, h=1e-3, steps=50)
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert ttnn.plot.phase_diagram(ds, "eps", "m", ax=left) is left
    assert ttnn.plot.success_map(ds, "eps", "m", ax=right) is right
    assert ttnn.plot.curve(ds, "eps", hue="m", ax=left) is left


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda d: ttnn.plot.phase_diagram(d, "epz", "m"), ValueError, "^x must be .*'epz'"),
        (lambda d: ttnn.plot.phase_diagram(d, "eps", "repeat"), ValueError, "^y must be"),
        (lambda d: ttnn.plot.phase_diagram(d, "eps", "eps"), ValueError, "same dimension"),
        (lambda d: ttnn.plot.phase_diagram(d, "eps", "m", var="l3"), ValueError, "^var .*'l3'"),
        (lambda d: ttnn.plot.phase_diagram(d, "eps", "m", var="u"), ValueError, "^var"),
        (lambda d: ttnn.plot.phase_diagram(d, "eps", "m", var="status"), ValueError, "^var"),
        (lambda d: ttnn.plot.phase_diagram(d, "eps", "m", stat="mode"), ValueError, "^stat"),
        (lambda d: ttnn.plot.phase_diagram(d, 3, "m"), TypeError, "^x must be a string"),
        (lambda d: ttnn.plot.phase_diagram(d.l2, "eps", "m"), TypeError, "^ds must be"),
        (lambda d: ttnn.plot.phase_diagram(d.drop_vars("status"), "eps", "m"), ValueError, "ds"),
        (lambda d: ttnn.plot.curve(d, "eps"), ValueError, r"also swept over 'm'.*sel="),
        (lambda d: ttnn.plot.curve(d, "eps", sel={"m": 7}), ValueError, r"sel\['m'\] = 7"),
        (lambda d: ttnn.plot.curve(d, "eps", sel={"q": 7}), ValueError, "sel key 'q'"),
        (lambda d: ttnn.plot.curve(d, "eps", hue="eps"), ValueError, "same dimension"),
        (lambda d: ttnn.plot.curve(d, "eps", hue="m", band=(0.8, 0.2)), ValueError, "band"),
        (lambda d: ttnn.plot.curve(d, "eps", hue="m", band=0.5), TypeError, "band"),
        (lambda d: ttnn.plot.curve(d, "eps", hue="m", band="iqr"), ValueError, "band"),
        (lambda d: ttnn.plot.success_map(d, "eps", "m", logx="yes"), TypeError, "logx"),
    ],
)
def test_bad_arguments_are_named(ds, call, exc, match):
    with pytest.raises(exc, match=match):
        call(ds)


def test_no_pyplot_and_no_backend_change(tmp_path):
    # A fresh interpreter: plotting neither imports pyplot nor switches the backend.
    code = f"""
import sys, matplotlib
# The raw setting (matplotlib.get_backend() would resolve it by importing pyplot).
raw = lambda: dict.__getitem__(matplotlib.rcParams, "backend")
before = raw()
import ttnn
ds = ttnn.sweep("sgd", grid={{"eps": [0.1, 1.0], "m": [2, 3]}}, repeats=1, h=1e-3, steps=20)
ttnn.plot.phase_diagram(ds, "eps", "m").figure.savefig({str(tmp_path / "f.png")!r})
ttnn.plot.curve(ds, "eps", hue="m")
assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
assert raw() == before
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (tmp_path / "f.png").stat().st_size > 1000


def test_command_line(tmp_path, capsys):
    from ttnn.cli import main

    store = tmp_path / "runs.zarr"
    ds = ttnn.sweep(
        "sgd", grid={"h": [1e-3, 50.0], "m": [3, 4]}, repeats=2, steps=2000, store=store
    )
    out = tmp_path / "fig.png"
    assert main(["plot", "phase", str(store), "--x", "h", "--y", "m", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert str(out) in said and "4 diverged" in said  # the runs left out are said
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "c.svg"
    args = ["plot", "curve", str(store), "--x", "h", "--sel", "m=4", "--var", "n_outside"]
    assert main([*args, "--stat", "max", "--out", str(svg)]) == 0
    assert svg.read_text().lstrip().startswith("<?xml")
    assert main(["plot", "success", str(store), "--x", "m", "--y", "h", "--out", str(out)]) == 0
    assert ds.status.size == 8
    capsys.readouterr()
    bad = [
        (["plot", "phase", str(store), "--x", "eps", "--y", "m"], "x must be"),
        (["plot", "phase", str(store), "--x", "h"], "needs --y"),
        (["plot", "phase", str(tmp_path / "none.zarr"), "--x", "h", "--y", "m"], "not a zarr"),
        (["plot", "phase", str(store), "--x", "h", "--y", "m", "--stat", "mode"], "stat"),
        (["plot", "curve", str(store), "--x", "h", "--sel", "m=x"], "m takes numbers"),
        (["plot", "curve", str(store), "--x", "h", "--sel", "m"], "DIM=VALUE"),
        (
            ["plot", "phase", str(store), "--x", "h", "--y", "m", "--out", str(tmp_path / "f")],
            "suffix",
        ),
        (
            ["plot", "phase", str(store), "--x", "h", "--y", "m", "--out", str(tmp_path / "f.xyz")],
            "xyz",
        ),
        (["plot", "bogus", str(store), "--x", "h"], "invalid choice"),
    ]
    for argv, match in bad:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert match in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.glob(".*tmp*"))  # no half-written figure left behind


# --- Learning curves: l2 along the stored snapshots against the slow time tau ---

TRAJ = dict(grid={"eps": [1.0, 0.1], "m": [3, 5]}, repeats=4, h=1e-3, steps=4000, snapshots=9)


@pytest.fixture(scope="module")
def paths():
    out = ttnn.sweep("sgd", seed=2, **TRAJ)
    assert (out.status == "ok").all()
    out = out.copy(deep=True)
    status = out.status.values.copy()
    status[1, 0, 3] = "diverged"  # eps = 0.1, m = 3: 3 of 4 repeats left
    out["status"] = (out.status.dims, status)
    return out


def _tau_expected(eps):
    # tau = eps h step at snapshots evenly spaced in steps (docs/maths/dynamics.md).
    return eps * TRAJ["h"] * np.linspace(0, TRAJ["steps"], TRAJ["snapshots"])


def test_curve_along_tau_is_the_median_and_band_of_l2_over_ok_repeats(paths):
    ax = ttnn.plot.curve(paths, "tau", sel={"m": 3}, hue="eps")
    lines = {ln.get_label(): ln for ln in ax.lines}
    assert set(lines) == {"eps = 0.1 (3/4 ok)", "eps = 1"}
    for eps, label in ((0.1, "eps = 0.1 (3/4 ok)"), (1.0, "eps = 1")):
        one = paths.sel(m=3, eps=eps)
        ok = one.l2_path.where(one.status == "ok")
        np.testing.assert_allclose(lines[label].get_xdata(), _tau_expected(eps), rtol=1e-12)
        np.testing.assert_allclose(lines[label].get_ydata(), ok.median("repeat").values, rtol=1e-12)
    band = ax.collections[0]  # the first line drawn: eps = 0.1 (hue sorted)
    one = paths.sel(m=3, eps=0.1)
    lo, hi = one.l2_path.where(one.status == "ok").quantile([0.25, 0.75], dim="repeat").values
    verts = band.get_paths()[0].vertices
    for q in (lo, hi):
        for x, y in zip(_tau_expected(0.1), q, strict=True):
            assert np.any(np.isclose(verts[:, 0], x) & np.isclose(verts[:, 1], y, rtol=1e-12))
    assert ax.get_xlabel() == "tau (slow time)"
    assert "1 of 8 runs not ok, left out: 1 diverged" in ax.get_title()


def test_curve_uses_the_datasets_own_tau_when_it_has_one(paths):
    # A Dataset carrying tau along the snapshots is drawn against it, not recomputed.
    fake = (paths.step * 7.0).astype(np.float64)
    ax = ttnn.plot.curve(paths.assign_coords(tau=fake), "tau", sel={"m": 5, "eps": 1.0})
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), 7.0 * paths.step.values[0, 0, 0])


def test_curve_along_steps_and_snapshots(paths):
    ax = ttnn.plot.curve(paths, "step", sel={"m": 5, "eps": 0.1}, band=None)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.linspace(0, 4000, 9))
    assert not ax.collections
    ax = ttnn.plot.curve(paths, "snapshot", sel={"m": 5, "eps": 0.1}, stat="max")
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(9))
    np.testing.assert_allclose(
        ax.lines[0].get_ydata(), paths.l2_path.sel(m=5, eps=0.1).max("repeat").values
    )


def test_flow_curve_along_tau_is_eps_t():
    ds = ttnn.sweep("flow", grid={"m": [4]}, repeats=2, eps=0.5, t_end=2.0, snapshots=5)
    ax = ttnn.plot.curve(ds, "tau", sel={"m": 4})
    np.testing.assert_allclose(ax.lines[0].get_xdata(), 0.5 * np.linspace(0, 2.0, 5), rtol=1e-12)


def test_curve_of_a_store_read_back_is_the_same(tmp_path):
    kw = dict(TRAJ, grid={"eps": [0.1], "m": [3]}, repeats=3)
    ds = ttnn.sweep("sgd", store=tmp_path / "r.zarr", **kw)
    a = ttnn.plot.curve(ds, "tau", sel={"m": 3, "eps": 0.1})
    b = ttnn.plot.curve(xr.open_zarr(tmp_path / "r.zarr"), "tau", sel={"m": 3, "eps": 0.1})
    np.testing.assert_array_equal(a.lines[0].get_xydata(), b.lines[0].get_xydata())


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda d, p: ttnn.plot.curve(d, "tau", sel={"m": 3}), "no trajectories.*snapshots"),
        (lambda d, p: ttnn.plot.curve(p, "tau", sel={"m": 3}), r"also swept over 'eps'.*sel="),
        (lambda d, p: ttnn.plot.curve(p, "tau", "n_outside", hue="eps", sel={"m": 3}), "^var"),
        # A Dataset of another kind without its own slow time: none can be computed.
        (
            lambda d, p: ttnn.plot.slow_time(
                p.drop_vars("tau").assign_attrs(kind="gd", slow_time="")
            ),
            "'epoch'",
        ),
    ],
)
def test_bad_curve_along_time(ds, paths, call, match):
    with pytest.raises(ValueError, match=match):
        call(ds, paths)
    with pytest.raises(TypeError, match="^ds must be"):
        ttnn.plot.curve({"l2": 1}, "tau")
    with pytest.raises(TypeError, match="^ds must be"):
        ttnn.plot.slow_time(paths.l2_path)


def test_command_line_curve_along_tau_and_hints_in_cli_syntax(tmp_path, capsys):
    from ttnn.cli import main

    store = tmp_path / "runs.zarr"
    ttnn.sweep("sgd", store=store, **dict(TRAJ, repeats=2))
    out = tmp_path / "curve.png"
    args = ["plot", "curve", str(store), "--x", "tau", "--sel", "m=5", "--hue", "eps"]
    assert main([*args, "--out", str(out)]) == 0
    assert "l2_path" in capsys.readouterr().out
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The hints name options as typed on the command line, never Python's sel={...}.
    for bad, want in (
        (["--x", "tau"], "--sel eps=1 --sel m=3"),
        (["--x", "tau", "--sel", "m=4"], "--sel m=4 is not a value of m"),
        (["--x", "tau", "--sel", "q=4"], "--sel q=..."),
        (["--x", "tau", "--hue", "eps", "--sel", "m=3", "--stat", "mode"], "--stat must"),
    ):
        assert main(["plot", "curve", str(store), *bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("ttnn: error: ") and want in err[0], err
        assert "sel={" not in err[0] and "sel[" not in err[0]


def test_slow_time_without_the_datasets_own_is_computed_from_the_kind(paths):
    # A Dataset without a slow-time coordinate (written before the sweep had one, or
    # stripped of it) still gets tau = eps h step, from its settings and steps.
    bare = paths.drop_vars("tau")
    del bare.attrs["slow_time"]
    for eps in (0.1, 1.0):
        ax = ttnn.plot.curve(bare, "tau", sel={"m": 5, "eps": eps})
        np.testing.assert_allclose(ax.lines[0].get_xdata(), _tau_expected(eps), rtol=1e-12)


SWEPT_TAU = {
    "sgd": dict(h=1e-3, eps=1.0, snapshots=3, m=4, eta=0.05),
    "limit": dict(snapshots=5, m=4, eta=0.05),
}


@pytest.mark.parametrize("kind", ["sgd", "limit"])
def test_curve_along_the_slow_time_of_a_store_with_tau_swept(tmp_path, capsys, kind):
    # tau names the grid dimension; the slow time along the path is tau_path, as
    # attrs["slow_time"] says, and curve draws against it by either name.
    from ttnn._sweep.store import read
    from ttnn.cli import main

    kw = SWEPT_TAU[kind]
    store = tmp_path / "t.zarr"
    ttnn.sweep(kind, grid={"tau": [0.02, 0.01]}, repeats=2, store=store, **kw)
    ds, damaged = read(store)
    assert damaged == 0 and ds.attrs["slow_time"] == "tau_path"
    assert ttnn.plot.slow_time(ds).name == "tau_path"
    # Snapshots are evenly spaced over each run's length in slow time, tau.
    ax = ttnn.plot.curve(ds, "tau_path", hue="tau")
    lines = {ln.get_label(): ln for ln in ax.lines}
    assert set(lines) == {"tau = 0.01", "tau = 0.02"}
    for tau in (0.01, 0.02):
        x = lines[f"tau = {tau:g}"].get_xdata()
        np.testing.assert_allclose(x, np.linspace(0, tau, kw["snapshots"]), rtol=1e-12)
        y = ds.l2_path.sel(tau=tau).median("repeat").values
        np.testing.assert_allclose(lines[f"tau = {tau:g}"].get_ydata(), y, rtol=1e-12)
    assert ax.get_xlabel() == "tau_path (slow time)"
    # "tau" itself is the swept dimension: one point per value (the runs' final l2).
    ax = ttnn.plot.curve(ds, "tau")
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0.01, 0.02])
    np.testing.assert_allclose(
        ax.lines[0].get_ydata(), ds.l2.median("repeat").sortby("tau").values, rtol=1e-12
    )
    out = tmp_path / "c.png"
    args = ["plot", "curve", str(store), "--x", "tau_path", "--hue", "tau", "--out", str(out)]
    assert main(args) == 0 and out.is_file()
    assert "l2_path" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["sgd", "limit"])
def test_curve_along_the_slow_time_of_a_store_with_tau_fixed(tmp_path, capsys, kind):
    from ttnn._sweep.store import read
    from ttnn.cli import main

    kw = SWEPT_TAU[kind]
    store = tmp_path / "t.zarr"
    fixed = {k: v for k, v in kw.items() if k != "m"}
    ttnn.sweep(kind, grid={"m": [3, 4]}, repeats=2, tau=0.02, store=store, **fixed)
    ds, _ = read(store)
    assert ds.attrs["slow_time"] == "tau"
    ax = ttnn.plot.curve(ds, "tau", sel={"m": 4})
    np.testing.assert_allclose(
        ax.lines[0].get_xdata(), np.linspace(0, 0.02, kw["snapshots"]), rtol=1e-12
    )
    assert ax.get_xlabel() == "tau (slow time)"
    out = tmp_path / "c.png"
    assert main(["plot", "curve", str(store), "--x", "tau", "--hue", "m", "--out", str(out)]) == 0
    capsys.readouterr()


def _store_with_lost_chunks(tmp_path, cells):
    """A real store of 2 x 2 cells, 2 repeats, whose l2 chunks of ``cells`` are deleted."""
    store = tmp_path / "runs.zarr"
    ttnn.sweep(
        "sgd", grid={"eps": [0.1, 1.0], "m": [3, 4]}, repeats=2, h=1e-3, steps=300, store=store
    )
    for i, j in cells:
        chunk = store / "l2" / "c" / str(i) / str(j) / "0"
        assert chunk.is_file()
        chunk.unlink()
    return store


def test_command_line_draws_the_lost_runs_of_a_damaged_store_as_pending(tmp_path, capsys):
    from ttnn.cli import main

    store = _store_with_lost_chunks(tmp_path, [(1, 0)])  # eps = 1, m = 3
    assert (xr.open_zarr(store).status == "ok").all()  # what a plain reader would show
    out = tmp_path / "fig.png"
    assert main(["plot", "phase", str(store), "--x", "eps", "--y", "m", "--out", str(out)]) == 0
    said = capsys.readouterr()
    assert "2 of 8 runs not ok, left out: 2 pending" in said.out
    warning = said.err.strip().splitlines()
    assert len(warning) == 1 and "2 runs" in warning[0] and "missing or corrupt" in warning[0]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_line_refuses_a_store_with_nothing_left_to_draw(tmp_path, capsys):
    from ttnn.cli import main

    store = _store_with_lost_chunks(tmp_path, [(0, 0), (0, 1), (1, 0), (1, 1)])
    out = tmp_path / "fig.png"
    for kind in ("phase", "success"):
        argv = ["plot", kind, str(store), "--x", "eps", "--y", "m", "--out", str(out)]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("ttnn: error: no ok run to draw"), err
        assert "8 pending" in err[0]
    assert main(["plot", "curve", str(store), "--x", "eps", "--sel", "m=3"]) == 2
    assert "no ok run" in capsys.readouterr().err
    assert not out.exists()
    # Metadata that cannot be read: one line, exit 2.
    (store / "zarr.json").write_text("{ not json")
    assert main(["plot", "phase", str(store), "--x", "eps", "--y", "m"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "damaged" in err[0], err
