"""``ttnn plot phase|success|curve runs.zarr --x eps [--y m] ...``: a figure of a sweep's store.

The store is read as a resume reads it: a sweep still running or interrupted
is fine (its pending runs are left out, and said), and the runs of a missing
or corrupt chunk count as pending, never as ok (rerun ttnn sweep to run them
again). A store with nothing ok left to draw, or whose metadata cannot be
read, is an error (exit 2). The figure is
one of :mod:`ttnn.plot`'s, written to ``--out`` (any format matplotlib knows
by the suffix). ``curve --x tau`` (or ``step``, ``t``, ``snapshot``) draws the
stored learning curves, ``l2`` along the snapshots (a sweep with snapshots > 2).
See docs/guide/sweeps.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._help import plain

KINDS = ("phase", "success", "curve")


def add_parser(sub: Any) -> None:
    """Register the ``plot`` subcommand on ``sub`` (argparse subparsers)."""
    p = sub.add_parser(
        "plot",
        help="a phase diagram, success map or curve of a sweep's zarr store",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("kind", choices=KINDS, help="phase diagram, success map or curve")
    p.add_argument("store", help="the sweep's zarr store (from ttnn sweep --out)")
    p.add_argument(
        "--x",
        required=True,
        help="swept dimension along x; for curve also tau, step, t or snapshot (the stored "
        "learning curves)",
    )
    p.add_argument("--y", help="swept dimension along y (phase, success)")
    p.add_argument("--var", default="l2", help="per-run variable (phase, curve; default l2)")
    p.add_argument(
        "--stat", default="median", help="median, mean, min or max over repeats (default median)"
    )
    p.add_argument("--hue", help="curve: one line per value of this swept dimension")
    p.add_argument(
        "--sel",
        action="append",
        default=[],
        metavar="DIM=VALUE",
        help="fix another swept dimension (repeatable)",
    )
    p.add_argument("--out", help="the figure file (default: KIND.png)")


def _coerce(ds: Any, dim: str, text: str) -> Any:
    """The value of coordinate ``dim`` written as ``text``, in the coordinate's type."""
    import numpy as np

    if dim not in ds.coords:
        return text  # ttnn.plot names the bad key
    kind = np.asarray(ds[dim].values).dtype.kind
    try:
        if kind in "iu":
            return int(text)
        if kind == "f":
            return float(text)
    except ValueError:
        raise ValueError(f"--sel {dim}={text}: {dim} takes numbers") from None
    return text


def _sel(ds: Any, items: list[str]) -> dict[str, Any] | None:
    out = {}
    for item in items:
        dim, eq, text = item.partition("=")
        if not eq or not dim:
            raise ValueError(f"--sel must be DIM=VALUE, got {item!r}")
        out[dim.strip()] = _coerce(ds, dim.strip(), text.strip())
    return out or None


def main(args: argparse.Namespace) -> int:
    """Draw and write the figure; user errors raise ValueError (one line, exit 2)."""
    from .. import plot
    from .._io import save_figure
    from .dataset import require
    from .store import read

    require("xarray")
    require("zarr")  # open_zarr needs it: one line naming the extra, before anything else
    require("matplotlib")
    store = Path(args.store)
    if not (store / "zarr.json").exists():
        raise ValueError(f"{args.store!r} is not a zarr store (make one with ttnn sweep --out)")
    if args.kind in ("phase", "success") and args.y is None:
        raise ValueError(f"ttnn plot {args.kind} needs --y")
    if args.kind != "curve" and args.hue is not None:
        raise ValueError("--hue is for ttnn plot curve")
    if args.kind == "curve" and args.y is not None:
        raise ValueError("ttnn plot curve takes no --y (use --hue for one line per value)")
    out = Path(args.out or f"{args.kind}.png")
    # Not xarray.open_zarr: a missing chunk reads as its fill value there (a lost
    # status as "", a lost l2 as NaN of an "ok" run), and the figure would be NaN.
    ds, damaged = read(store)
    sel = _sel(ds, args.sel)
    with plot._cli_syntax():  # the errors' hints in command-line syntax (--sel m=5)
        if args.kind == "phase":
            ax = plot.phase_diagram(ds, args.x, args.y, args.var, args.stat, sel=sel)
        elif args.kind == "success":
            ax = plot.success_map(ds, args.x, args.y, sel=sel)
        else:
            ax = plot.curve(ds, args.x, args.var, stat=args.stat, hue=args.hue, sel=sel)
    if damaged:
        print(
            f"ttnn plot: warning: {damaged} runs of {args.store} are in missing or corrupt "
            "chunks: drawn as pending (ttnn sweep with the same spec runs them again)",
            file=sys.stderr,
        )
    if not out.suffix:
        raise ValueError(f"--out {str(out)!r} needs a suffix naming the format (.png, .pdf, .svg)")
    save_figure(ax.figure, out, dpi=120)
    title = ax.get_title().replace("\n", "; ")
    print(f"ttnn plot: wrote {out} ({title})")
    return 0
