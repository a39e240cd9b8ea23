"""Parallel ensembles: wall time of one ensemble call on 1 and on 2 threads.

Writes the section "## Ensembles: 1 → 2 threads (bench/ensemble.py)" of RESULTS.md.
Two workloads, each the shape `ttnn reproduce` uses: online SGD runs of E1 (m = 20,
ε = 2e-5, h = 1e-3) via ``ttnn.sgd_ensemble``, and full-batch GD of the 10-D additive
network of E4 via ``ttnn.full_batch_gd_ensemble``. Thread counts take turns within each
repeat; the results of the two thread counts are checked to be bit-identical.

The same section compares the SGD ensemble on 2 threads with the peer a skilled user
would write instead: a ``ProcessPoolExecutor(2)`` (spawned workers) mapping ``ttnn.sgd``
over the same runs (run i = ``sgd(nets[i], seed=i)``, which ``sgd_ensemble(...,
seed=[0, 1, ...])`` reproduces exactly; checked).

It also writes "## Ensembles against JAX (bench/ensemble.py)": steps per second of
``ttnn.sgd_ensemble`` on 2 threads (drawing its samples, and replaying pre-drawn ones)
against JAX ``jit(vmap(lax.scan))`` over the same runs replaying pre-drawn samples
(float64, XLA on 2 threads), at m = 20 (64 runs) and m = 1000 (16 runs).
Usage: python bench/ensemble.py [--repeats 5] [--no-jax]
"""

from __future__ import annotations

import os

# XLA's CPU backend on 2 threads, like ttnn's threads=2 (set before jax is imported).
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2"
)

import argparse
import multiprocessing
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from _common import (
    git_commit,
    header_lines,
    interleaved,
    load_average,
    medians,
    verdict,
    write_section,
)

import ttnn

SECTION = "## Ensembles: 1 → 2 threads (bench/ensemble.py)"
JAX_SECTION = "## Ensembles against JAX (bench/ensemble.py)"
ETA, EPS, H = 4e-3, 2e-5, 1e-3
# (m, runs, ttnn steps per run, JAX steps per run): each timing lasts ~0.2-1 s.
JAX_CASES = ((20, 64, 400_000, 20_000), (1000, 16, 200_000, 4_000))
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


POOL_RUNS, POOL_STEPS = 8, 4_000_000


def pool_run(i: int) -> np.ndarray:
    """Run i of the process-pool peer: one ``ttnn.sgd`` call (E1 settings, seed i)."""
    tgt = ttnn.PiecewiseConstant.paper("code")
    net = ttnn.Network.init(20, 4e-3, seed=i)
    r = ttnn.sgd(net, tgt, h=1e-3, eps=2e-5, steps=POOL_STEPS, seed=i)
    return np.concatenate([r.a[-1], r.u[-1]])


def pool_comparison(repeats: int) -> dict:
    """Wall time of the process-pool loop and of ``sgd_ensemble(threads=2)``, same runs."""
    tgt = ttnn.PiecewiseConstant.paper("code")
    nets = [ttnn.Network.init(20, 4e-3, seed=s) for s in range(POOL_RUNS)]
    seeds = list(range(POOL_RUNS))

    def ensemble() -> list[np.ndarray]:
        res = ttnn.sgd_ensemble(
            nets, tgt, h=1e-3, eps=2e-5, steps=POOL_STEPS, seed=seeds, threads=2
        )
        return [np.concatenate([r.a[-1], r.u[-1]]) for r in res]

    out: dict[str, list[np.ndarray]] = {}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        list(ex.map(np.sqrt, [1.0, 4.0]))  # workers up, ttnn imported
        runs = {
            "pool": lambda: out.__setitem__("pool", list(ex.map(pool_run, range(POOL_RUNS)))),
            "ensemble": lambda: out.__setitem__("ensemble", ensemble()),
        }
        times = interleaved(runs, repeats)
    identical = all(np.array_equal(p, q) for p, q in zip(out["pool"], out["ensemble"], strict=True))
    return {"median": medians(times), "identical": identical, "times": times}


