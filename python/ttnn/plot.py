"""Figures of a sweep's Dataset (``ttnn.sweep`` or ``xarray.open_zarr`` of its store).

- :func:`phase_diagram`: a heat map of a statistic over the repeats, on two swept axes;
- :func:`success_map`: the fraction of repeats covering every break, on two swept axes;
- :func:`curve`: a statistic against one swept axis, with a band over the repeats,
  or the stored learning curves against the slow time τ (:func:`slow_time`).

Only runs with ``status == "ok"`` enter a statistic; the others (diverged,
refused, or still pending in an unfinished store) are left out, and the figure
says so: the title counts them by status, and a cell or point missing some of
its repeats is labelled with how many were ok. An axis is logarithmic when its
values are positive and span at least a decade (a colour scale, when they span
more than one); ``logx=``/``logy=``/``logc=`` override that. Every function
draws on ``ax`` (a new :class:`matplotlib.figure.Figure` when ``None``, without
pyplot, so no backend is changed) and returns the Axes: save with
``ax.figure.savefig("fig.png")``. matplotlib is imported only when a function is
called. See docs/guide/sweeps.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from . import _validate as check

__all__ = ["curve", "phase_diagram", "slow_time", "success_map"]

#: The statistics over repeats (NaN-aware: excluded runs are NaN).
STATS = ("median", "mean", "min", "max")
_STAT_FN: dict[str, Callable[..., Any]] = {
    "median": np.nanmedian,
    "mean": np.nanmean,
    "min": np.nanmin,
    "max": np.nanmax,
}
#: Cells of a heat map above which values are not written in the cells.
MAX_ANNOTATED_CELLS = 120
#: What ``curve`` can draw a stored trajectory (``l2_path`` along ``snapshot``)
#: against: the slow time τ, a run's own time axis (sgd's step, flow's t, gd's
#: epoch), or the snapshot's index.
TRAJECTORY_AXES = ("tau", "step", "t", "epoch", "snapshot")

# Whether errors name arguments as the command line spells them (``--sel m=5``) or
# as Python does (``sel={'m': 5}``): ``ttnn plot`` sets it around its call.
_CLI: ContextVar[bool] = ContextVar("ttnn_plot_cli", default=False)


@contextmanager
def _cli_syntax() -> Iterator[None]:
    token = _CLI.set(True)
    try:
        yield
    finally:
        _CLI.reset(token)


def _arg(name: str) -> str:
    """An argument's name in the errors: ``x`` (Python) or ``--x`` (command line)."""
    return f"--{name}" if _CLI.get() else name


def _given(name: str, value: Any) -> str:
    """An argument with its value: ``x='eps'`` or ``--x eps``."""
    return f"--{name} {value}" if _CLI.get() else f"{name}={value!r}"


def _fix(values: Mapping[str, Any]) -> str:
    """How to fix swept values: ``sel={'m': 5}`` or ``--sel m=5``."""
    if _CLI.get():
        return " ".join(f"--sel {k}={_label(v)}" for k, v in values.items())
    return "sel={" + ", ".join(f"{k!r}: {_label(v)}" for k, v in values.items()) + "}"


def _ds() -> str:
    return "the store" if _CLI.get() else "ds"


