"""Benchmark: how the cost of one step grows with the width m (issue 19, item 6).

Run from the repository root with ``python bench/scale.py`` (``--max-m 10000`` for a
shorter run). It writes (or updates) the section "## Scale with m (bench/scale.py)" of
``bench/RESULTS.md`` and the plot ``bench/scale.png``.

For m = 10, 10², …, 10⁵ it times, per activation (cubic, ramp, relu):

1. one online SGD step and one mini-batch step (B = 256), replaying a pre-drawn stream
   without a target (so that no snapshot loss is timed), the mini-batch step on 1 and on
   2 threads (``ttnn.sgd(..., threads=)``);
2. one flow right-hand side, ``ttnn.l2_gradient`` (loss and gradient), and
3. one a*(u), ``ttnn._core.solve_outer`` (ridge 0; the banded local-basis solve where the
   core takes it, which it reports), on 1 and 2 threads where the entry takes ``threads``.

Each at fixed η = 4e-3 (the paper's) and at η ∝ 1/m (m·η = 4, E1's m = 1000 at η = 4e-3);
relu ignores η, so it is measured once. The window holds w = m·η neurons, and each
quantity has a claimed cost (``CLAIMS``) in m and w. The script fits the log-log slope of
the measured cost over the sizes m ≥ 10³ and checks it is at most the claimed exponent
(+ ``SLOPE_TOL``; constant costs make small m flatter, which the check allows). A size
whose call is predicted to take more than ``BUDGET_S`` is skipped (and reported), so the
script also finishes on code where a quantity is still O(m²) or O(m³).

Costs are the process's CPU time (``time.process_time``: on a shared machine other
processes do not inflate it), the median of ``REPEATS`` timings each calibrated to at least
``MIN_S``; the 1 → 2 thread speedups are ratios of wall-clock times (``time.perf_counter``),
which a busy machine does inflate: the 1-minute load average is reported with them.
"""

from __future__ import annotations

import argparse
import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from _common import (
    HERE,
    Clock,
    git_commit,
    header_lines,
    load_average,
    load_note,
    marginal_time,
    median,
    per_call,
    timed,
    verdict,
    write_section,
)

import ttnn
from ttnn import _core
from ttnn.target import core_target

SECTION = "## Scale with m (bench/scale.py)"
PLOT = HERE / "scale.png"

MS = (10, 100, 1_000, 10_000, 100_000)
ACTS = ("cubic", "ramp", "relu")
ETA_FIXED = 4e-3
WIDTH = 4.0  # m·η at η ∝ 1/m
BATCH = 256
REPEATS = 3
MIN_S = 0.05
BUDGET_S = 3.0  # skip a size whose single call is predicted above this
FIT_FROM = 1_000  # slopes are fitted over m >= this
SLOPE_TOL = 0.3
TGT = ttnn.PiecewiseConstant.paper()


def eta_of(scaling: str, m: int) -> float:
    return ETA_FIXED if scaling == "fixed" else WIDTH / m


# Claimed cost of each quantity as (exponent of m, exponent of w), w = m·η the
# neurons per window; relu's kernels have no window (its features are nonzero on a
# half-line), so its claims are in m alone. The SGD steps touch the window's
# neurons plus the prefix sums' masked runs (O(m / 1024 + 64), small at these m).
CLAIMS: dict[tuple[str, str], tuple[int, int]] = {
    ("sgd online", "windowed"): (0, 1),
    ("sgd online", "relu"): (1, 0),
    ("sgd B=256", "windowed"): (0, 1),
    ("sgd B=256", "relu"): (1, 0),
    ("flow rhs", "windowed"): (1, 1),
    ("flow rhs", "relu"): (1, 0),
    ("a*(u)", "windowed"): (1, 2),
    ("a*(u)", "relu"): (1, 0),
}
CLAIM_TEXT = {
    ("sgd online", "windowed"): "O(w)",
    ("sgd online", "relu"): "O(m)",
    ("sgd B=256", "windowed"): "O(B·w)",
    ("sgd B=256", "relu"): "O(B·m)",
    ("flow rhs", "windowed"): "O(m·w)",
    ("flow rhs", "relu"): "O(m)",
    ("a*(u)", "windowed"): "O(m·w²)",
    ("a*(u)", "relu"): "O(m)",
}


