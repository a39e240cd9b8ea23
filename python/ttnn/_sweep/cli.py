"""``ttnn sweep SPEC.toml --out runs.zarr``: a sweep from a TOML file into a zarr store.

The spec file holds ``kind``, ``repeats``, ``seed`` (optional, default 0),
``paired`` (optional), a ``[grid]`` table of lists and a ``[settings]`` table of
fixed values (``target = "paper"`` or ``{breaks = [...], values = [...]}``,
``noise = "none"`` or ``{kind = "uniform", scale = 1.0}``). Rerunning the same
command resumes: runs already stored are skipped, runs of missing or corrupt
chunks are run again, and a spec that adds repeats or grid values to the stored
one extends the store (only the new runs run). --fresh deletes the store first.
See docs/guide/sweeps.md.
"""

from __future__ import annotations

import argparse
import importlib
import socket
import sys
import warnings
from pathlib import Path
from typing import Any

from .._help import plain

SPEC_KEYS = {"kind", "repeats", "seed", "paired", "grid", "settings"}
#: Dask's default scheduler port, for an address given without one.
DASK_PORT = 8786
#: Seconds to wait for a TCP connection to the scheduler, then for Dask's handshake.
CONNECT_TIMEOUT = 3.0
HANDSHAKE_TIMEOUT = 10.0


def read_spec(path: str | Path) -> dict[str, Any]:
    """The spec file as a dict, its top-level keys checked."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover (Python 3.10)
        import tomli as tomllib
    with open(path, "rb") as f:
        try:
            spec = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not a valid TOML file ({exc})") from None
    unknown = sorted(set(spec) - SPEC_KEYS)
    if unknown:
        raise ValueError(
            f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(SPEC_KEYS))})"
        )
    for key in ("kind", "repeats"):
        if key not in spec:
            raise ValueError(f"{path}: {key!r} is required")
    for key in ("grid", "settings"):
        if not isinstance(spec.get(key, {}), dict):
            raise ValueError(f"{path}: [{key}] must be a table")
    return spec


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register the ``sweep`` subcommand on ``sub`` (argparse subparsers); returns it."""
    p = sub.add_parser(
        "sweep",
        help="run a sweep from a TOML spec into a zarr store (resumable)",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", help="the sweep's TOML spec file")
    p.add_argument("--out", required=True, help="the zarr store (created, resumed or extended)")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="delete the zarr store at --out first and start again (default: resume or "
        "extend it; a store holding another sweep is refused)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=f"a running Dask scheduler to run the chunks on, tcp://HOST:PORT (port {DASK_PORT} "
        "when left out)",
    )
    p.add_argument("--threads", type=int, help="threads per ensemble call (default: OpenMP's)")
    p.add_argument(
        "--chunk",
        type=int,
        help="runs per ensemble call, each written to the store when it ends (default: "
        "sized for about 2 s of work, measured as the sweep goes)",
    )
    return p  # type: ignore[no-any-return]


def scheduler_address(address: str) -> tuple[str, str, int]:
    """``(address for Dask, host, port)`` of a ``--scheduler`` value; ValueError if it is
    not a TCP address (the one protocol checked before connecting)."""
    proto, sep, rest = address.strip().rpartition("://")
    if not sep:
        proto, rest = "tcp", address.strip()
    host, colon, port_text = rest.rpartition(":")
    if not colon:
        host, port_text = rest, str(DASK_PORT)
    host = host.strip("[]")
    if proto != "tcp" or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(
            f"--scheduler {address!r} is not the address of a Dask scheduler "
            f"(tcp://HOST:PORT, e.g. tcp://127.0.0.1:{DASK_PORT})"
        )
    url = f"tcp://{rest}" if colon else f"tcp://{rest}:{DASK_PORT}"
    return url, host, int(port_text)


def connect(address: str) -> Any:
    """A ``distributed.Client`` on the scheduler at ``address``, or a ValueError naming it
    within seconds (Dask's own default is to retry for 30 s, then fail on the first use)."""
    distributed = importlib.import_module("distributed")
    url, host, port = scheduler_address(address)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        raise ValueError(
            f"--scheduler {address!r}: no Dask scheduler answers there ({why})"
        ) from None
    try:
        return distributed.Client(url, timeout=HANDSHAKE_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise ValueError(
            f"--scheduler {address!r}: {url} answers but is not a Dask scheduler ({exc})"
        ) from None


def _one_line(message: Warning | str, *_: Any, **__: Any) -> None:
    print(f"ttnn sweep: warning: {message}", file=sys.stderr)


def main(args: argparse.Namespace) -> int:
    """Run the sweep; 130 on Ctrl-C (finished runs stay in the store), 2 on a bad spec,
    a missing extra or an unreachable scheduler."""
    from .engine import run_sweep

    # The extra first: without it nothing below can work (one line, exit 2: ttnn.cli).
    for module in ("xarray", "zarr", *(("distributed",) if args.scheduler else ())):
        importlib.import_module(module)
    try:
        spec = read_spec(args.spec)
    except (OSError, ValueError) as exc:
        print(f"ttnn sweep: error: {exc}", file=sys.stderr)
        return 2
    client = None
    try:
        if args.scheduler:
            client = connect(args.scheduler)
        with warnings.catch_warnings():
            # The engine's warnings (runs of a damaged store run again) as one line each.
            warnings.showwarning = _one_line
            out = run_sweep(
                spec["kind"],
                spec.get("grid", {}),
                spec["repeats"],
                spec.get("seed", 0),
                store=args.out,
                client=client,
                chunk=args.chunk,
                threads=args.threads,
                progress=sys.stderr.isatty(),
                paired=spec.get("paired", True),
                settings=spec.get("settings", {}),
                fresh=args.fresh,
            )
    except KeyboardInterrupt:
        print(
            f"ttnn sweep: interrupted; finished runs are in {args.out}, "
            "rerun the same command to resume",
            file=sys.stderr,
        )
        return 130
    except (ValueError, TypeError) as exc:
        print(f"ttnn sweep: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if client is not None:
            client.close()
    c = out.counts
    again = f" ({out.damaged} of them again: their chunks were lost)" if out.damaged else ""
    print(
        f"ttnn sweep: {out.skipped} runs skipped (already in {args.out}), {out.ran} run{again}; "
        f"{c['ok']} ok, {c['diverged']} diverged, {c['refused']} refused"
        + (f", {c['step_limit']} stopped at max_steps" if c["step_limit"] else "")
    )
    return 0
