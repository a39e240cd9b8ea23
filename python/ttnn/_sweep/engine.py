"""``ttnn.sweep``: many runs over a grid of settings, in-process or on Dask.

Before anything runs or is written, every grid cell's settings go through the
public functions' validators (:func:`runs.check_run`): a value that no run can
accept is an error naming the key and the value. Runs are then grouped by what
must be shared by one ensemble call and cut into chunks sized from a time
budget (a few seconds of work, measured as the sweep goes); each chunk is one
call of the C++ ensemble (OpenMP over its runs) in this process, or one Dask
task. Every chunk is written to the store as soon as it finishes, so an
interruption loses at most the chunks in flight. A run's result depends only
on its settings and seeds, never on its chunk, the thread count or the
backend. See docs/guide/sweeps.md.
"""

from __future__ import annotations

import os
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from .. import _validate as check
from .dataset import Table, require
from .runs import Record, RunPayload, check_run, run_chunk
from .spec import Run, Spec, call_key, kind_class, make_spec
from .store import Store

#: Wall seconds of work per chunk (after the first ones, which measure the rate): a
#: chunk is written when it ends, so an interruption loses at most this much per
#: chunk in flight, while the per-call costs (barrier, store write) stay small.
BUDGET = 2.0
#: Largest chunk, whatever the budget: bounds a chunk's memory and its results.
MAX_CHUNK = 4096


@dataclass
class Outcome:
    """What a sweep did: its Dataset, the runs skipped (already stored) and run now,
    the runs found damaged in the store (run again) and taken over by an extension."""

    dataset: Any
    skipped: int
    ran: int
    counts: dict[str, int]
    damaged: int = 0
    reused: int = 0


def _payload(runs: list[Run]) -> list[RunPayload]:
    return [(r.settings, r.init_seed, r.seed) for r in runs]


def _refused(exc: BaseException) -> Record:
    return {
        "status": "refused",
        "message": f"{type(exc).__name__}: {exc}",
        "diverged_step": -1,
        "wall_time": 0.0,
    }


def validate(spec: Spec) -> dict[tuple[int, ...], dict[str, Any] | Record]:
    """Check every grid cell (its runs differ only by their seeds): its checked values,
    or the record of a refused run when only some cells fail. A grid value that fails
    in every cell holding it, or settings that fail everywhere, raise here."""
    info: dict[tuple[int, ...], dict[str, Any] | Record] = {}
    errors: dict[tuple[int, ...], BaseException] = {}
    for r in spec.runs:
        if r.repeat:
            continue
        cell = r.index[:-1]
        try:
            info[cell] = check_run(spec.kind, r.settings)
        except (ValueError, TypeError) as exc:
            errors[cell] = exc
            info[cell] = _refused(exc)
    if not errors:
        return info
    if len(errors) < len(info):
        for i, (key, values) in enumerate(spec.grid.items()):
            for j, value in enumerate(values):
                mine = [c for c in info if c[i] == j]
                if all(c in errors for c in mine):
                    err = errors[mine[0]]
                    raise type(err)(
                        f"grid[{key!r}] value {value!r} is refused by every run: {err}"
                    ) from None
        return info
    err = next(iter(errors.values()))
    raise type(err)(str(err) if not spec.grid else f"every run is refused: {err}") from None


class Planner:
    """Hands out chunks of runs sharing one ensemble call, sized so that a chunk takes
    about ``budget`` wall seconds at the rate measured on the chunks done so far (at
    least ``least`` runs, so that every thread has a run; exactly ``fixed`` runs when
    the caller chose the size)."""

    def __init__(
        self,
        spec: Spec,
        todo: list[Run],
        cost: dict[tuple[int, ...], float],
        least: int,
        fixed: int | None,
        guess: float | None = None,
        budget: float = BUDGET,
    ) -> None:
        groups: dict[str, deque[Run]] = {}
        for r in todo:
            groups.setdefault(call_key(spec, r), deque()).append(r)
        self.queues = deque(groups.values())
        self.cost = cost
        self.least, self.fixed, self.budget = max(1, least), fixed, budget
        self.seconds = 0.0
        self.units = 0.0
        self.guess = guess

    def measured(self, runs: list[Run], seconds: float) -> None:
        """A chunk of ``runs`` took ``seconds`` of wall time (in its own call)."""
        self.seconds += seconds
        self.units += sum(self.cost[r.index[:-1]] for r in runs)

    def __bool__(self) -> bool:
        return bool(self.queues)

    def _fill(self, q: deque[Run], rate: float, budget: float) -> int:
        """Runs from the front of ``q`` for ``budget`` seconds at ``rate`` s per unit."""
        size, total = 0, 0.0
        for r in q:
            if size >= MAX_CHUNK or (size >= self.least and total >= budget):
                break
            total += self.cost[r.index[:-1]] * rate
            size += 1
        return size

    def next(self) -> list[Run]:
        q = self.queues[0]
        if self.fixed is not None:
            size = self.fixed
        elif self.units > 0 and self.seconds > 0:
            size = self._fill(q, self.seconds / self.units, self.budget)
        elif self.guess is not None:
            # The first chunk measures the rate: a quarter of the budget at a guessed
            # rate, so that a study of millisecond runs is not cut into tiny calls.
            size = self._fill(q, self.guess, self.budget / 4)
        else:
            size = self.least
        out = [q.popleft() for _ in range(min(max(size, 1), len(q)))]
        if not q:
            self.queues.popleft()
        return out