# What the claims leave out, printed under the table: where a measured slope above
# the claim has a known cause that is not the algorithm's operation count.
KNOWN = (
    "The SGD steps' claims count operations: the window's w neurons, plus the prefix sums' "
    "O(m / 1024 + 64) masked entries. At η ∝ 1/m the online step stays within ~2× from "
    "m = 10 to 10⁴ and grows from 10⁴ to 10⁵, where its arrays (a, u and the 4m-entry "
    "bucket table, several MB) no longer fit in the caches and each step's few random reads "
    "miss: a memory cost, not an O(m) loop.",
    "relu's flow right-hand side and a*(u) are claimed at O(m) for the code of issue 19 "
    "item 5 (prefix sums of a and a·u) and item 2 (a banded hat basis); on code that "
    "does not have them yet they grow as O(m²) and O(m³) (dense), and the check says so.",
)


def claimed_slope(quantity: str, act: str, scaling: str) -> int:
    """The exponent of m the claim gives along a scaling: w ∝ m at fixed η, w fixed at
    η ∝ 1/m."""
    kind = "relu" if act == "relu" else "windowed"
    pm, pw = CLAIMS[(quantity, kind)]
    return pm + (pw if scaling == "fixed" else 0)


def accepts_threads(fn: Callable[..., object]) -> bool:
    """Whether ``fn`` takes ``threads=`` (a Python signature or a pybind11 docstring)."""
    try:
        return "threads" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return "threads" in (fn.__doc__ or "")


def seconds_per_call(call: Callable[[], object], clock: Clock = time.process_time) -> float:
    """Median seconds per call over REPEATS timings, each of enough calls to last MIN_S.
    The default clock is the process's CPU time, which other processes on a shared
    machine do not inflate; the thread comparisons pass the wall clock."""
    n = max(1, math.ceil(MIN_S / max(timed(call, clock)[0], 1e-7)))
    return median([per_call(call, n, clock) for _ in range(REPEATS)])


def spread_network(m: int, eta: float, act: str, seed: int = 0) -> ttnn.Network:
    """Neurons near an even grid (jittered by a quarter spacing) with random outer weights:
    well separated, so that a*(u) is well posed at every m."""
    rng = np.random.default_rng(seed)
    u = (np.arange(m) + 0.5 + rng.uniform(-0.25, 0.25, m)) / m
    a = rng.normal(size=m + 1) / math.sqrt(m)
    return ttnn.Network(a, u, eta, act)


@dataclass
class Series:
    quantity: str
    act: str
    scaling: str
    ms: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    seconds2: list[float | None] = field(default_factory=list)  # on 2 threads
    notes: list[str] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)

    def slope(self) -> float | None:
        pts = [(m, s) for m, s in zip(self.ms, self.seconds, strict=True) if m >= FIT_FROM]
        if len(pts) < 2:
            return None
        x = np.log10([p[0] for p in pts])
        y = np.log10([p[1] for p in pts])
        return float(np.polyfit(x, y, 1)[0])


def sgd_per_step(
    net: ttnn.Network, batch: int, threads: int | None, clock: Callable[[], float]
) -> float:
    """Seconds per step of a replayed SGD run without a target: runs of P and 2P steps
    timed, and the difference taken, so that the O(m log m) setup and the snapshots
    cancel (the 2P run alone when noise makes the difference vanish)."""
    m = net.m
    per_step = batch * (max(m * net.eta, 1.0) + 64) if net.activation != "relu" else batch * m
    steps = int(min(max(2e6 / per_step, 20), 200_000))
    rng = np.random.default_rng(1)
    x = rng.random(2 * steps * batch)
    y = TGT(x) + rng.uniform(-1.0, 1.0, x.size)
    h = 0.02 / m  # stable at every m: f moves by ~h·m·r per step
    kw: dict[str, object] = {"threads": threads} if threads is not None else {}

    def call(p: int) -> object:
        return ttnn.sgd(net, None, h=h, eps=1e-2, data=(x, y), steps=p, batch=batch, **kw)

    return marginal_time(call, 2 * steps, clock)


