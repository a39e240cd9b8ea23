"""``ttnn.sweep``: many runs over a grid of settings, in-process or on Dask.

Runs are grouped by what must be shared by one ensemble call, then cut into
chunks of at most ``chunk`` runs; each chunk is one call of the C++ ensemble
(OpenMP over its runs) in this process, or one Dask task on a worker. A run's
result depends only on its settings and seeds, never on its chunk, the thread
count or the backend. See docs/guide/sweeps.md.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from .. import _validate as check
from .dataset import Table, require
from .runs import RunPayload, run_chunk
from .spec import Run, Spec, call_key, make_spec
from .store import Store


@dataclass
class Outcome:
    """What a sweep did: its Dataset, the runs skipped (already stored) and run now."""

    dataset: Any
    skipped: int
    ran: int
    counts: dict[str, int]


def _chunks(spec: Spec, todo: list[Run], chunk: int) -> list[list[Run]]:
    groups: dict[str, list[Run]] = {}
    for r in todo:
        groups.setdefault(call_key(spec, r), []).append(r)
    out: list[list[Run]] = []
    for runs in groups.values():
        out.extend(runs[i : i + chunk] for i in range(0, len(runs), chunk))
    return out


def _payload(runs: list[Run]) -> list[RunPayload]:
    return [(r.settings, r.init_seed, r.seed) for r in runs]


def _local(
    spec: Spec, chunks: list[list[Run]], threads: int | None, bar: Any
) -> Iterator[tuple[list[Run], list[dict]]]:
    for c in chunks:
        # The bar counts runs; within a chunk it moves with the core's step count.
        base = bar.n

        def within(fraction: float, base: float = base, size: int = len(c)) -> None:
            bar.update(base + fraction * size - bar.n)

        yield c, run_chunk(spec.kind, _payload(c), threads, within if not bar.disable else None)


def _dask(
    spec: Spec, chunks: list[list[Run]], client: Any, threads: int | None
) -> Iterator[tuple[list[Run], list[dict]]]:
    distributed = require("distributed")
    futures = {}
    for c in chunks:
        fut = client.submit(run_chunk, spec.kind, _payload(c), threads or 1, pure=False)
        futures[fut] = c
    try:
        for fut in distributed.as_completed(futures):
            yield futures[fut], fut.result()
    finally:
        client.cancel([f for f in futures if not f.done()])


def run_sweep(
    kind: str,
    grid: Mapping[str, Any] | None,
    repeats: int,
    seed: int = 0,
    store: str | os.PathLike[str] | None = None,
    client: Any = None,
    chunk: int | None = None,
    threads: int | None = None,
    progress: bool = False,
    paired: bool = True,
    settings: Mapping[str, Any] | None = None,
) -> Outcome:
    """``ttnn.sweep`` with the counts the command line reports."""
    from .. import __version__

    spec = make_spec(kind, grid, repeats, seed, settings or {}, paired)
    nthreads = None if threads is None else check.threads(threads)
    if chunk is not None:
        chunk = check.integer("chunk", chunk, minimum=1)
    require("xarray")
    table = Table(spec)
    st = None if store is None else Store(store, table, __version__)
    version = __version__ if st is None else st.version
    todo = [r for r in spec.runs if not table.finished(r.index)]
    skipped = len(spec.runs) - len(todo)
    if chunk is None:
        # Locally about 8 chunks (each call ends with a barrier: fewer calls, less
        # waiting; still progress and store writes along the way); on Dask about 16,
        # so that workers finishing early take more.
        parts, cap = (16, 256) if client is not None else (8, 1024)
        chunk = max(1, min(cap, math.ceil(len(todo) / parts)))
    chunks = _chunks(spec, todo, chunk)
    with tqdm(
        total=len(todo),
        disable=not progress,
        unit="run",
        desc=f"sweep {kind}",
        # Whole runs shown, though the bar moves by fractions within long runs.
        bar_format="{l_bar}{bar}| {n:.0f}/{total} runs [{elapsed}<{remaining}]",
    ) as bar:
        if client is not None:
            results = _dask(spec, chunks, client, nthreads)
        else:
            results = _local(spec, chunks, nthreads, bar)
        done = 0
        for runs, records in results:
            for r, rec in zip(runs, records, strict=True):
                table.fill(r.index, rec)
            if st is not None:
                st.write([r.index for r in runs])
            done += len(runs)
            bar.update(done - bar.n)
    return Outcome(table.to_dataset(version), skipped, len(todo), table.counts())


def sweep(
    kind: str,
    grid: Mapping[str, Any] | None = None,
    repeats: int = 1,
    seed: int = 0,
    store: str | os.PathLike[str] | None = None,
    client: Any = None,
    chunk: int | None = None,
    threads: int | None = None,
    progress: bool = False,
    paired: bool = True,
    **settings: Any,
) -> Any:
    """Run ``repeats`` runs of ``kind`` at every point of ``grid``; return an xarray.Dataset.

    ``kind`` is "sgd" (:func:`ttnn.sgd`), "flow" (:func:`ttnn.gradient_flow`),
    "limit" (:func:`ttnn.two_timescale_limit`) or "gd" (:func:`ttnn.full_batch_gd`
    of an :class:`ttnn.AdditiveNetwork` on a fresh batch per repeat). ``grid``
    maps settings to lists of values (one dimension each, in order); the other
    settings are fixed by keyword (``m``, ``eta``, ``activation``, ``target``,
    ``h``, ``eps``, ``steps`` or ``tau``, ``noise``, ``snapshots``, …: the
    arguments of the underlying function). ``tau`` sets the length in slow
    time: steps = round(tau/(eps h)) for SGD, t_end = tau/eps for the flow,
    tau_end = tau for the limit.

    Each run has its own ``init_seed`` (for ``Network.init``) and ``seed`` (for
    the dynamics), a hash of ``seed`` and the run's repeat (and, with
    ``paired=False``, of its grid values too): with ``paired=True`` (default)
    all cells of one repeat start from the same draw, a paired design.
    Chunking (``chunk`` runs per ensemble call), ``threads`` and the backend
    (``client=``, a ``dask.distributed.Client``) never change a result.

    A run that diverges or whose arguments are rejected is recorded in
    ``status`` ("diverged", "refused", with ``message``) and never stops the
    others. ``store="runs.zarr"`` writes runs as they finish and resumes a
    sweep already stored there (finished runs are not run again). The dataset's
    variables and attributes are described in docs/guide/sweeps.md.
    """
    return run_sweep(
        kind, grid, repeats, seed, store, client, chunk, threads, progress, paired, settings
    ).dataset