class Progress:
    """The sweep's progress in work units (steps, epochs, ODE time) over the runs to
    do, with the count of stored runs: a tqdm bar, a callable(done, total), or nothing."""

    def __init__(
        self, choice: Any, kind: str, total: float, stored: int, runs: int, store: bool
    ) -> None:
        self.total = total
        self.word = "stored" if store else "done"
        self.done = 0.0
        self.stored, self.runs = stored, runs
        self.call: Callable[[float, float], None] | None = None
        self.bar: Any = None
        if choice is True:
            unit = kind_class(kind).sweep_unit
            self.bar = tqdm(total=total, unit=unit, desc=f"sweep {kind}", bar_format=self._format())
        elif callable(choice):
            self.call = choice

    def _format(self) -> str:
        # Percent of the work, then the runs safe in the store (or in the Dataset).
        stored = f"{self.stored}/{self.runs} runs {self.word}"
        return "{l_bar}{bar}| " + stored + " [{elapsed}<{remaining}]"

    def _postfix(self) -> None:
        self.bar.bar_format = self._format()

    def at(self, done: float) -> None:
        """``done`` work units of the runs to do are done (finished or under way)."""
        self.done = min(done, self.total)
        if self.bar is not None:
            self.bar.update(self.done - self.bar.n)
        if self.call is not None:
            self.call(self.done, self.total)

    def finished(self, runs: int, done: float) -> None:
        self.stored += runs
        if self.bar is not None:
            self._postfix()
        self.at(done)

    def tick(self) -> None:
        """Move the clock while nothing finishes (Dask)."""
        if self.bar is not None:
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _local(
    spec: Spec,
    plan: Planner,
    threads: int | None,
    work: Callable[[list[Run]], float],
    bar: Progress,
) -> Iterator[tuple[list[Run], list[Record]]]:
    while plan:
        c = plan.next()
        base, size = bar.done, work(c)

        def within(fraction: float, base: float = base, size: float = size) -> None:
            bar.at(base + fraction * size)

        start = time.perf_counter()
        shown = bar.bar is not None or bar.call is not None
        records = run_chunk(spec.kind, _payload(c), threads, within if shown else None)
        plan.measured(c, time.perf_counter() - start)
        yield c, records


def _dask(
    spec: Spec, plan: Planner, client: Any, threads: int | None, bar: Progress
) -> Iterator[tuple[list[Run], list[Record]]]:
    distributed = require("distributed")
    # Two tasks per worker thread in flight: a worker never waits for the next one.
    slots = max(2, 2 * sum(client.nthreads().values()))
    futures: dict[Any, list[Run]] = {}
    try:
        while plan or futures:
            while plan and len(futures) < slots:
                c = plan.next()
                fut = client.submit(run_chunk, spec.kind, _payload(c), threads or 1, pure=False)
                futures[fut] = c
            try:
                done, _ = distributed.wait(
                    list(futures), timeout=0.5, return_when="FIRST_COMPLETED"
                )
            except TimeoutError:  # nothing finished: keep the bar's clock moving
                bar.tick()
                continue
            for fut in done:
                c = futures.pop(fut)
                records = fut.result()
                plan.measured(c, sum(r["wall_time"] for r in records))
                yield c, records
    finally:
        client.cancel(list(futures))