def measure(
    series: Series, m: int, eta: float, threads_ok: bool
) -> tuple[float, float | None, str]:
    """Seconds per unit (a step, a call) on 1 thread, on 2 (or None), and a note."""
    q, act = series.quantity, series.act
    if q.startswith("sgd"):
        batch = 1 if q == "sgd online" else BATCH
        net = ttnn.Network.init(m, eta, seed=0, activation=act)
        note = _core.sgd_kernel(net._c, batch, 2) if hasattr(_core, "sgd_kernel") else ""
        t1 = sgd_per_step(net, batch, 1 if threads_ok else None, time.process_time)
        t2 = None
        if batch > 1 and threads_ok:  # the speedup: wall clock on both sides
            t1_wall = sgd_per_step(net, batch, 1, time.perf_counter)
            t2 = sgd_per_step(net, batch, 2, time.perf_counter)
            t2 = t2 * t1 / t1_wall  # reported as t1 / t2 = the wall-clock speedup
        return t1, t2, note
    net = spread_network(m, eta, act)
    if q == "flow rhs":
        fn: Callable[..., object] = ttnn.l2_gradient
        t1 = seconds_per_call(lambda: fn(net, TGT, **({"threads": 1} if threads_ok else {})))
        t2 = None
        if threads_ok:
            wall1 = seconds_per_call(lambda: fn(net, TGT, threads=1), time.perf_counter)
            t2 = seconds_per_call(lambda: fn(net, TGT, threads=2), time.perf_counter) * t1 / wall1
        return t1, t2, ""
    # a*(u): the core's automatic solve reports whether it took the banded path
    solve = _core.solve_outer
    tgt = core_target(TGT)
    extra = {"threads": 1} if threads_ok else {}
    out = solve(net=net._c, target=tgt, ridge=0.0, **extra)
    note = "banded" if (isinstance(out, tuple) and len(out) > 2 and out[2]) else "dense"
    t1 = seconds_per_call(lambda: solve(net=net._c, target=tgt, ridge=0.0, **extra))
    t2 = None
    if threads_ok:
        wall1 = seconds_per_call(
            lambda: solve(net=net._c, target=tgt, ridge=0.0, threads=1), time.perf_counter
        )
        wall2 = seconds_per_call(
            lambda: solve(net=net._c, target=tgt, ridge=0.0, threads=2), time.perf_counter
        )
        t2 = wall2 * t1 / wall1
    return t1, t2, note


def run_series(series: Series, ms: tuple[int, ...]) -> None:
    q = series.quantity
    if q.startswith("sgd"):
        threads_ok = accepts_threads(ttnn.sgd)
    elif q == "flow rhs":
        threads_ok = accepts_threads(ttnn.l2_gradient)
    else:
        threads_ok = accepts_threads(_core.solve_outer)
    for m in ms:
        if series.ms and series.seconds[-1] > 0:
            # Predict the next size from the slope so far (at least the claimed one).
            prev_m, prev_s = series.ms[-1], series.seconds[-1]
            grow = claimed_slope(q, series.act, series.scaling)
            if len(series.ms) >= 2 and series.seconds[-2] > 0:
                m0, s0 = series.ms[-2], series.seconds[-2]
                grow = max(grow, math.log10(prev_s / s0) / math.log10(prev_m / m0))
            predicted = prev_s * (m / prev_m) ** grow
            # (SGD runs are calibrated in steps: a step is never the whole call.)
            if not q.startswith("sgd") and predicted > BUDGET_S:
                series.skipped.append(m)
                continue
        eta = eta_of(series.scaling, m)
        t1, t2, note = measure(series, m, eta, threads_ok)
        series.ms.append(m)
        series.seconds.append(t1)
        series.seconds2.append(t2)
        series.notes.append(note)
        print(
            f"{q:10s} {series.act:5s} {series.scaling:5s} m={m:>6d}: {fmt_time(t1)}"
            + (f", 2 threads {fmt_time(t2)} ({t1 / t2:.2f}x)" if t2 else "")
            + (f" [{note}]" if note else ""),
            flush=True,
        )


