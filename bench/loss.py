"""Benchmark: the exact loss and its gradient at large m, and their 1 → 2 thread speed-up
(docs/maths/exact-loss.md#cost, docs/guide/threads.md).

Run from the repository root with ``python bench/loss.py``. It writes (or updates) the
section "## The exact loss at large m (bench/loss.py)" of ``bench/RESULTS.md``.

1. ``ttnn.l2_error`` and ``ttnn.l2_gradient`` on one thread for m = 10³ … 10⁶, every
   activation, η = 4e-3 fixed (so the windows hold ~m η neurons: the case that was O(m²)),
   u from ``Network.init(m, 4e-3, seed=0)``, a ~ N(0, 1), the paper's target.
2. The flow's right-hand side (``l2_gradient``, cubic) at m = 10⁴ and 10⁵ with threads = 1
   and 2, interleaved, medians; the speed-up is their ratio.
"""

from __future__ import annotations

import os
import time

import numpy as np
from _common import (
    git_commit,
    header_lines,
    interleaved,
    load_average,
    load_note,
    median,
    median_time,
    per_call,
    verdict,
    write_section,
)

import ttnn

SECTION = "## The exact loss at large m (bench/loss.py)"
ETA = 4e-3


def network(m: int, act: str) -> ttnn.Network:
    u = ttnn.Network.init(m, ETA, seed=0).u
    a = np.random.default_rng(1).normal(size=m + 1)
    return ttnn.Network(a, u, ETA, act)


def cpu_per_call(fn, repeats: int) -> float:
    """CPU time (all threads) per call: on a loaded machine, where wall times of
    threads are meaningless, equal CPU for 1 and 2 threads shows that sharing the
    parts adds no work."""
    return per_call(fn, repeats, time.process_time)


def main() -> None:
    target = ttnn.PiecewiseConstant.paper()
    before = load_average()
    lines = [SECTION, "", *header_lines()]
    wait = os.environ.get("OMP_WAIT_POLICY", "unset")
    lines.append(
        f"- Commit: `{git_commit()}`; {os.cpu_count()} logical CPUs; OMP_WAIT_POLICY={wait}."
    )
    lines += [
        "",
        f"**One thread** (η = {ETA:g}, `Network.init(m, {ETA:g}, seed=0)`'s u, a ~ N(0, 1), "
        "paper target; median of 5, of 3 at m = 10⁶):",
        "",
        "| m | activation | `l2_error` | `l2_gradient` |",
        "|---|---|---|---|",
    ]
    big = 0.0
    for m in (10**3, 10**4, 10**5, 10**6):
        for act in ("cubic", "ramp", "relu"):
            net = network(m, act)
            reps = 3 if m >= 10**6 else 5
            t_l2 = median_time(lambda net=net: ttnn.l2_error(net, target, threads=1), reps)
            t_g = median_time(lambda net=net: ttnn.l2_gradient(net, target, threads=1), reps)
            if m == 10**6:
                big = max(big, t_l2)
            lines.append(f"| {m:.0e} | {act} | {t_l2 * 1e3:.2f} ms | {t_g * 1e3:.2f} ms |")
            print(lines[-1], flush=True)
    lines += [
        "",
        f"Goal `l2_error` < 1 s at m = 10⁶ (slowest activation {big:.2f} s): {verdict(big < 1.0)}.",
        "",
        "**Threads** (the flow's right-hand side, `l2_gradient`, cubic; threads = 1 and 2 "
        "interleaved, median of 9):",
        "",
    ]
    for m in (10**4, 10**5):
        net = network(m, "cubic")
        same = all(
            np.array_equal(x, y)
            for x, y in zip(
                ttnn.l2_gradient(net, target, threads=1),
                ttnn.l2_gradient(net, target, threads=2),
                strict=True,
            )
        )
        turns = interleaved(
            {t: lambda net=net, t=t: ttnn.l2_gradient(net, target, threads=t) for t in (1, 2)}, 9
        )
        s1, s2 = median(turns[1]), median(turns[2])
        c1 = cpu_per_call(lambda net=net: ttnn.l2_gradient(net, target, threads=1), 9)
        c2 = cpu_per_call(lambda net=net: ttnn.l2_gradient(net, target, threads=2), 9)
        goal = f" (goal ≥ 1.7×: {verdict(s1 / s2 >= 1.7)})" if m == 10**5 else ""
        lines.append(
            f"- m = {m:.0e}: {s1 * 1e3:.2f} ms on 1 thread, {s2 * 1e3:.2f} ms on 2: "
            f"×{s1 / s2:.2f}{goal}; CPU time per call {c1 * 1e3:.2f} ms (1 thread) and "
            f"{c2 * 1e3:.2f} ms (2 threads); same bits: {same}."
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        "Parts of 4096 pieces go to threads from 16 parts on (m ≈ 2·10⁴ windowed), so m = 10⁴ "
        "runs serially whatever `threads`. On a loaded machine the wall-clock ratio says little "
        "(each thread gets a fraction of a core); the CPU time shows what sharing costs.",
    ]
    after = load_average()
    lines += [
        "",
        f"Load average (1 min) {before:.1f} before, {after:.1f} after: {load_note(before, after)}.",
    ]
    write_section(SECTION, lines)


if __name__ == "__main__":
    main()
