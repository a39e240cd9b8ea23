"""Running one chunk of a sweep: the unit of work, in-process or on a Dask worker.

A chunk is a list of runs that share one ensemble call (same kind and per-call
settings). Each run is first built and checked on its own; a run whose
arguments are rejected is *refused* (recorded with the message) and left out
of the call, so it cannot take the others down. The rest go to one ensemble
call in "record" mode: a run that diverges is recorded with its step.
Everything here takes and returns plain picklable data (dicts, NumPy arrays).

What a run of each kind is, how it is checked, built, run and recorded, lives
with the kind (:class:`ttnn._kind.Kind` and its ``sweep_*`` methods); this module
knows no kind by name.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from .._kind import Kind
from .records import ChunkProgress, Record, core_progress, failed, from_error, refused
from .spec import kind_class

#: One run as sent to a worker: (settings, init_seed, seed).
RunPayload = tuple[Mapping[str, Any], int, int]

__all__ = ["ChunkProgress", "Record", "RunPayload", "check_run", "run_chunk"]


def check_run(kind: str, s: Mapping[str, Any]) -> dict[str, Any]:
    """Check every setting of one run (ranges, combinations, memory, work) with the
    public functions' validators, allocating nothing: what the sweep does for every
    grid cell before it runs or writes anything, and what each run repeats when it is
    built. Returns ``work``, its length in the progress bar's units (SGD steps, GD
    epochs, ODE time), and ``cost``, an estimate of its time. ``ValueError``/
    ``TypeError`` name the setting."""
    run = kind_class(kind).from_sweep(s)
    return {"work": run.sweep_work, "cost": run.sweep_cost}


def _runs(cls: type[Kind]) -> Any:
    """from_sweep with a memory: the runs of one grid cell share one settings dict
    (also after pickling to a worker: one payload is one pickle), checked once."""
    memo: dict[int, Kind | Exception] = {}

    def build(s: Mapping[str, Any]) -> Kind:
        if id(s) not in memo:
            try:
                memo[id(s)] = cls.from_sweep(s)
            except (ValueError, TypeError) as exc:
                memo[id(s)] = exc
        out = memo[id(s)]
        if isinstance(out, Exception):
            raise out
        return out

    return build


def _chunk(
    cls: type[Kind],
    payload: Sequence[RunPayload],
    threads: int | None,
    progress: ChunkProgress | None,
    context: Any,
) -> list[Record]:
    records: list[Record | None] = [None] * len(payload)
    todo: list[int] = []
    pairs: list[tuple[Any, Any]] = []
    build = _runs(cls)
    for i, (s, init_seed, seed) in enumerate(payload):
        try:
            run = build(s)
            pairs.append((run, run.sweep_build(init_seed, seed, context)))
            todo.append(i)
        except (ValueError, TypeError) as exc:
            records[i] = refused(exc)
    if todo:
        outs = cls.sweep_call(pairs, context, threads, core_progress(progress))
        for i, (run, built), out in zip(todo, pairs, outs, strict=True):
            rec = (
                from_error(out)
                if isinstance(out, BaseException)
                else cls.sweep_record(run, built, out, context)
            )
            rec.update(run.sweep_always())
            records[i] = rec
    return [r if r is not None else failed("refused", "not run") for r in records]


def run_chunk(
    kind: str,
    payload: Sequence[RunPayload],
    threads: int | None,
    progress: ChunkProgress | None = None,
) -> list[Record]:
    """Run the chunk ``payload`` (runs sharing one ensemble call) and return one record
    per run, in order. ``wall_time`` is the call's wall time shared equally by its runs.
    ``progress(fraction)`` is called while the chunk runs (in this thread; not for the
    η → 0 limit, NumPy code that only reports per chunk)."""
    start = time.perf_counter()
    cls = kind_class(kind)
    try:
        context = cls.sweep_context(payload[0][0])
    except (ValueError, TypeError) as exc:
        # A per-call setting (snapshots, tolerances, noise...) was rejected: every run
        # of the call shares it, so every one is refused with its message.
        records = [refused(exc) for _ in payload]
    else:
        records = _chunk(cls, payload, threads, progress, context)
    share = (time.perf_counter() - start) / len(payload)
    for r in records:
        r["wall_time"] = share
    return records