def fmt_time(s: float | None) -> str:
    if s is None:
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def plot(all_series: list[Series]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quantities = ("sgd online", "sgd B=256", "flow rhs", "a*(u)")
    fig, axes = plt.subplots(1, len(quantities), figsize=(4.2 * len(quantities), 3.8))
    colors = {"cubic": "C0", "ramp": "C1", "relu": "C2"}
    for ax, q in zip(axes, quantities, strict=True):
        for s in all_series:
            if s.quantity != q or not s.ms:
                continue
            style = "-" if s.scaling in ("fixed", "–") else "--"
            eta_label = {"fixed": "= 4e-3", "1/m": "∝ 1/m"}.get(s.scaling, "ignored")
            label = f"{s.act}, η {eta_label}"
            ax.loglog(s.ms, s.seconds, style, marker="o", ms=3, color=colors[s.act], label=label)
        ax.set_title(f"one {q}" if not q.startswith("sgd") else q.replace("sgd", "one SGD step,"))
        ax.set_xlabel("m")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("seconds (1 thread)")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-m", type=int, default=MS[-1])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    ms = tuple(m for m in MS if m <= args.max_m)

    load_before = load_average()
    t_start = time.perf_counter()
    all_series = []
    for q in ("sgd online", "sgd B=256", "flow rhs", "a*(u)"):
        for act in ACTS:
            for scaling in ("fixed", "1/m") if act != "relu" else ("–",):
                s = Series(q, act, scaling if act != "relu" else "fixed")
                run_series(s, ms)
                if act == "relu":
                    s.scaling = "–"
                all_series.append(s)
    load_after = load_average()
    elapsed = time.perf_counter() - t_start
    if args.no_write:
        return
    plot(all_series)

    lines = [SECTION, "", *header_lines(), f"- Commit: {git_commit()}"]
    lines += [
        f"- Load (1-minute average): {load_before:.1f} before, {load_after:.1f} after "
        f"({load_note(load_before, load_after)}); {elapsed:.0f} s in all.",
        f"- Sizes: m in {list(ms)}"
        + ("" if ms[-1] == MS[-1] else f" (reduced with --max-m; the full run goes to {MS[-1]})")
        + f"; η = {ETA_FIXED:g} fixed, or η = {WIDTH:g}/m (w = m·η = {WIDTH:g} neurons per "
        "window); relu ignores η. CPU-time medians of "
        f"{REPEATS}; SGD steps from replayed runs without a target, B = {BATCH} for the "
        "mini-batch step; a*(u) and the flow right-hand side on neurons near an even grid.",
        f"- Check: the log-log slope fitted over m ≥ {FIT_FROM} must be at most the claimed "
        f"exponent + {SLOPE_TOL} (w ∝ m at fixed η, w constant at η ∝ 1/m). Sizes whose call "
        f"was predicted above {BUDGET_S:g} s were skipped.",
        "",
        f"![cost per step against m]({PLOT.name})",
        "",
        "| quantity | act. | η | claim | "
        + " | ".join(f"m = {m:g}" for m in ms)
        + " | slope (claimed) | check |",
        "|---|---|---|---|" + "---|" * len(ms) + "---|---|",
    ]
    all_ok = True
    for s in all_series:
        kind = "relu" if s.act == "relu" else "windowed"
        claim = CLAIM_TEXT[(s.quantity, kind)]
        expected = claimed_slope(s.quantity, s.act, "fixed" if s.scaling != "1/m" else "1/m")
        cells = []
        for m in ms:
            if m in s.ms:
                i = s.ms.index(m)
                cell = fmt_time(s.seconds[i])
                if s.seconds2[i]:
                    cell += f"; ×{s.seconds[i] / s.seconds2[i]:.2f} on 2"
                if s.notes[i]:
                    cell += f" ({s.notes[i]})"
            elif m in s.skipped:
                cell = f"skipped (> {BUDGET_S:g} s)"
            else:
                cell = "–"
            cells.append(cell)
        slope = s.slope()
        ok = slope is not None and slope <= expected + SLOPE_TOL
        all_ok = all_ok and ok
        slope_text = "–" if slope is None else f"{slope:.2f}"
        eta_text = {"fixed": f"{ETA_FIXED:g}", "1/m": f"{WIDTH:g}/m", "–": "–"}[s.scaling]
        lines.append(
            f"| {s.quantity} | {s.act} | {eta_text} | {claim} | "
            + " | ".join(cells)
            + f" | {slope_text} ({expected}) | "
            + (verdict(ok) if slope is not None else "too few sizes")
            + " |"
        )
    lines += [
        "",
        f"Growth as claimed everywhere: {verdict(all_ok)}. Cells give the time of one step or "
        "call on 1 thread, then the 1 → 2 thread speedup where the entry takes `threads=` "
        "(wall clock; SGD: the mini-batch step; the `_core.sgd_kernel` path on 2 threads in "
        "brackets, "
        "'+parts' when the step is split), and for a*(u) whether the banded solve was taken.",
        "",
        *(f"- {note}" for note in KNOWN),
    ]
    path = write_section(SECTION, "\n".join(lines) + "\n")
    print(f"wrote {path} and {PLOT}")


if __name__ == "__main__":
    main()
