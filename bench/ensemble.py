"""Parallel ensembles: wall time of one ensemble call on 1 and on 2 threads.

Writes the section "## Ensembles: 1 → 2 threads (bench/ensemble.py)" of RESULTS.md.
Two workloads, each the shape `ttnn reproduce` uses: online SGD runs of E1 (m = 20,
ε = 2e-5, h = 1e-3) via ``ttnn.sgd_ensemble``, and full-batch GD of the 10-D additive
network of E4 via ``ttnn.full_batch_gd_ensemble``. Thread counts take turns within each
repeat; the results of the two thread counts are checked to be bit-identical.
Usage: python bench/ensemble.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np
from _common import git_commit, header_lines, load_average, verdict, write_section

import ttnn

SECTION = "## Ensembles: 1 → 2 threads (bench/ensemble.py)"
TARGET = 1.8


def sgd_workload(threads: int) -> list[np.ndarray]:
    tgt = ttnn.PiecewiseConstant.paper("code")
    nets = [ttnn.Network.init(20, 4e-3, seed=s) for s in range(8)]
    res = ttnn.sgd_ensemble(nets, tgt, h=1e-3, eps=2e-5, steps=4_000_000, seed=0, threads=threads)
    return [np.concatenate([r.a[-1], r.u[-1]]) for r in res]


def additive_workload(threads: int) -> list[np.ndarray]:
    d, n, m = 10, 10_000, 10
    X = np.random.default_rng(0).random((n, d))
    y = (X[:, :, None] > np.array([0.3, 0.5, 0.7])).sum(axis=(1, 2)).astype(float)
    nets = [ttnn.AdditiveNetwork.init_paper(d, m, 1e-2, seed=s) for s in range(4)]
    res = ttnn.full_batch_gd_ensemble(
        nets, X, y, step_a=1.0, step_u=0.01, epochs=1000, threads=threads
    )
    return [np.concatenate([r.a[-1].ravel(), r.u[-1].ravel()]) for r in res]


def measure(work: Callable[[int], list[np.ndarray]], repeats: int) -> dict:
    times: dict[int, list[float]] = {1: [], 2: []}
    outputs: dict[int, list[np.ndarray]] = {}
    for _ in range(repeats):
        for threads in (1, 2):
            t = time.perf_counter()
            outputs[threads] = work(threads)
            times[threads].append(time.perf_counter() - t)
    identical = all(np.array_equal(p, q) for p, q in zip(outputs[1], outputs[2], strict=True))
    med = {k: float(np.median(v)) for k, v in times.items()}
    return {"median": med, "speedup": med[1] / med[2], "identical": identical, "times": times}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    load0, t0 = load_average(), time.perf_counter()
    rows = []
    for name, what, work in (
        (
            "sgd_ensemble",
            "8 runs of E1 (m = 20, η = 4e-3, ε = 2e-5, h = 1e-3), 4e6 steps each",
            sgd_workload,
        ),
        (
            "full_batch_gd_ensemble",
            "4 runs of E4 at d = 10 (n = 10⁴, 10 neurons per coordinate), 1000 epochs each",
            additive_workload,
        ),
    ):
        r = measure(work, args.repeats)
        print(f"{name}: {r['median'][1]:.2f} s -> {r['median'][2]:.2f} s, ×{r['speedup']:.2f}")
        rows.append((name, what, r))
    load1, elapsed = load_average(), time.perf_counter() - t0
    lines = [
        SECTION,
        "",
        *header_lines(),
        f"- ttnn {ttnn.__version__} (commit {git_commit()}), NumPy {np.__version__}",
        f"- Load average (1 min) at start {load0:.2f}, at end {load1:.2f}. "
        f"Wall time of the bench: {elapsed:.0f} s.",
        f"- {args.repeats} repeats; within each, the 1-thread and the 2-thread call take turns "
        "(`threads=` argument); medians reported.",
        "",
        "| call | workload | 1 thread (s) | 2 threads (s) | speedup | results identical |",
        "|---|---|---:|---:|---:|---|",
    ]
    for name, what, r in rows:
        lines.append(
            f"| `ttnn.{name}` | {what} | {r['median'][1]:.2f} | {r['median'][2]:.2f} | "
            f"{r['speedup']:.2f}× | {'yes' if r['identical'] else '**NO**'} |"
        )
    lines += ["", f"Target (issue 4): ≥ {TARGET}× from 1 to 2 threads."]
    for name, _, r in rows:
        lines.append(f"- `{name}`: {r['speedup']:.2f}× — {verdict(r['speedup'] >= TARGET)}")
    write_section(SECTION, "\n".join(lines) + "\n")
    return 0 if all(r["identical"] for _, _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
