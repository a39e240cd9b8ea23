"""Benchmark: mini-batch SGD and SGD against a relu teacher (docs/maths/dynamics.md).

Run from the repository root with ``python bench/minibatch.py`` (needs ``pip install .[bench]``).
Everything runs on one thread. It writes (or updates) the section
"## Mini-batch SGD (bench/minibatch.py)" of ``bench/RESULTS.md``.

1. Mini-batch SGD, samples/s (steps/s × B) at B in {1, 8, 64} and m in {20, 1000} (cubic,
   eta = 4e-3, eps = 2e-5, h = 1e-3, the paper's target, ``Network.init(m, 4e-3, seed=0)``),
   replaying one pre-drawn stream x ~ U[0, 1), y = f*(x) + U[-1, 1]:
   ``ttnn.sgd(..., data=(x, y), batch=B)`` against the straightforward Numba ``@njit``
   mini-batch loop (per step: B forward passes over all m neurons at the pre-step
   parameters, the gradients summed, then one update: O(B·m)). Both are first checked to
   agree on a short stream. Goals (issue 10): >= 3x at m = 20, >= 20x at m = 1000.
2. SGD against a relu teacher (E5's, 3 neurons): sampled runs ``ttnn.sgd(net, teacher, ...)``
   against the same runs with the step target, and a relu student (m = 10) on a replayed
   stream against a Numba loop.

Each timing is the thread's CPU time, calibrated to about ``TARGET_S`` seconds; repeats are
interleaved across the methods and medians reported.

``python bench/minibatch.py --threads`` instead measures threads inside one run (issue 19,
docs/guide/threads.md) and writes the section "## Threads inside one SGD run
(bench/minibatch.py --threads)": wall-clock steps/s of ``ttnn.sgd(..., threads=1)`` against
``threads=2`` for mini-batch steps around the work threshold (the goal: >= 1.7x for
B = 256 at m = 10^4), and m = 20 online SGD with ``threads`` at its default against
``threads=1`` (the goal: >= 0.97x).
"""

import sys

from _common import one_thread

# One thread, except for --threads, where OpenMP's default thread count is under test.
one_thread(keep=("OMP_NUM_THREADS",) if "--threads" in sys.argv else ())

import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402

import numpy as np  # noqa: E402
from _common import (  # noqa: E402
    calibrate,
    git_commit,
    header_lines,
    interleaved,
    load_average,
    marginal_time,
    median,
    medians,
    verdict,
    write_section,
)

try:
    import numba
except ImportError:  # --threads times ttnn alone
    if "--threads" not in sys.argv:
        raise
from _numba_peer import dsigma, njit, sigma  # noqa: E402

import ttnn  # noqa: E402

ETA, EPS, H = 4e-3, 2e-5, 1e-3
MS = (20, 1000)
BATCHES = (1, 8, 64)
REPEATS = 3
TARGET_S = 0.4
STREAM_LEN = 8_000_000
CHECK_STEPS = 2_000
AGREE_TOL = 1e-9
GOALS = {20: 3.0, 1000: 20.0}
SECTION = "## Mini-batch SGD (bench/minibatch.py)"


