"""The ``ttnn`` command line (also ``python -m ttnn``)."""

from __future__ import annotations

import argparse
import errno
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from tqdm import tqdm

from .diagnostics import breaks_covered
from .network import Network
from .sgd import sgd
from .target import PiecewiseConstant


def demo(seeds: int, target: str) -> int:
    """E1 at the quick scale (h = 1e-3, 1.75e6 steps) against E2 (ε = 1), a few seeds."""
    tgt = PiecewiseConstant.paper(target)
    eta = 4e-3
    settings: dict[str, dict[str, Any]] = {
        "E1 two-timescale (eps=2e-5, h=1e-3, tau=0.035)": dict(eps=2e-5, h=1e-3, steps=1_750_000),
        "E2 standard      (eps=1,    h=1e-5, tau=10)   ": dict(eps=1.0, h=1e-5, steps=1_000_000),
    }
    print(f"target {tgt}; m = 20, eta = {eta}, noise U[-1, 1]; {seeds} seeds per setting")
    for name, kw in settings.items():
        start = time.perf_counter()
        finals, covered = [], []
        for s in tqdm(range(seeds), desc=name.split()[0], leave=False):
            res = sgd(Network.init(20, eta, seed=s), tgt, seed=1000 + s, **kw)
            assert res.l2 is not None  # a target was given, so the loss was recorded
            finals.append(res.l2[-1])
            covered.append(int(breaks_covered(res.final, tgt).sum()))  # within 2η
        dt = time.perf_counter() - start
        print(
            f"{name}: median final L2 error {np.median(finals):.4f} "
            f"(min {np.min(finals):.4f}, max {np.max(finals):.4f}); "
            f"breaks covered per seed {covered} of {len(tgt.breaks)}; "
            f"{kw['steps'] * seeds / dt / 1e6:.1f} M steps/s"
        )
    return 0


#: Most seeds ``demo`` runs (each is a full E1 and E2 run).
MAX_DEMO_SEEDS = 10_000


class UsageError(Exception):
    """A bad command line: one line on stderr, exit code 2."""