def run_sweep(
    kind: str,
    grid: Mapping[str, Any] | None,
    repeats: int,
    seed: int = 0,
    store: str | os.PathLike[str] | None = None,
    client: Any = None,
    chunk: int | None = None,
    threads: int | None = None,
    progress: Any = False,
    paired: bool = True,
    settings: Mapping[str, Any] | None = None,
    fresh: bool = False,
) -> Outcome:
    """``ttnn.sweep`` with the counts the command line reports. ``fresh=True`` deletes
    the zarr store at ``store`` first (``ttnn sweep --fresh``)."""
    from .._version import __version__

    spec = make_spec(kind, grid, repeats, seed, settings or {}, paired)
    nthreads = None if threads is None else check.threads(threads)
    if chunk is not None:
        chunk = check.integer("chunk", chunk, minimum=1)
    choice = check.progress(progress)
    if not isinstance(fresh, bool):
        raise TypeError(f"fresh must be True or False, got {fresh!r}")
    require("xarray")
    info = validate(spec)  # raises before anything is allocated or written
    table = Table(spec)
    st = None if store is None else Store(store, table, __version__, fresh=fresh)
    try:
        version = __version__ if st is None else st.version
        if st is not None and st.damaged:
            warnings.warn(
                f"store {str(store)!r}: {st.damaged} runs were in missing or corrupt "
                "chunks; they are run again",
                stacklevel=3,
            )
        pending = [r for r in spec.runs if not table.finished(r.index)]
        skipped = len(spec.runs) - len(pending)
        # Runs refused for their combination of values: recorded without running.
        refused = [r for r in pending if "status" in info[r.index[:-1]]]
        for r in refused:
            table.fill(r.index, info[r.index[:-1]])
        if st is not None and refused:
            st.write([r.index for r in refused])
        todo = [r for r in pending if "status" not in info[r.index[:-1]]]

        def work(runs: list[Run]) -> float:
            return float(sum(info[r.index[:-1]]["work"] for r in runs))

        cost = {c: float(v.get("cost", 0.0)) + 1.0 for c, v in info.items()}
        least = 1 if client is not None else (nthreads or os.cpu_count() or 1)
        # A neuron-step of SGD or GD takes about a nanosecond on one thread (bench/
        # RESULTS.md); guessed at twice that, so that a first chunk errs on the short
        # side. ODE time has no such rate: there the first chunk is one run a thread.
        guess = 2e-9 / least if kind_class(kind).cost_in_neuron_steps else None
        if chunk is None and client is None and st is None:
            # Nothing to keep on an interruption without a store: the fewest calls
            # (each ends with a barrier), the bar still moving within each.
            chunk = MAX_CHUNK
        plan = Planner(spec, todo, cost, least, chunk, guess)
        bar = Progress(choice, kind, work(todo), skipped, len(spec.runs), st is not None)
        try:
            if client is not None:
                results = _dask(spec, plan, client, nthreads, bar)
            else:
                results = _local(spec, plan, nthreads, work, bar)
            done = 0.0
            for runs, records in results:
                for r, rec in zip(runs, records, strict=True):
                    table.fill(r.index, rec)
                if st is not None:
                    st.write([r.index for r in runs])
                done += work(runs)
                bar.finished(len(runs), done)
        finally:
            bar.close()
        return Outcome(
            table.to_dataset(version),
            skipped,
            len(pending),
            table.counts(),
            damaged=0 if st is None else st.damaged,
            reused=0 if st is None else st.reused,
        )
    finally:
        if st is not None:
            st.close()


def sweep(
    kind: str,
    grid: Mapping[str, Any] | None = None,
    repeats: int = 1,
    seed: int = 0,
    store: str | os.PathLike[str] | None = None,
    client: Any = None,
    chunk: int | None = None,
    threads: int | None = None,
    progress: Any = False,
    paired: bool = True,
    fresh: bool = False,
    **settings: Any,
) -> Any:
    """Run ``repeats`` runs of ``kind`` at every point of ``grid``; return an xarray.Dataset.

    ``kind`` is "sgd" (:func:`ttnn.sgd`), "flow" (:func:`ttnn.gradient_flow`),
    "limit" (:func:`ttnn.two_timescale_limit`), "gd" (:func:`ttnn.full_batch_gd`
    of an :class:`ttnn.AdditiveNetwork` on a fresh batch per repeat) or "circle"
    (:func:`ttnn.circle.train` against one teacher: ``gamma``, ``particles``,
    ``teacher_seed``). ``grid``
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

    Every grid cell is checked before anything runs or is written: a value that
    no run can accept raises ``ValueError``/``TypeError`` naming the key and the
    value. A run that diverges, or whose combination of values is rejected, is
    recorded in ``status`` ("diverged", "refused", with ``message``) and never
    stops the others.

    ``store="runs.zarr"`` writes runs as they finish (a chunk at a time, each a
    few seconds of work), resumes a sweep already stored there (finished runs
    are not run again, damaged ones are), and extends it when the sweep adds
    repeats or grid values to the stored one; ``fresh=True`` deletes the store
    first. ``progress=True`` shows a bar in work units (steps, epochs, ODE
    time) with the count of stored runs; a callable gets ``(done, total)`` in
    those units. ``chunk`` fixes the runs per ensemble call (default: sized
    from a time budget). The dataset's variables and attributes are described
    in docs/guide/sweeps.md.
    """
    return run_sweep(
        kind,
        grid,
        repeats,
        seed,
        store,
        client,
        chunk,
        threads,
        progress,
        paired,
        settings,
        fresh=fresh,
    ).dataset