@njit(cache=False)
def minibatch_numba(a, u, eta, eps, h, x, y, batch):
    """Plain mini-batch SGD: per step, B forward passes at the pre-step parameters, the
    gradients of (y − f)² summed over the batch, one update with step h / B."""
    a = a.copy()
    u = u.copy()
    m = u.shape[0]
    ga = np.zeros(m + 1)
    gu = np.zeros(m)
    for p in range(x.shape[0] // batch):
        ga[:] = 0.0
        gu[:] = 0.0
        for b in range(p * batch, (p + 1) * batch):
            xb = x[b]
            f = a[0]
            for j in range(m):
                f += a[j + 1] * sigma((xb - u[j]) / eta)
            r = 2.0 * (f - y[b])
            ga[0] += r
            for j in range(m):
                z = (xb - u[j]) / eta
                ga[j + 1] += r * sigma(z)
                gu[j] += r * a[j + 1] * dsigma(z) / eta
        c = h / batch
        for j in range(m + 1):
            a[j] -= c * ga[j]
        for j in range(m):
            u[j] += eps * c * gu[j]
    return a, u


@njit(cache=False)
def relu_numba(a, u, eps, h, x, y):
    """Online SGD of a relu student over a replayed stream."""
    a = a.copy()
    u = u.copy()
    m = u.shape[0]
    for p in range(x.shape[0]):
        xp = x[p]
        f = a[0]
        for j in range(m):
            z = xp - u[j]
            if z > 0.0:
                f += a[j + 1] * z
        r = 2.0 * (f - y[p])
        a[0] -= h * r
        for j in range(m):
            z = xp - u[j]
            if z > 0.0:
                aj = a[j + 1]
                a[j + 1] = aj - h * r * z
                u[j] += eps * h * r * aj
    return a, u


def calibrated(run, n0, n_max):
    """The number of samples for which run(n) lasts about TARGET_S of thread CPU time (every
    method runs on this thread; wall time would also count other processes' slices)."""
    return calibrate(run, n0, n_max, TARGET_S, time.thread_time)


def rates_of(runs, n):
    """Median samples/s per method over REPEATS, the methods taking turns."""
    times = interleaved(
        {k: partial(run, n[k]) for k, run in runs.items()}, REPEATS, time.thread_time
    )
    return {k: n[k] / median(v) for k, v in times.items()}


def main():
    load0 = load_average()
    wall0 = time.perf_counter()
    tgt = ttnn.PiecewiseConstant.paper()
    rng = np.random.default_rng(0)
    x = rng.random(STREAM_LEN)
    y = tgt(x) + rng.uniform(-1.0, 1.0, STREAM_LEN)

    rows, checks, goals = [], [], []
    for m in MS:
        net = ttnn.Network.init(m, ETA, seed=0)
        a0, u0 = np.array(net.a), np.array(net.u)
        for B in BATCHES:
            k = CHECK_STEPS * B
            res = ttnn.sgd(net, h=H, eps=1e-3, data=(x[:k], y[:k]), batch=B)
            na, nu = minibatch_numba(a0, u0, ETA, 1e-3, H, x[:k], y[:k], B)
            da, du = np.abs(res.a[-1] - na).max(), np.abs(res.u[-1] - nu).max()
            checks.append((m, B, da, du))
            assert da < AGREE_TOL and du < AGREE_TOL, (m, B, da, du)

            def run_ttnn(n, net=net, B=B):
                ttnn.sgd(net, h=H, eps=EPS, data=(x[:n], y[:n]), batch=B)

            def run_numba(n, B=B, a0=a0, u0=u0):
                minibatch_numba(a0, u0, ETA, EPS, H, x[:n], y[:n], B)

            runs = {"ttnn": run_ttnn, "numba": run_numba}
            n = {k: calibrated(r, 64 * 64, STREAM_LEN // 64 * 64) for k, r in runs.items()}
            n = {k: v // B * B for k, v in n.items()}
            rates = rates_of(runs, n)
            ratio = rates["ttnn"] / rates["numba"]
            rows.append((m, B, rates["ttnn"], rates["numba"], ratio, n["ttnn"], n["numba"]))
            if m in GOALS and B > 1:
                goals.append((m, B, ratio, ratio >= GOALS[m]))

    # SGD against a relu teacher.
    teacher = ttnn.Network([0.0, 1.0, -2.0, 3.0], [0.3, 0.5, 0.7], 1.0, "relu")
    teacher_rows = []
    for label, net in (
        ("cubic student, m = 20", ttnn.Network.init(20, ETA, seed=0)),
        ("cubic student, m = 1000", ttnn.Network.init(1000, ETA, seed=0)),
        ("relu student, m = 10", ttnn.Network.init(10, 1.0, seed=0, activation="relu")),
    ):

        def sampled(n, net=net, target=tgt):
            ttnn.sgd(net, target, h=H, eps=EPS, steps=n, seed=1)

        def sampled_teacher(n, net=net):
            ttnn.sgd(net, teacher, h=H, eps=EPS, steps=n, seed=1)

        runs = {"step": sampled, "teacher": sampled_teacher}
        n = {k: calibrated(r, 4096, STREAM_LEN) for k, r in runs.items()}
        rates = rates_of(runs, n)
        teacher_rows.append((label, rates["teacher"], rates["step"]))
    relu_net = ttnn.Network.init(10, 1.0, seed=0, activation="relu")
    xt = x
    yt = teacher(xt) + rng.uniform(-1.0, 1.0, STREAM_LEN)
    ra, ru = np.array(relu_net.a), np.array(relu_net.u)
    res = ttnn.sgd(relu_net, h=H, eps=0.01, data=(xt[:20000], yt[:20000]))
    na, nu = relu_numba(ra, ru, 0.01, H, xt[:20000], yt[:20000])
    relu_agree = max(np.abs(res.a[-1] - na).max(), np.abs(res.u[-1] - nu).max())
    assert relu_agree < AGREE_TOL, relu_agree
    runs = {
        "ttnn": lambda n: ttnn.sgd(relu_net, h=H, eps=EPS, data=(xt[:n], yt[:n])),
        "numba": lambda n: relu_numba(ra, ru, EPS, H, xt[:n], yt[:n]),
    }
    n = {k: calibrated(r, 4096, STREAM_LEN) for k, r in runs.items()}
    relu_rates = rates_of(runs, n)

    load1 = load_average()
    wall = time.perf_counter() - wall0
    lines = [SECTION, "", *header_lines()]
    lines += [
        f"- Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__},"
        f" ttnn {ttnn.__version__} (commit {git_commit()})",
        "- One thread (OMP_NUM_THREADS = NUMBA_NUM_THREADS = 1, set before any import).",
        f"- Load average (1 min) at start {load0:.2f}, at end {load1:.2f} (shared machine; the "
        f"methods take turns within each repeat). Wall time of the bench: {wall:.0f} s.",
        f"- Each timing is the thread's CPU time (`time.thread_time`), calibrated to about "
        f"{TARGET_S} s; {REPEATS} repeats, medians.",
        "",
        "### Mini-batch SGD: samples per second",
        "",
        f"Cubic, η = {ETA:g}, ε = {EPS:g}, h = {H:g}, paper target, `Network.init(m, {ETA:g}, "
        "seed=0)`, one pre-drawn stream x ~ U[0,1), y = f*(x) + U[−1,1] replayed by both. "
        "ttnn: `ttnn.sgd(net, h=h, eps=eps, data=(x, y), batch=B)` (the public call). Numba: "
        "the straightforward `@njit` mini-batch loop (B forward passes over all m neurons at "
        "the pre-step parameters, gradients summed, one update: O(B·m) per step), JIT warmed "
        "up. Samples/s = steps/s × B.",
        "",
        "| m | B | ttnn samples/s | Numba samples/s | ttnn / Numba | samples timed (ttnn, Numba) |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for m, B, rt, rn, ratio, nt, nn in rows:
        lines.append(f"| {m} | {B} | {rt:,.0f} | {rn:,.0f} | {ratio:.1f}× | {nt:,}, {nn:,} |")
    lines += ["", "Goals (issue 10, B > 1):", ""]
    for m, B, ratio, ok in goals:
        lines.append(
            f"- ≥ {GOALS[m]:g}× Numba at m = {m}, B = {B}: measured {ratio:.1f}× — {verdict(ok)}"
        )
    lines += [
        "",
        f"Agreement before timing ({CHECK_STEPS:,} steps of each B at ε = 1e-3, max |Δ| of the "
        f"final a / u, tolerance {AGREE_TOL:g}): "
        + "; ".join(f"m = {m}, B = {B}: {da:.1e} / {du:.1e}" for m, B, da, du in checks)
        + ".",
        "",
        "### SGD against a relu teacher",
        "",
        "E5's teacher f*(x) = relu(x − 0.3) − 2 relu(x − 0.5) + 3 relu(x − 0.7) as a "
        "`ttnn.Network`; sampled runs `ttnn.sgd(net, teacher, h=1e-3, eps=2e-5, steps=P, seed=1)` "
        "(paper noise) against the same runs with the step target (the teacher is evaluated "
        "at each sample, three relu terms).",
        "",
        "| student | teacher target, samples/s | step target, samples/s | ratio |",
        "|---|---:|---:|---:|",
    ]
    for label, rt, rs in teacher_rows:
        lines.append(f"| {label} | {rt:,.0f} | {rs:,.0f} | {rt / rs:.2f} |")
    lines += [
        "",
        f"Relu student (m = 10) on a replayed stream from the teacher (+ U[−1,1]): ttnn "
        f"{relu_rates['ttnn']:,.0f} samples/s, a plain Numba loop {relu_rates['numba']:,.0f} "
        f"samples/s ({relu_rates['ttnn'] / relu_rates['numba']:.1f}×; they agree to "
        f"{relu_agree:.1e} after 20,000 steps at ε = 0.01).",
    ]
    print("\n".join(lines))
    write_section(SECTION, lines)


THREADS_SECTION = "## Threads inside one SGD run (bench/minibatch.py --threads)"
# (activation, m, eta, B): around the threshold, and the goal's case (m = 10^4, B = 256).
THREAD_CASES = (
    ("cubic", 1000, 4e-3, 64),
    ("cubic", 1000, 4e-3, 256),
    ("cubic", 10_000, 4e-3, 64),
    ("cubic", 10_000, 4e-3, 256),
    ("cubic", 10_000, 4e-3, 1024),
    ("cubic", 100_000, 4e-4, 256),
    ("relu", 100, 4e-3, 64),
    ("relu", 1000, 4e-3, 64),
    ("relu", 1000, 4e-3, 256),
)
THREAD_GOAL_CASE = ("cubic", 10_000, 4e-3, 256)
THREAD_GOAL, ONLINE_GOAL = 1.7, 0.97


def threads_main():
    load0 = load_average()
    wall0 = time.perf_counter()
    tgt = ttnn.PiecewiseConstant.paper()
    rng = np.random.default_rng(0)
    rows = []
    for act, m, eta, B in THREAD_CASES:
        net = ttnn.Network.init(m, eta, seed=0, activation=act)
        work = B * (m * eta + 64) if act != "relu" else B * m
        steps = int(max(40, min(20_000, 4e6 / work)))
        x = rng.random(steps * B)
        y = tgt(x) + rng.uniform(-1.0, 1.0, x.size)
        h = 0.02 / m  # stable at every m (f moves by ~h·m·r per step)
        same = []
        times = {1: [], 2: []}

        def run(p, t, net=net, x=x, y=y, h=h, B=B):
            return ttnn.sgd(net, h=h, eps=1e-2, data=(x, y), steps=p, batch=B, threads=t)

        ref1, ref2 = run(steps, 1), run(steps, 2)
        same.append(np.array_equal(ref1.a, ref2.a) and np.array_equal(ref1.u, ref2.u))
        for rep in range(2 * REPEATS + 1):
            for t in (1, 2) if rep % 2 == 0 else (2, 1):
                times[t].append(marginal_time(lambda p, t=t: run(p, t), steps))
        t1, t2 = median(times[1]), median(times[2])
        kernel = ttnn._core.sgd_kernel(net._c, B, 2)
        rows.append((act, m, eta, B, work, kernel, t1, t2, all(same)))
        print(rows[-1], flush=True)

    # m = 20 online SGD (the paper's runs): threads at its default against threads=1.
    net20 = ttnn.Network.init(20, ETA, seed=0)
    n20 = 2_000_000
    x20 = rng.random(n20)
    y20 = tgt(x20) + rng.uniform(-1.0, 1.0, n20)
    online = medians(
        interleaved(
            {
                "default": lambda: ttnn.sgd(net20, h=H, eps=EPS, data=(x20, y20)),
                "1": lambda: ttnn.sgd(net20, h=H, eps=EPS, data=(x20, y20), threads=1),
            },
            2 * REPEATS + 1,
            alternate=True,
        )
    )
    od, o1 = online["default"], online["1"]

    load1 = load_average()
    wall = time.perf_counter() - wall0
    lines = [THREADS_SECTION, "", *header_lines()]
    lines += [
        f"- ttnn {ttnn.__version__} (commit {git_commit()}); OpenMP's default thread count "
        f"here: {os.cpu_count()} logical CPUs, OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}.",
        f"- Load average (1 min) at start {load0:.2f}, at end {load1:.2f}: the machine's 2 "
        "cores are shared with other work, so a second thread competes with that work "
        "for the cores. Wall time of the bench: "
        f"{wall:.0f} s.",
        f"- Wall-clock time per step (`time.perf_counter`), medians of {2 * REPEATS + 1} "
        "runs, 1 and 2 threads taking turns; replayed stream, paper target, "
        "`Network.init(m, eta, seed=0)`, h = 0.02/m, ε = 0.01. 'work' is the threshold's "
        "measure of a step (B·(m·η + 64) windowed, B·m relu); 'kernel' is "
        "`_core.sgd_kernel(net._c, B, 2)` ('+parts': split on 2 threads). Every run on 2 "
        "threads was checked to give the bits of the run on 1.",
        "",
        "| act. | m | η | B | work | kernel | 1 thread | 2 threads | speedup | same bits |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    goal = None
    for act, m, eta, B, work, kernel, t1, t2, same in rows:
        lines.append(
            f"| {act} | {m} | {eta:g} | {B} | {work:.3g} | {kernel} | {t1 * 1e6:.1f} µs "
            f"| {t2 * 1e6:.1f} µs | {t1 / t2:.2f}× | {'yes' if same else '**NO**'} |"
        )
        if (act, m, eta, B) == THREAD_GOAL_CASE:
            goal = t1 / t2
    lines += [
        "",
        f"- Goal ≥ {THREAD_GOAL}× on 2 threads for B = 256 at m = 10⁴ (cubic, η = 4e-3): "
        f"measured {goal:.2f}× — {verdict(goal is not None and goal >= THREAD_GOAL)}",
        f"- Goal ≥ {ONLINE_GOAL}× for m = 20 online SGD with `threads` at its default "
        f"(2,000,000 replayed steps, whole call): default {od:.3f} s, threads=1 {o1:.3f} s, "
        f"{o1 / od:.2f}× — {verdict(o1 / od >= ONLINE_GOAL)}",
    ]
    if max(load0, load1) >= (os.cpu_count() or 1):
        lines += [
            "",
            "The cores were busy with other work during this run (load average above the "
            "number of CPUs): a split step synchronises its threads three times, and each "
            "time one of them waits for a scheduler slice, so the 2-thread times above "
            "measure the machine's load, not the split. (`threads=None` stays serial on a "
            "busy machine for this reason.) The speedups need a run on an idle machine.",
        ]
    print("\n".join(lines))
    write_section(THREADS_SECTION, lines)


if __name__ == "__main__":
    if "--threads" in sys.argv:
        threads_main()
    else:
        main()