#: The optional dependencies of each command, and the extra that installs them.
EXTRAS = {
    "xarray": "sweep",
    "zarr": "sweep",
    "dask": "sweep",
    "distributed": "sweep",
    "tomli": "sweep",
}


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No abbreviations: "--seed 3" must not be read as "--seeds 3" (subparsers are
        # made by this class too, so every command gets it).
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    # One line instead of argparse's usage block; main turns it into exit 2.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


def missing_extra(exc: ImportError) -> str | None:
    """The line for an ImportError of an optional dependency (None for any other)."""
    name = exc.name or getattr(exc.__cause__, "name", None) or ""
    top = name.split(".")[0]
    if top not in EXTRAS:
        return None
    extra = EXTRAS[top]
    return (
        f"{top} is not installed: it comes with the {extra!r} extra; from the ttnn "
        f'source directory run pip install ".[{extra}]"'
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; every error ends as one line on stderr.

    Exit codes: 0 success, 2 a user error (bad option or argument value, an
    unusable --out, a missing extra, named with its pip line), 1 a failure to
    write the results (disk full, directory made unwritable meanwhile), 130
    Ctrl-C. ``TTNN_TRACEBACK=1`` shows the traceback instead. Subcommands
    raise; they never print their own errors.
    """
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("ttnn: interrupted", file=sys.stderr)
        return 130
    except (UsageError, ValueError, TypeError) as exc:
        if os.environ.get("TTNN_TRACEBACK"):
            raise
        print(
            f"ttnn: error: {exc}" if not str(exc).startswith("ttnn") else str(exc), file=sys.stderr
        )
        return 2
    except ImportError as exc:
        line = missing_extra(exc)
        if line is None or os.environ.get("TTNN_TRACEBACK"):
            raise
        print(f"ttnn: error: {line}", file=sys.stderr)
        return 2
    except OSError as exc:
        if os.environ.get("TTNN_TRACEBACK"):
            raise
        why = exc.strerror or str(exc)
        where = f" {exc.filename}" if exc.filename else ""
        hint = " (disk full)" if exc.errno == errno.ENOSPC else ""
        print(f"ttnn: error: cannot write{where}: {why}{hint}", file=sys.stderr)
        return 1


def _main(argv: Sequence[str] | None) -> int:
    from ._version import __version__

    parser = _Parser(
        prog="ttnn",
        description="Shallow networks in the two-timescale regime: a quick demo, the "
        "paper's figures, sweeps. 'ttnn COMMAND -h' for a command's options.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    # No subcommand is not an error: ``ttnn`` alone prints the help (exit 0).
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_demo = sub.add_parser("demo", help="E1 (two-timescale) vs E2 (standard) SGD, quick scale")
    p_demo.add_argument("--seeds", type=int, default=5, help="seeds per setting (default 5)")
    p_demo.add_argument(
        "--target",
        choices=["code", "text"],
        default="code",
        help="target values: the authors' code (default) or the paper's text",
    )
    from . import reproduce

    p_rep = sub.add_parser(
        "reproduce",
        help="the paper's figures and metrics.json (E1-E5; 'all' for all of them)",
        description=(
            "Run the paper's experiments (docs/maths/experiments.md), write their PNGs (and\n"
            "fig3's GIF), metrics.json and claims.md to --out, print each experiment's wall\n"
            "time. An --out holding results keeps them: the experiments run replace their\n"
            "entries, the others stay. One --out holds one scale, seed and target.\n\n"
            + "\n".join(f"  {n:5s} {e.description}" for n, e in reproduce.EXPERIMENTS.items())
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_rep.add_argument(
        "experiments",
        nargs="+",
        choices=[*reproduce.EXPERIMENTS, "all"],
        metavar="EXPERIMENT",
        help=f"one or more of {', '.join(reproduce.EXPERIMENTS)}, or 'all' (the paper's: "
        + ", ".join(n for n, e in reproduce.EXPERIMENTS.items() if e.in_all)
        + ")",
    )
    p_rep.add_argument(
        "--scale",
        choices=["paper", "quick"],
        default="paper",
        help="'paper' (the paper's step sizes, default) or 'quick' (larger h, fewer repeats)",
    )
    p_rep.add_argument("--out", default="reproduce-out", help="output directory")
    p_rep.add_argument("--seed", type=int, default=0, help="base seed (default 0, >= 0)")
    p_rep.add_argument(
        "--target",
        choices=["code", "text"],
        default="code",
        help="E1-E3 target values: the authors' code (default) or the paper's text",
    )
    from ._sweep import cli as sweep_cli
    from ._sweep import plot_cli

    p_sweep = sweep_cli.add_parser(sub)
    plot_cli.add_parser(sub)
    args = parser.parse_args(argv)
    if args.version:
        print(f"ttnn {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "sweep":
        _check_out(p_sweep, args.out)
        return sweep_cli.main(args)
    if args.command == "plot":
        return plot_cli.main(args)
    if args.command == "demo":
        if not 1 <= args.seeds <= MAX_DEMO_SEEDS:
            parser.error(f"--seeds must be in [1, {MAX_DEMO_SEEDS}], got {args.seeds}")
        return demo(args.seeds, args.target)
    if args.command == "reproduce":
        max_seed = reproduce.experiments.MAX_SEED
        if not 0 <= args.seed <= max_seed:
            p_rep.error(f"--seed must be in [0, {max_seed}], got {args.seed}")
        _check_out(p_rep, args.out)
        try:
            reproduce.run(
                args.experiments,
                args.scale,
                args.out,
                args.seed,
                args.target,
                progress=sys.stderr.isatty(),
                verbose=True,
            )
        except KeyboardInterrupt:
            # The core stops within a second of Ctrl-C; a message beats a traceback.
            print(
                "ttnn reproduce: interrupted; metrics.json lists only experiments whose "
                "files are complete",
                file=sys.stderr,
            )
            return 130
        return 0
    return 2  # pragma: no cover (argparse rejects unknown commands)


def _check_out(parser: argparse.ArgumentParser, out: str) -> None:
    """--out must name a directory we can create or write into."""
    if out.strip() == "":
        parser.error("--out must name a directory, got ''")
    path = Path(out)
    if path.exists() and not path.is_dir():
        parser.error(f"--out {out!r} exists and is not a directory")
    existing = path if path.exists() else next(p for p in path.absolute().parents if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        parser.error(f"--out {out!r} is not writable ({existing} denies writing)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