def measure(work: Callable[[int], list[np.ndarray]], repeats: int) -> dict:
    outputs: dict[int, list[np.ndarray]] = {}
    runs = {t: lambda t=t: outputs.__setitem__(t, work(t)) for t in (1, 2)}
    times = interleaved(runs, repeats)
    identical = all(np.array_equal(p, q) for p, q in zip(outputs[1], outputs[2], strict=True))
    med = medians(times)
    return {"median": med, "speedup": med[1] / med[2], "identical": identical, "times": times}


def jax_ensemble_runner(m: int):
    """jit(vmap(lax.scan)) of the straightforward O(m) step over runs, float64."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    jax.config.update("jax_enable_x64", True)

    def sigma(z):
        zc = jnp.clip(z, -0.5, 0.5)
        return jnp.where(zc <= 0.0, 4.0 * (zc + 0.5) ** 3, 1.0 - 4.0 * (0.5 - zc) ** 3)

    def dsigma(z):
        zc = jnp.clip(z, -0.5, 0.5)
        return 12.0 * (0.5 - jnp.abs(zc)) ** 2

    def step(carry, xy):
        a, u = carry
        x, y = xy
        z = (x - u) / ETA
        s = sigma(z)
        ds = dsigma(z) / ETA
        hr = H * 2.0 * (a[0] + a[1:] @ s - y)
        a_new = jnp.concatenate([a[:1] - hr, a[1:] - hr * s])
        u_new = u + EPS * hr * a[1:] * ds
        return (a_new, u_new), None

    def run(a, u, xs, ys):
        (a, u), _ = lax.scan(step, (a, u), (xs, ys))
        return a, u

    fn = jax.jit(jax.vmap(run))

    def call(a, u, xs, ys):
        out = fn(a, u, xs, ys)
        jax.block_until_ready(out)
        return np.asarray(out[0]), np.asarray(out[1])

    return call, jax.__version__


def jax_comparison(repeats: int) -> list[str]:
    tgt = ttnn.PiecewiseConstant.paper()
    rows, agree = [], []
    version = "?"
    for m, runs, steps, jsteps in JAX_CASES:
        nets = [ttnn.Network.init(m, ETA, seed=s) for s in range(runs)]
        a0 = np.stack([n.a for n in nets])
        u0 = np.stack([n.u for n in nets])
        data = [ttnn.sample_stream(tgt, jsteps, seed=1, stream=i) for i in range(runs)]
        xs = np.stack([d[0] for d in data])
        ys = np.stack([d[1] for d in data])
        call, version = jax_ensemble_runner(m)
        ja, ju = call(a0, u0, xs, ys)  # compiles; checked against ttnn replaying the same data
        rep = ttnn.sgd_ensemble(nets, tgt, h=H, eps=EPS, data=data, threads=2)
        diff = max(
            max(float(np.max(np.abs(r.a[-1] - ja[i]))), float(np.max(np.abs(r.u[-1] - ju[i]))))
            for i, r in enumerate(rep)
        )
        agree.append((m, diff))

        def drawing(nets=nets, steps=steps):
            return ttnn.sgd_ensemble(nets, tgt, h=H, eps=EPS, steps=steps, seed=0, threads=2)

        def replaying(nets=nets, data=data):
            return ttnn.sgd_ensemble(nets, tgt, h=H, eps=EPS, data=data, threads=2)

        def jax_replaying(call=call, a0=a0, u0=u0, xs=xs, ys=ys):
            return call(a0, u0, xs, ys)

        works = {
            "ttnn drawing": (drawing, runs * steps),
            "ttnn replaying": (replaying, runs * jsteps),
            "JAX replaying": (jax_replaying, runs * jsteps),
        }
        times = medians(interleaved({k: work for k, (work, _) in works.items()}, repeats))
        rate = {k: works[k][1] / t for k, t in times.items()}
        print(f"m={m}: " + ", ".join(f"{k} {v / 1e6:.2f} M steps/s" for k, v in rate.items()))
        rows.append((m, runs, steps, jsteps, rate))
    lines = [
        f"- JAX {version} (`jit(vmap(lax.scan))`, float64, XLA_FLAGS="
        f"`{os.environ.get('XLA_FLAGS', '')}`); ttnn `threads=2`.",
        "- Workload: E1's settings (η = 4e-3, ε = 2e-5, h = 1e-3, paper target, "
        "`Network.init(m, 4e-3, seed=i)`). JAX scans the straightforward O(m) step, vmapped "
        "over runs, replaying pre-drawn samples (`ttnn.sample_stream`, no RNG cost on its "
        "side); ttnn draws its own samples (as `ttnn.sweep` does) or replays the same "
        "samples as JAX (`data=`). Wall time (perf_counter) of one call, steps summed over "
        f"runs, medians of {repeats} repeats taking turns; JAX compiled before timing.",
        "",
        "| m | runs | steps per run (ttnn drawing / replaying, JAX) | ttnn drawing steps/s "
        "| ttnn replaying steps/s | JAX steps/s | ttnn drawing / JAX | ttnn replaying / JAX "
        "| max abs diff of final (a, u), ttnn vs JAX on the same data |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (m, runs, steps, jsteps, rate), (_, diff) in zip(rows, agree, strict=True):
        d, r, j = rate["ttnn drawing"], rate["ttnn replaying"], rate["JAX replaying"]
        lines.append(
            f"| {m} | {runs} | {steps:,} / {jsteps:,}, {jsteps:,} | {d:,.0f} | {r:,.0f} "
            f"| {j:,.0f} | {d / j:.1f}× | {r / j:.1f}× | {diff:.1e} |"
        )
    r20 = rows[0][4]["ttnn drawing"]
    g20 = r20 / rows[0][4]["JAX replaying"]
    g1000 = rows[1][4]["ttnn drawing"] / rows[1][4]["JAX replaying"]
    lines += [
        "",
        "Targets (issue 12):",
        f"- m = 20 on 2 threads ≥ 2× the issue's 74.5 M steps/s (≥ 149 M): "
        f"{r20 / 1e6:.1f} M — {verdict(r20 >= 149e6)}",
        f"- m = 20 ≥ 25× JAX: {g20:.1f}× — {verdict(g20 >= 25)}",
        f"- m = 1000 ≥ 40× JAX: {g1000:.1f}× — {verdict(g1000 >= 40)}",
        "",
        "Wall-time rates on 2 threads fall with the machine's load, and how a loaded machine "
        "shares out between ttnn's 2 OpenMP threads and XLA's thread pool is not controlled "
        "here: the 1 → 2 thread speedup of the section above tells whether a second core was "
        "free during this run. Judge the targets on an idle machine.",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-jax", action="store_true", help="skip the JAX comparison")
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
    pool = pool_comparison(args.repeats)
    pm = pool["median"]
    print(f"process pool {pm['pool']:.2f} s, sgd_ensemble(threads=2) {pm['ensemble']:.2f} s")
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
    lines += [
        "",
        "The peer a user would write: a `ProcessPoolExecutor(2)` (spawned, warmed up) "
        "mapping `ttnn.sgd` over the same runs (run i: `Network.init(20, 4e-3, seed=i)`, "
        "`seed=i`), against `ttnn.sgd_ensemble(..., seed=[0, …, 7], threads=2)`, which "
        "returns the same runs; the two take turns, medians of wall times.",
        "",
        "| workload | process pool of `ttnn.sgd` (s) | `sgd_ensemble`, 2 threads (s) "
        "| pool / ensemble | results identical |",
        "|---|---:|---:|---:|---|",
        f"| {POOL_RUNS} runs of E1, {POOL_STEPS:.0e}".replace("e+0", "e")
        + f" steps each | {pm['pool']:.2f} "
        f"| {pm['ensemble']:.2f} | {pm['pool'] / pm['ensemble']:.2f} "
        f"| {'yes' if pool['identical'] else '**NO**'} |",
    ]
    write_section(SECTION, "\n".join(lines) + "\n")
    if not args.no_jax:
        t1 = time.perf_counter()
        load_j = load_average()
        body = jax_comparison(args.repeats)
        jl = [
            JAX_SECTION,
            "",
            *header_lines(),
            f"- ttnn {ttnn.__version__} (commit {git_commit()}), NumPy {np.__version__}",
            f"- Load average (1 min) at start {load_j:.2f}, at end {load_average():.2f}; "
            f"wall time {time.perf_counter() - t1:.0f} s. The machine is shared: wall-time "
            "rates on 2 threads fall with the load.",
            *body,
        ]
        write_section(JAX_SECTION, "\n".join(jl) + "\n")
    ok = all(r["identical"] for _, _, r in rows) and pool["identical"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
