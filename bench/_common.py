"""What every bench script shares: timing (medians of repeats, methods taking turns), the
machine and load description, and the sections of RESULTS.md.

Clocks: ``time.perf_counter`` (wall) where threads run in parallel or a peer runs in another
process; ``time.thread_time`` (this thread's CPU time) where every method runs on the calling
thread, since on a shared machine wall time also counts the slices other processes take;
``time.process_time`` (all threads' CPU time) to show that splitting work adds none.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

HERE = Path(__file__).resolve().parent
# Smoke runs of the scripts point this elsewhere so that RESULTS.md keeps the measured tables.
RESULTS = Path(os.environ.get("TTNN_BENCH_RESULTS", HERE / "RESULTS.md"))

THREAD_VARS = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread(keep: Sequence[str] = ()) -> None:
    """One thread for OpenMP (ttnn), Numba and BLAS, so that ttnn and its peers compare on
    one core. Call it before NumPy, Numba or ttnn is imported (each reads its variable once,
    at import); this module imports none of them. ``keep`` names variables left alone."""
    for var in THREAD_VARS:
        if var not in keep:
            os.environ[var] = "1"


Clock = Callable[[], float]
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

# ---------------------------------------------------------------------------------------------
# Timing


def timed(run: Callable[[], T], clock: Clock = time.perf_counter) -> tuple[float, T]:
    """Seconds one call of ``run`` takes on ``clock``, and what it returned."""
    t0 = clock()
    out = run()
    return clock() - t0, out


def wall_and_cpu(run: Callable[[], T]) -> tuple[float, float, T]:
    """Wall seconds and CPU seconds (all threads of this process) of one call of ``run``, and
    what it returned: on a loaded machine the CPU time is closer to an unloaded wall time."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = run()
    return time.perf_counter() - w0, time.process_time() - c0, out


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def median_time(run: Callable[[], object], repeats: int, clock: Clock = time.perf_counter) -> float:
    """Median seconds of ``repeats`` calls of ``run``."""
    return median([timed(run, clock)[0] for _ in range(repeats)])


def per_call(run: Callable[[], object], n: int, clock: Clock = time.perf_counter) -> float:
    """Mean seconds per call over ``n`` calls in a row (for calls too short to time alone)."""
    t0 = clock()
    for _ in range(n):
        run()
    return (clock() - t0) / n