class _Selection:
    """A variable of a sweep's Dataset, restricted to ok runs, over the named axes."""

    def __init__(
        self,
        ds: Any,
        axes: Sequence[tuple[str, str]],
        var: str,
        sel: Mapping[str, Any] | None,
        trailing: str | None = None,
    ) -> None:
        xr = _xarray()
        if not isinstance(ds, xr.Dataset):
            raise TypeError(
                f"ds must be an xarray.Dataset from ttnn.sweep, got {type(ds).__name__}"
            )
        if "status" not in ds.data_vars or "repeat" not in ds.status.dims:
            raise ValueError("ds has no 'status' over 'repeat': is it a Dataset from ttnn.sweep?")
        grid = [d for d in ds.status.dims if d != "repeat"]
        if sel is not None:
            if not isinstance(sel, Mapping):
                raise TypeError(f"sel must be a dict of swept values, got {type(sel).__name__}")
            for k, v in sel.items():
                where = f"--sel {k}=..." if _CLI.get() else f"sel key {k!r}"
                check.choice(where, k, grid, "a swept dimension:")
                values = [x.item() if hasattr(x, "item") else x for x in ds[k].values]
                if v not in values:
                    given = f"--sel {k}={_label(v)}" if _CLI.get() else f"sel[{k!r}] = {v!r}"
                    raise ValueError(
                        f"{given} is not a value of {k} ({', '.join(_label(x) for x in values)})"
                    )
            ds = ds.sel(dict(sel))
            grid = [d for d in grid if d in ds.status.dims]
        names = [d for _, d in axes]
        for arg, dim in axes:
            check.choice(_arg(arg), dim, grid, f"a swept dimension of {_ds()}:")
        if len(set(names)) < len(names):
            args = " and ".join(_given(a, d) for a, d in axes)
            raise ValueError(f"{args} name the same dimension; give different ones")
        rest = [d for d in grid if d not in names]
        if rest:
            fix = _fix({d: ds[d].values[0].item() for d in rest})
            raise ValueError(
                f"{_ds()} is also swept over {', '.join(map(repr, rest))}: fix a value with "
                f"{fix} (or choose it as an axis)"
            )
        extra = () if trailing is None else (trailing,)
        numeric = [
            str(k)
            for k, v in ds.data_vars.items()
            if set(v.dims) == {*grid, "repeat", *extra}
            and (np.issubdtype(v.dtype, np.number) or v.dtype == bool)
        ]
        what = "a per-run numeric variable" if trailing is None else f"a variable along {trailing}"
        check.choice(_arg("var"), var, numeric, f"{what} of {_ds()}:")
        status = np.asarray(ds.status.transpose(*names, "repeat").values)
        self.ok = np.asarray(status == "ok", dtype=bool)
        # A trajectory keeps the repeat last: (axes…, trailing, repeat).
        order = (*names, *extra, "repeat")
        values = ds[var].transpose(*order).values.astype(np.float64)
        ok = self.ok if trailing is None else self.ok[..., None, :]
        self.values = np.where(ok, values, np.nan)
        self.ds = ds
        self.coords = [np.asarray(ds[d].values) for d in names]
        self.names = names
        self.var = var
        self.repeats = status.shape[-1]
        counts: dict[str, int] = {}
        for st in status[~self.ok].ravel():
            counts[str(st)] = counts.get(str(st), 0) + 1
        self.excluded = counts
        self.total = status.size
        kind = ds.attrs.get("kind")
        self.kind = f"{kind}: " if isinstance(kind, str) else ""
        self.n_ok = self.ok.sum(axis=-1)
        if not self.ok.any():  # a figure of NaN only (a store not run yet, or its data lost)
            raise ValueError(f"no ok run to draw in {_ds()}'s selection ({self.note()})")

    def stat(self, stat: str) -> np.ndarray:
        out = np.full(self.values.shape[:-1], np.nan)
        has = self.n_ok > 0
        if np.any(has):
            out[has] = _STAT_FN[stat](self.values[has], axis=-1)
        return out

    def note(self) -> str:
        """What was left out, for the title ("" when every run is ok)."""
        if not self.excluded:
            return ""
        n = sum(self.excluded.values())
        parts = ", ".join(f"{c} {s}" for s, c in sorted(self.excluded.items()))
        return f"{n} of {self.total} runs not ok, left out: {parts}"


def _xarray() -> Any:
    from ._sweep.dataset import require

    return require("xarray")


def _new_axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig.add_subplot()


def _is_numeric(values: np.ndarray) -> bool:
    return bool(np.issubdtype(values.dtype, np.number)) and values.dtype != bool


