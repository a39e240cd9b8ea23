"""Benchmark: issue 19's goals for large m with the defaults (method="auto", the banded
a*(u) with its fixed Tikhonov term), side by side with the code paths they replace.

Run from the repository root with ``python bench/large_m.py``. One thread. It writes
(or updates) the section "## Large m with the defaults (bench/large_m.py)" of
``bench/RESULTS.md``.

1. E1's gradient flow at m = 1000 (``Network.init(1000, 4e-3, seed=0)``, the paper's
   target, eps = 2e-5, t_end = 1750) with the defaults. Goal ≤ 10 s.
2. The finite-η limit from the same start to τ = 0.035 with the defaults. Goal ≤ 30 s.
   Side by side: one a*(u) at that start by the banded path against the dense
   minimum-norm solve that the code before the Tikhonov term fell back to there (two
   neurons 1.2e-7 apart), and the limit's right-hand-side count times that cost.
3. The relu limit at m = 1000 against the cubic one, to τ = 1e-4 (the issue's own
   example). Goal: relu ≤ 10× cubic.
4. One banded a*(u) at m = 10⁴, η = 4e-4, spread neurons (median of 21). Goal ≤ 20 ms.
"""

from _common import one_thread

one_thread()  # before NumPy, Numba or ttnn is imported

import warnings  # noqa: E402

import numpy as np  # noqa: E402
from _common import (  # noqa: E402
    git_commit,
    header_lines,
    load_average,
    load_note,
    median,
    verdict,
    wall_and_cpu,
    write_section,
)

import ttnn  # noqa: E402
from ttnn import _core  # noqa: E402

SECTION = "## Large m with the defaults (bench/large_m.py)"


CPU = {}  # CPU seconds of the last timed() call: under load, closer to the unloaded wall time


def timed(run):
    wall, CPU["last"], out = wall_and_cpu(run)
    return wall, out


def median_time(run, repeats: int) -> float:
    """Median wall time; CPU["median"] is the median CPU time of the same calls."""
    both = [wall_and_cpu(run)[:2] for _ in range(repeats)]
    CPU["median"] = median([c for _, c in both])
    return median([w for w, _ in both])


def main() -> None:
    warnings.simplefilter("ignore", ttnn.IllConditionedWarning)
    load0 = load_average()
    tgt = ttnn.PiecewiseConstant.paper("code")
    net = ttnn.Network.init(1000, 4e-3, seed=0)
    rows = []

    t_flow, flow = timed(lambda: ttnn.gradient_flow(net, tgt, eps=2e-5, t_end=1750))
    rows.append(
        f"| E1 flow, m = 1000, t = 1750, defaults | {t_flow:.1f} s wall, "
        f"{CPU['last']:.1f} s CPU "
        f"({flow.stats['accepted']} steps, implicit from t = {flow.stiff_from:.3g}) "
        f"| ≤ 10 s | {verdict(t_flow <= 10)} (CPU: {verdict(CPU['last'] <= 10)}) |"
    )

    t_lim, lim = timed(lambda: ttnn.two_timescale_limit(net, tgt, tau_end=0.035))
    cpu_lim = CPU["last"]
    t_band = median_time(lambda: _core.solve_outer(net._c, tgt._c, 0.0), 21)
    t_dense = median_time(lambda: _core.optimal_outer(net._c, tgt._c, 0.0), 3)
    calls = lim.stats["rhs_calls"]
    rows.append(
        f"| finite-η limit, m = 1000, τ = 0.035, defaults | {t_lim:.1f} s wall, "
        f"{cpu_lim:.1f} s CPU ({calls} right-hand sides; max cond {np.max(lim.cond):.2g}) "
        f"| ≤ 30 s | {verdict(t_lim <= 30)} (CPU: {verdict(cpu_lim <= 30)}) |"
    )
    rows.append(
        f"| one a*(u) at that start: banded (now) / dense minimum-norm (before) "
        f"| {t_band * 1e3:.2f} ms / {t_dense * 1e3:.0f} ms: the same {calls} right-hand "
        f"sides would take ≥ {calls * t_dense / 3600:.1f} h by the dense path | | |"
    )

    relu = ttnn.Network.init(1000, 4e-3, seed=0, activation="relu")
    t_relu, _ = timed(lambda: ttnn.two_timescale_limit(relu, tgt, tau_end=1e-4))
    t_cubic = median_time(lambda: ttnn.two_timescale_limit(net, tgt, tau_end=1e-4), 3)
    rows.append(
        f"| relu limit / cubic limit, m = 1000, τ = 1e-4 | {t_relu:.2f} s / {t_cubic:.3f} s "
        f"= {t_relu / t_cubic:.2g}× | ≤ 10× | {verdict(t_relu <= 10 * t_cubic)} |"
    )

    m = 10_000
    rng = np.random.default_rng(0)
    u = (np.arange(m) + 0.5 + 0.3 * rng.uniform(-1, 1, m)) / m
    big = ttnn.Network(np.zeros(m + 1), u, 4e-4)
    t_big = median_time(lambda: _core.solve_outer(big._c, tgt._c, 0.0), 21)
    rows.append(
        f"| one banded a*(u), m = 10⁴, η = 4e-4 | {t_big * 1e3:.2f} ms wall, "
        f"{CPU['median'] * 1e3:.2f} ms CPU | ≤ 20 ms "
        f"| {verdict(t_big <= 0.020)} (CPU: {verdict(CPU['median'] <= 0.020)}) |"
    )
    load1 = load_average()
    text = "\n".join(
        [
            SECTION,
            "",
            *header_lines(),
            f"- Commit: `{git_commit()}`; one thread; 1-minute load average "
            f"{load0:.1f} → {load1:.1f}: {load_note(load0, load1)}. The CPU seconds of the "
            "process (`time.process_time`) are given beside the wall time of the long runs: "
            "under this load they are the better estimate of an unloaded run.",
            "",
            "| Case | Measured | Goal | |",
            "|---|---|---|---|",
            *rows,
            "",
            "Before (issue 19, same machine, lighter load): the flow with the old default "
            '`method="rk45"` about 20 minutes (`"auto"`: 5.6 s); the limit to τ = 1e-4 86 s, '
            "to τ = 0.035 hours, because every right-hand side took the dense fallback.",
            "",
        ]
    )
    write_section(SECTION, text)
    print(text)


if __name__ == "__main__":
    main()