def marginal_time(run: Callable[[int], object], n: int, clock: Clock = time.perf_counter) -> float:
    """Seconds per unit of ``run(n)`` (n steps, say): runs of n and n // 2 units timed and the
    difference taken, so that fixed costs (setup, snapshots) cancel; the long run alone when
    noise makes the difference vanish."""
    long = timed(lambda: run(n), clock)[0]
    short = timed(lambda: run(n // 2), clock)[0]
    diff = (long - short) / (n - n // 2)
    return diff if diff > 0.25 * long / n else long / n


def min_time(run: Callable[[], object], repeats: int, clock: Clock = time.perf_counter) -> float:
    """Shortest of ``repeats`` calls of ``run``: for a deterministic computation, the run
    least disturbed by other processes."""
    return min(timed(run, clock)[0] for _ in range(repeats))


def median_timed(
    run: Callable[[], T], repeats: int, clock: Clock = time.perf_counter
) -> tuple[float, T]:
    """Median seconds of ``repeats`` calls of ``run``, and what the last call returned."""
    both = [timed(run, clock) for _ in range(repeats)]
    return median([t for t, _ in both]), both[-1][1]


def interleaved(
    runs: Mapping[K, Callable[[], object]],
    repeats: int,
    clock: Clock = time.perf_counter,
    alternate: bool = False,
) -> dict[K, list[float]]:
    """Seconds of every run in each of ``repeats`` rounds, the runs taking turns within a round
    (so that a change of machine load hits all of them alike). ``alternate`` reverses the order
    every other round, so that no run always follows the same one."""
    times: dict[K, list[float]] = {k: [] for k in runs}
    keys = list(runs)
    for rep in range(repeats):
        for k in keys if not (alternate and rep % 2) else keys[::-1]:
            times[k].append(timed(runs[k], clock)[0])
    return times


def medians(times: Mapping[K, Sequence[float]]) -> dict[K, float]:
    return {k: median(v) for k, v in times.items()}


def calibrate(
    run: Callable[[int], object],
    n0: int,
    n_max: int,
    target_s: float,
    clock: Clock = time.thread_time,
) -> int:
    """The number of units n (n0 <= n <= n_max) for which ``run(n)`` lasts about ``target_s``
    seconds on ``clock``: n grows ×8 until a call lasts a quarter of that, then is scaled."""
    n = n0
    while True:
        t = timed(partial(run, n), clock)[0]
        if t >= target_s / 4 or n >= n_max:
            break
        n = min(n_max, n * 8)
    return int(min(n_max, max(n0, round(n * target_s / t))))


class OutOfBudget(Exception):
    """Raised by a Budgeted right-hand side once its wall-time budget is spent."""


class Budgeted:
    """A right-hand side f(t, y) for a peer's solver (scipy ``solve_ivp``) that stops the
    solver by raising OutOfBudget once ``seconds`` of wall time have passed since it was
    made, counting its calls and the furthest t it was asked for."""

    def __init__(self, f: Callable[[float, T], T], seconds: float) -> None:
        self.f, self.seconds = f, seconds
        self.calls, self.reached = 0, 0.0
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def __call__(self, t: float, y: T) -> T:
        if self.elapsed() > self.seconds:
            raise OutOfBudget
        self.reached = max(self.reached, t)
        self.calls += 1
        return self.f(t, y)


# ---------------------------------------------------------------------------------------------
# Machine, load and RESULTS.md sections


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    for line in out.splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(HERE), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_line() -> str:
    return f"{platform.platform()}, {os.cpu_count()} logical CPUs, CPU model `{cpu_model()}`"


def header_lines(load: tuple[float, float] | None = None, note: str = "") -> list[str]:
    """The date, command and machine lines that open every section of RESULTS.md; given the
    1-minute load average before and after the bench, also the commit (with ``note``, e.g.
    "one thread") and load lines."""
    lines = [
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- Command: `{shlex.join(['python', *sys.argv])}` (interpreter `{sys.executable}`)",
        f"- Machine: {machine_line()}",
    ]
    if load is not None:
        lines.append(f"- Commit: `{git_commit()}`" + (f"; {note}." if note else "."))
        lines.append(load_line(*load))
    return lines


def load_average() -> float:
    return os.getloadavg()[0]


def load_note(before: float, after: float) -> str:
    """How to read absolute times given the 1-minute load average around a bench."""
    if max(before, after) <= 1.5:
        return "the machine was otherwise idle"
    return (
        "on 2 cores shared with other builds and test runs: absolute times are inflated "
        "and noisy; ratios within one run are the meaningful numbers"
    )


def load_line(before: float, after: float) -> str:
    """The load line of a RESULTS.md section: the 1-minute load average around the bench."""
    return (
        f"- Load average (1 min) at start {before:.2f}, at end {after:.2f}: "
        f"{load_note(before, after)}."
    )


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def write_section(section: str, text: str | list[str]) -> Path:
    """Replace the section titled ``section`` of RESULTS.md (or of $TTNN_BENCH_RESULTS),
    keeping the others; ``text`` is the section, or its lines. Says where it wrote."""
    if not isinstance(text, str):
        text = "\n".join(text) + "\n"
    path = RESULTS
    old = path.read_text() if path.exists() else "# ttnn benchmarks\n"
    start = old.find(section)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(section))
        tail = "" if nxt < 0 else old[nxt:]
        new = old[:start] + text.rstrip("\n") + "\n" + tail
    path.write_text(new.rstrip("\n") + "\n")
    print(f"wrote {section!r} to {path}")
    return path