def _auto_log(values: np.ndarray, log: bool | None, name: str, span: float = 10.0) -> bool:
    """log: a positive axis spanning ≥ ``span`` (max/min), unless forced."""
    finite = values[np.isfinite(values)] if _is_numeric(values) else np.array([])
    if log is not None:
        log = check.flag(name, log)
        if log and (finite.size == 0 or np.any(finite <= 0)):
            raise ValueError(f"{name}=True needs positive values")
        return log
    return bool(finite.size and np.all(finite > 0) and finite.max() >= span * finite.min())


def _edges(values: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around sorted values: midpoints (geometric on a log axis)."""
    w = np.log10(values) if log else values.astype(np.float64)
    if w.size == 1:
        half = 0.5 if log else (0.5 * abs(w[0]) if w[0] != 0 else 0.5)
        e = np.array([w[0] - half, w[0] + half])
    else:
        mid = (w[1:] + w[:-1]) / 2
        e = np.concatenate([[2 * w[0] - mid[0]], mid, [2 * w[-1] - mid[-1]]])
    return np.asarray(10.0**e if log else e)


def _label(v: Any) -> str:
    return f"{v:g}" if isinstance(v, (float, np.floating)) else str(v)


def _axis(ax: Any, which: str, name: str, values: np.ndarray, log: bool) -> np.ndarray:
    """Set up one axis of a heat map; returns the cell edges in the axis' coordinates."""
    set_scale = ax.set_xscale if which == "x" else ax.set_yscale
    set_ticks = ax.set_xticks if which == "x" else ax.set_yticks
    set_label = ax.set_xlabel if which == "x" else ax.set_ylabel
    if _is_numeric(values):
        edges = _edges(values, log)
        if log:
            set_scale("log")
        set_ticks(values, [_label(v) for v in values])
        set_ticks([], minor=True)
    else:  # labels (a swept noise, an activation): one cell each
        edges = np.arange(values.size + 1) - 0.5
        set_ticks(np.arange(values.size), [_label(v) for v in values])
    set_label(name)
    return edges


def _sorted(sel: _Selection) -> None:
    """Numeric axes in increasing order (a grid may be given in any order)."""
    for i, c in enumerate(sel.coords):
        if _is_numeric(c):
            order = np.argsort(c, kind="stable")
            sel.coords[i] = c[order]
            sel.values = np.take(sel.values, order, axis=i)
            sel.ok = np.take(sel.ok, order, axis=i)
            sel.n_ok = np.take(sel.n_ok, order, axis=i)


def _heatmap(
    sel: _Selection,
    z: np.ndarray,
    ax: Any,
    logx: bool | None,
    logy: bool | None,
    norm: Any,
    cmap: str,
    clabel: str,
    title: str,
    annotate: bool | None,
) -> Any:
    ax = _new_axes(ax, (6.4, 4.8))
    xs, ys = sel.coords
    lx = _auto_log(xs, logx, "logx")
    ly = _auto_log(ys, logy, "logy")
    ex = _axis(ax, "x", sel.names[0], xs, lx)
    ey = _axis(ax, "y", sel.names[1], ys, ly)
    import matplotlib as mpl

    colormap = mpl.colormaps[cmap].with_extremes(bad="0.85")
    mesh = ax.pcolormesh(
        ex, ey, np.ma.masked_invalid(z.T), cmap=colormap, norm=norm, shading="flat"
    )
    ax.figure.colorbar(mesh, ax=ax, label=clabel)
    if annotate is None:
        annotate = z.size <= MAX_ANNOTATED_CELLS
    centres_x = np.sqrt(ex[1:] * ex[:-1]) if lx else (ex[1:] + ex[:-1]) / 2
    centres_y = np.sqrt(ey[1:] * ey[:-1]) if ly else (ey[1:] + ey[:-1]) / 2
    for i, cx in enumerate(centres_x):
        for j, cy in enumerate(centres_y):
            k, value = int(sel.n_ok[i, j]), z[i, j]
            lines = []
            if annotate and k:
                lines.append(f"{value:.2g}")
            if k < sel.repeats:  # always said, whatever the grid's size
                lines.append(f"{k}/{sel.repeats} ok")
            if not lines:
                continue
            if k and np.isfinite(value):
                r, g, b, _ = colormap(mesh.norm(value))
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            else:
                dark = False
            ax.text(
                cx,
                cy,
                "\n".join(lines),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "black",
            )
    note = sel.note()
    ax.set_title(title + (f"\n{note}" if note else ""), fontsize=10)
    return ax


def phase_diagram(
    ds: Any,
    x: str,
    y: str,
    var: str = "l2",
    stat: str = "median",
    *,
    sel: Mapping[str, Any] | None = None,
    ax: Any = None,
    logx: bool | None = None,
    logy: bool | None = None,
    logc: bool | None = None,
    cmap: str = "viridis",
    annotate: bool | None = None,
) -> Any:
    """A heat map of ``stat`` (median, mean, min, max) of ``var`` over the repeats.

    ``x`` and ``y`` are two swept dimensions of ``ds``; any other swept
    dimension must be fixed with ``sel={dim: value}``. ``var`` is a per-run
    numeric variable (``l2``, ``n_outside``, ``all_covered``, ``wall_time``…).
    Only ok runs enter the statistic; a cell with some runs left out shows
    ``k/R ok``, a cell without any is grey, and the title counts what was left
    out. Values are written in the cells when there are at most 120
    (``annotate=`` forces it). Returns the Axes.
    """
    check.choice(_arg("stat"), stat, STATS)
    s = _Selection(ds, [("x", x), ("y", y)], var, sel)
    _sorted(s)
    z = s.stat(stat)
    from matplotlib.colors import LogNorm, Normalize

    finite = z[np.isfinite(z)]
    if _auto_log(z, logc, "logc", span=10.0 + 1e-12) and finite.size:
        norm: Any = LogNorm(vmin=finite.min(), vmax=finite.max())
    else:
        norm = Normalize(*((finite.min(), finite.max()) if finite.size else (0.0, 1.0)))
    return _heatmap(
        s,
        z,
        ax,
        logx,
        logy,
        norm,
        cmap,
        f"{stat} of {var}",
        f"{s.kind}{stat} of {var} over {s.repeats} repeats",
        annotate,
    )


def success_map(
    ds: Any,
    x: str,
    y: str,
    *,
    sel: Mapping[str, Any] | None = None,
    ax: Any = None,
    logx: bool | None = None,
    logy: bool | None = None,
    cmap: str = "viridis",
    annotate: bool | None = None,
) -> Any:
    """The fraction of (ok) repeats whose final network covers every break.

    A break is covered when a neuron ends within 2η of it (``ds.all_covered``).
    Same axes, selection and handling of runs that are not ok as
    :func:`phase_diagram`; the colour scale is [0, 1]. Returns the Axes.
    """
    s = _Selection(ds, [("x", x), ("y", y)], "all_covered", sel)
    _sorted(s)
    z = s.stat("mean")
    from matplotlib.colors import Normalize

    return _heatmap(
        s,
        z,
        ax,
        logx,
        logy,
        Normalize(0.0, 1.0),
        cmap,
        "fraction of repeats covering every break",
        f"{s.kind}every break covered, fraction of {s.repeats} repeats",
        annotate,
    )


def _band(band: Any) -> tuple[float, float] | None:
    if band is None:
        return None
    if isinstance(band, str):
        check.choice("band", band, ["minmax"], "None, 'minmax' or a pair of quantiles; one of")
        return (0.0, 1.0)
    try:
        lo, hi = band
    except (TypeError, ValueError):
        raise TypeError(
            f"band must be None, 'minmax' or a pair of quantiles (lo, hi), got {band!r}"
        ) from None
    lo_f, hi_f = check.real("band[0]", lo, nonneg=True), check.real("band[1]", hi, nonneg=True)
    if not lo_f < hi_f <= 1.0:
        raise ValueError(f"band must be quantiles 0 <= lo < hi <= 1, got {band!r}")
    return lo_f, hi_f


def _setting(ds: Any, key: str) -> Any:
    """A run setting of ``ds``: its coordinate when swept (broadcasts over the runs),
    else the fixed value from the sweep's attributes (or the kind's default)."""
    if key in ds.coords:  # swept: a dimension, or a scalar once selected
        return ds[key]
    settings = ds.attrs.get("settings")
    if isinstance(settings, Mapping) and key in settings:
        return settings[key]
    from ._sweep.spec import defaults, kinds

    kind = ds.attrs.get("kind")
    if kind in kinds() and key in defaults(kind):
        return defaults(kind)[key]
    raise ValueError(f"{_ds()} does not say its {key!r} (attrs['settings'] lacks it)")


def _slow_name(ds: Any) -> str | None:
    """The name of ``ds``'s slow-time coordinate along the snapshots: the sweep's
    ``attrs["slow_time"]`` (``tau``, or ``tau_path`` when ``tau`` is swept), else
    ``tau`` if it runs along the snapshots; None when it has none."""
    names = [ds.attrs.get("slow_time"), "tau"]
    for name in names:
        if isinstance(name, str) and name in ds.variables and "snapshot" in ds[name].dims:
            return name
    return None


def slow_time(ds: Any) -> Any:
    """The slow time τ of every stored snapshot, over (grid…, repeat, snapshot).

    The Dataset's own slow-time coordinate when it has one along ``snapshot``
    (the one ``attrs["slow_time"]`` names: ``tau``, or ``tau_path`` when
    ``tau`` is swept); otherwise it follows from the kind: τ = ε·h·step for
    SGD, τ = ε·t for the gradient flow. Runs not yet finished hold no times
    (their step is -1, their t NaN): mask them with ``ds.status == "ok"``.
    ValueError for a Dataset without trajectories or of kind "gd" (no slow
    time: use ``epoch``).
    """
    xr = _xarray()
    if not isinstance(ds, xr.Dataset) or "status" not in ds.data_vars:
        raise TypeError(f"ds must be an xarray.Dataset from ttnn.sweep, got {type(ds).__name__}")
    if "snapshot" not in ds.dims:
        raise ValueError(
            f"{_ds()} holds no trajectories: sweep with snapshots > 2 to store l2_path"
        )
    name = _slow_name(ds)
    if name is not None:
        return ds[name]
    kind = ds.attrs.get("kind")
    if kind == "sgd":
        step = ds["step"].where(ds["step"] >= 0)
        return step * _setting(ds, "eps") * _setting(ds, "h")
    if kind == "flow":
        return ds["t"] * _setting(ds, "eps")
    raise ValueError(
        f"a sweep of kind {kind!r} has no slow time tau: plot against "
        f"{_given('x', 'epoch' if kind == 'gd' else 'snapshot')} instead"
    )


def _along(ds: Any, x: str) -> Any:
    """The x values of every snapshot, over (grid…, repeat, snapshot)."""
    if x == "tau" or x == _slow_name(ds):
        return slow_time(ds)
    if "snapshot" not in ds.dims:
        raise ValueError(
            f"{_ds()} holds no trajectories: sweep with snapshots > 2 to store l2_path"
        )
    if x == "snapshot":
        return ds["snapshot"].broadcast_like(ds.status)
    if x not in ds.variables or "snapshot" not in ds[x].dims:
        axes = [a for a in TRAJECTORY_AXES if a in ds.variables or a in ("tau", "snapshot")]
        axes += [n for n in [_slow_name(ds)] if n is not None and n not in axes]
        raise ValueError(
            f"{_given('x', x)} is neither a swept dimension nor a time axis of {_ds()} "
            f"({', '.join(map(repr, axes))})"
        )
    return ds[x].where(ds[x] >= 0) if ds[x].dtype.kind in "iu" else ds[x]


def curve(
    ds: Any,
    x: str,
    var: str = "l2",
    *,
    stat: str = "median",
    band: Any = (0.25, 0.75),
    hue: str | None = None,
    sel: Mapping[str, Any] | None = None,
    ax: Any = None,
    logx: bool | None = None,
    logy: bool | None = None,
) -> Any:
    """``stat`` of ``var`` over the repeats against ``x``, with a band over the repeats.

    ``x`` is a swept dimension (one point per value), or, to draw the stored
    trajectories (``l2_path`` along ``snapshot``, kept by sweeps with
    ``snapshots`` > 2), a time axis: ``"tau"`` (the slow time, see
    :func:`slow_time`), a run's own ``"step"``/``"t"``/``"epoch"``, or
    ``"snapshot"``; ``var="l2"`` then means its path, ``l2_path`` (a swept
    dimension of that name wins: with ``tau`` swept, the slow time along the
    path is ``"tau_path"``, the name ``ds.attrs["slow_time"]`` gives). ``band``
    shades quantiles over the repeats (default the quartiles (0.25, 0.75);
    ``"minmax"`` for the range; ``None`` for none). ``hue`` draws one curve per
    value of another swept dimension; any other must be fixed with ``sel``. Only
    ok runs count; a point (or trajectory) missing some repeats is labelled
    ``k/R ok`` and the title counts what was left out. Returns the Axes.
    """
    check.choice(_arg("stat"), stat, STATS)
    q = _band(band)
    xr = _xarray()
    grid = list(ds.status.dims) if isinstance(ds, xr.Dataset) and "status" in ds else []
    # The slow time by its own name too (tau_path, when tau is a swept dimension).
    if x not in grid and (x in TRAJECTORY_AXES or (grid and x == _slow_name(ds))):
        return _trajectories(ds, x, var, stat, q, hue, sel, ax, logx, logy)
    axes = [("x", x)] if hue is None else [("x", x), ("hue", hue)]
    s = _Selection(ds, axes, var, sel)
    _sorted(s)
    xs = s.coords[0]
    if not _is_numeric(xs):
        raise ValueError(f"{_given('x', x)} has no numeric values to plot a curve against")
    if hue is None:  # one curve: a hue axis of length 1
        s.values, s.ok, s.n_ok = s.values[:, None], s.ok[:, None], s.n_ok[:, None]
        labels: list[str | None] = [None]
    else:
        labels = [f"{hue} = {_label(v)}" for v in s.coords[1]]
    z = s.stat(stat)
    ax = _new_axes(ax, (6.4, 4.2))
    lx = _auto_log(xs, logx, "logx")
    ys = s.values[np.isfinite(s.values)]
    ly = _auto_log(ys, logy, "logy", span=10.0 + 1e-12)
    if lx:
        ax.set_xscale("log")
    if ly:
        ax.set_yscale("log")
    for j, label in enumerate(labels):
        (line,) = ax.plot(xs, z[:, j], marker="o", label=label)
        if q is not None:
            lo = np.full(xs.shape, np.nan)
            hi = np.full(xs.shape, np.nan)
            has = s.n_ok[:, j] > 0
            if np.any(has):
                lo[has], hi[has] = np.nanquantile(s.values[has, j], q, axis=-1)
            ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.25, lw=0)
        for i in np.flatnonzero(s.n_ok[:, j] < s.repeats):
            yv = z[i, j]
            ax.annotate(
                f"{int(s.n_ok[i, j])}/{s.repeats} ok",
                (xs[i], yv if np.isfinite(yv) else ax.get_ylim()[0]),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=8,
                color=line.get_color(),
            )
    ax.set_xlabel(x)
    ax.set_ylabel(f"{stat} of {var}")
    if hue is not None:
        ax.legend(fontsize=8)
    _curve_title(ax, s, stat, var, q)
    return ax


def _curve_title(ax: Any, s: _Selection, stat: str, var: str, q: Any) -> None:
    what = "" if q is None else f", band: quantiles {q[0]:g}-{q[1]:g}"
    note = s.note()
    ax.set_title(
        f"{s.kind}{stat} of {var} over {s.repeats} repeats{what}" + (f"\n{note}" if note else ""),
        fontsize=10,
    )


def _trajectories(
    ds: Any,
    x: str,
    var: str,
    stat: str,
    q: tuple[float, float] | None,
    hue: str | None,
    sel: Mapping[str, Any] | None,
    ax: Any,
    logx: bool | None,
    logy: bool | None,
) -> Any:
    """``curve`` along the snapshots: one line per hue value, its x the runs' times."""
    if not isinstance(ds, _xarray().Dataset):
        raise TypeError(f"ds must be an xarray.Dataset from ttnn.sweep, got {type(ds).__name__}")
    if "snapshot" not in ds.dims:
        raise ValueError(
            f"{_ds()} holds no trajectories: sweep with snapshots > 2 to store l2_path"
        )
    path = f"{var}_path" if f"{var}_path" in ds.data_vars else var
    axes = [] if hue is None else [("hue", hue)]
    s = _Selection(ds, axes, path, sel, trailing="snapshot")
    _sorted(s)
    names = [d for _, d in axes]
    along = _along(s.ds, x).broadcast_like(s.ds.status)
    times = np.asarray(along.transpose(*names, "repeat", "snapshot").values, dtype=np.float64)
    if hue is None:  # one line: a hue axis of length 1
        s.values, s.ok, s.n_ok, times = s.values[None], s.ok[None], s.n_ok[None], times[None]
        labels: list[str] = [""]
    else:
        order = np.argsort(np.asarray(s.ds[hue].values), kind="stable")
        times = times[order] if _is_numeric(np.asarray(s.ds[hue].values)) else times
        labels = [f"{hue} = {_label(v)}" for v in s.coords[0]]
    lines = []
    for j, label in enumerate(labels):
        ok = np.flatnonzero(s.ok[j])
        if ok.size == 0:
            continue  # no ok run of this hue: the title says they were left out
        t = times[j, ok]
        # Runs of one cell share their settings, hence their snapshot times.
        if not np.allclose(t, t[:1], rtol=1e-12, atol=0.0, equal_nan=True):
            raise ValueError(f"the ok runs of {label or 'the selection'} differ in their {x}")
        xs = t[0]
        keep = np.isfinite(xs)  # a shorter run's padding holds no time
        y = s.values[j][keep]  # (snapshot, repeat)
        z = _STAT_FN[stat](y[:, ok], axis=-1)
        band = None if q is None else np.nanquantile(y[:, ok], q, axis=-1)
        missing = s.repeats - ok.size
        text = label + (f" ({ok.size}/{s.repeats} ok)" if missing else "")
        lines.append((xs[keep], z, band, text))
    ax = _new_axes(ax, (6.4, 4.2))
    all_x = np.concatenate([ln[0] for ln in lines])
    all_y = np.concatenate([ln[1] for ln in lines])
    if _auto_log(all_x, logx, "logx"):
        ax.set_xscale("log")
    if _auto_log(all_y, logy, "logy", span=10.0 + 1e-12):
        ax.set_yscale("log")
    for xs, z, band, text in lines:
        (line,) = ax.plot(xs, z, label=text or None)
        if band is not None:
            ax.fill_between(xs, band[0], band[1], color=line.get_color(), alpha=0.25, lw=0)
    ax.set_xlabel(f"{x} (slow time)" if x in ("tau", _slow_name(ds)) else x)
    ax.set_ylabel(f"{stat} of {path}")
    if any(text for *_, text in lines):
        ax.legend(fontsize=8)
    _curve_title(ax, s, stat, path, q)
    return ax
