"""Benchmark: online SGD and the exact loss, ttnn against NumPy, Numba and scipy
(docs/maths/dynamics.md#online-sgd; method: bench/README.md).

Run from the repository root with ``python bench/sgd.py`` (needs ``pip install .[bench]``).
Everything runs on one thread. It writes (or updates) the section
"## Online SGD and exact loss (bench/sgd.py)" of ``bench/RESULTS.md``.

1. Online SGD steps/s at m in {20, 100, 1000, 10^4} (cubic activation, eta = 4e-3, eps = 2e-5,
   h = 1e-3, the paper's target, ``Network.init(m, 4e-3, seed=0)``), replaying one
   pre-generated stream x ~ U[0, 1), y = f*(x) + U[-1, 1] for
   (a) ``ttnn.sgd(..., data=(x, y))``, (b) a per-step NumPy loop in the authors' style
   (vectorised over neurons, Python loop over steps), (c) a plain Numba ``@njit`` loop over
   steps and neurons, and (d) ``ttnn.sgd`` drawing its own samples (the others replay).
   (a)-(c) are first checked to agree on a 1e4-step stream (at eps = 2e-5 and 1e-3).
2. ``ttnn.l2_error`` at m = 20 against ``scipy.integrate.quad`` of (f* - f)^2 with f in NumPy.

Each timing is the thread's CPU time, calibrated to last about ``TARGET_S`` seconds; repeats
are interleaved across the methods (so a change in machine load hits all of them alike) and
medians are reported.
"""

from _common import one_thread

one_thread()  # before NumPy, Numba or ttnn is imported

import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402
from _common import (  # noqa: E402
    RESULTS,
    calibrate,
    git_commit,
    header_lines,
    interleaved,
    median,
    timed,
    verdict,
    write_section,
)
from _numba_peer import dsigma, sigma  # noqa: E402
from numba import njit  # noqa: E402
from scipy import integrate  # noqa: E402

import ttnn  # noqa: E402
from ttnn.reference.sgd import sgd_replay  # noqa: E402

ETA, EPS, H = 4e-3, 2e-5, 1e-3


def h_of(m):
    """h = 1e-3, except at m = 10⁴ where it diverges (f grows with the ~m·x saturated
    neurons): 1e-5 there, for every method alike."""
    return H if m <= 1000 else 1e-5


MS = (20, 100, 1000, 10_000)
REPEATS = 5
TARGET_S = 0.5  # aim for this many seconds per timing
MIN_S = 0.2  # every reported timing must last at least this long
STREAM_LEN = 16_000_000  # longest stream any method replays
CHECK_STEPS = 10_000
# Also eps = 1e-3, where u moves by several eta in 1e4 steps (at 2e-5 it barely moves). Larger
# eps at h = 1e-3 is chaotic: rounding differences grow to O(1) even between two NumPy codes.
CHECK_EPS = (EPS, 1e-3)
AGREE_TOL = 1e-9
SECTION = "## Online SGD and exact loss (bench/sgd.py)"
CPU = time.thread_time  # the clock of every timing (see bench_interleaved)

# ---------------------------------------------------------------------------------------------
# (b) NumPy, in the authors' style: vectorised over neurons, a Python loop over steps.


def sigma_np(z):
    """The paper's cubic activation, vectorised."""
    zc = np.clip(z, -0.5, 0.5)
    return np.where(zc <= 0.0, 4.0 * (zc + 0.5) ** 3, 1.0 - 4.0 * (0.5 - zc) ** 3)


def dsigma_np(z):
    """Its derivative: 12 (1/2 - |z|)^2 on [-1/2, 1/2], 0 outside."""
    zc = np.clip(z, -0.5, 0.5)
    return 12.0 * (0.5 - np.abs(zc)) ** 2


def sgd_numpy(a, u, eta, eps, h, x, y):
    a = a.copy()
    u = u.copy()
    for p in range(len(x)):
        z = (x[p] - u) / eta
        s = sigma_np(z)
        ds = dsigma_np(z) / eta
        r = 2.0 * (a[0] + a[1:] @ s - y[p])
        grad_u = a[1:] * ds  # from the pre-step a
        a[0] -= h * r
        a[1:] -= h * r * s
        u += eps * h * r * grad_u
    return a, u


# ---------------------------------------------------------------------------------------------
# (c) Numba: the straightforward loop over steps and over all neurons.


@njit(cache=False)
def sgd_numba(a, u, eta, eps, h, x, y):
    # The straightforward O(m) loop, written for speed: 1/eta hoisted, sigma and sigma'
    # computed once per neuron into scratch arrays, then the update (from the pre-step a).
    a = a.copy()
    u = u.copy()
    m = u.shape[0]
    inv_eta = 1.0 / eta
    s = np.empty(m)
    ds = np.empty(m)
    for p in range(x.shape[0]):
        xp = x[p]
        f = a[0]
        for j in range(m):
            z = (xp - u[j]) * inv_eta
            s[j] = sigma(z)
            ds[j] = dsigma(z) * inv_eta
            f += a[j + 1] * s[j]
        hr = h * 2.0 * (f - y[p])
        a[0] -= hr
        for j in range(m):
            aj = a[j + 1]
            a[j + 1] = aj - hr * s[j]
            u[j] += eps * hr * aj * ds[j]
    return a, u


# ---------------------------------------------------------------------------------------------
# (a) ttnn


def sgd_ttnn(net, x, y, eps=EPS, steps=None):
    res = ttnn.sgd(net, h=h_of(net.m), eps=eps, data=(x, y), steps=steps, snapshots=2)
    return res.a[-1], res.u[-1]


# ---------------------------------------------------------------------------------------------
# Timing helpers


def bench_interleaved(runs, n):
    """(rate in units/s, min s, median s) per method over REPEATS; each timing is the
    thread's CPU time (every method runs on this thread: ttnn releases the GIL but does not
    leave it), the methods taking turns within each repeat."""
    times = interleaved({k: partial(run, n[k]) for k, run in runs.items()}, REPEATS, CPU)
    return {k: (n[k] / median(v), float(min(v)), median(v)) for k, v in times.items()}


def calibrated(run, n0, n_max):
    """The number of units for which run(n) lasts about TARGET_S of thread CPU time."""
    return calibrate(run, n0, n_max, TARGET_S, CPU)


# ---------------------------------------------------------------------------------------------
# Exact loss against quad


def quad_loss(a, u, eta, breaks, values):
    def integrand(x):
        f = a[0] + a[1:] @ sigma_np((x - u) / eta)
        fstar = values[np.searchsorted(breaks, x, side="left")]  # f*_0 + sum_i D_i 1[x > v_i]
        return (fstar - f) ** 2

    pts = np.concatenate([breaks, u - eta / 2, u, u + eta / 2])
    pts = np.unique(pts[(pts > 0.0) & (pts < 1.0)])
    val, _err = integrate.quad(integrand, 0.0, 1.0, points=pts, limit=200)
    return val


# ---------------------------------------------------------------------------------------------
# Machine description


def fmt_rate(r):
    return f"{r:,.0f}"


# ---------------------------------------------------------------------------------------------


def main():
    start = time.perf_counter()
    load0 = os.getloadavg()
    tgt = ttnn.PiecewiseConstant.paper()
    rng = np.random.default_rng(20230915)
    x = rng.random(STREAM_LEN)
    y = tgt(x) + rng.uniform(-1.0, 1.0, STREAM_LEN)

    # --- agreement on a short stream ---------------------------------------------------------
    xs, ys = x[:CHECK_STEPS], y[:CHECK_STEPS]
    agree = {}
    for eps, m in [(e, m) for e in CHECK_EPS for m in MS]:
        net = ttnn.Network.init(m, ETA, seed=0)
        a0, u0 = net.a.copy(), net.u.copy()
        ref = {
            "ttnn": sgd_ttnn(net, xs, ys, eps=eps),
            "numpy": sgd_numpy(a0, u0, ETA, eps, h_of(m), xs, ys),
            "numba": sgd_numba(a0, u0, ETA, eps, h_of(m), xs, ys),
            "ttnn.reference": sgd_replay(a0, u0, ETA, eps, h_of(m), xs, ys),
        }
        ta, tu = ref["ttnn"]
        row = {}
        for k in ("numpy", "numba", "ttnn.reference"):
            ka, ku = ref[k]
            row[k] = (float(np.max(np.abs(ka - ta))), float(np.max(np.abs(ku - tu))))
        agree[eps, m] = (row, float(np.max(np.abs(ta))), float(np.max(np.abs(tu - u0))))
        print(f"agreement eps={eps:g} m={m} after {CHECK_STEPS} steps (max |diff| vs ttnn, a / u):")
        for k, (da, du) in row.items():
            print(f"  {k:15s} {da:.2e} / {du:.2e}")
    agree_ok = all(max(max(d) for d in row.values()) <= AGREE_TOL for row, _, _ in agree.values())
    if not agree_ok:
        print("WARNING: the implementations disagree; the timings below compare different things")

    # --- SGD timings ---------------------------------------------------------------------------
    sgd_rows = {}
    for m in MS:
        net = ttnn.Network.init(m, ETA, seed=0)
        a0, u0 = net.a.copy(), net.u.copy()
        h = h_of(m)
        runs = {
            "ttnn": lambda n, net=net: sgd_ttnn(net, x[:n], y[:n]),
            "numpy": lambda n, a0=a0, u0=u0, h=h: sgd_numpy(a0, u0, ETA, EPS, h, x[:n], y[:n]),
            "numba": lambda n, a0=a0, u0=u0, h=h: sgd_numba(a0, u0, ETA, EPS, h, x[:n], y[:n]),
            # diagnostic: the C++ binding on the (already checked) arrays, without the wrapper's
            # copy and finiteness check of the data
            "core": lambda n, net=net, h=h: ttnn._core.sgd(
                net._c, None, h, EPS, n, 2, "none", 0.0, 0, x, y
            ),
            # ttnn drawing its own samples (x ~ U[0, 1), the same noise U[-1, 1]), as runs
            # and sweeps do: the other methods replay pre-drawn samples at no RNG cost
            "draw": lambda n, net=net, h=h: ttnn.sgd(net, tgt, h=h, eps=EPS, steps=n, seed=0),
        }
        n0 = {"ttnn": 100_000, "numpy": 1_000, "numba": 10_000, "core": 100_000, "draw": 100_000}
        n = {k: calibrated(runs[k], n0[k], STREAM_LEN) for k in runs}
        res = bench_interleaved(runs, n)

        # ttnn's fixed cost per call on these arrays (copy and finiteness check of the data),
        # measured as a one-step run over the same arrays
        def one_step(net=net, xt=x[: n["ttnn"]], yt=y[: n["ttnn"]]):
            sgd_ttnn(net, xt, yt, steps=1)

        over = median([timed(one_step, CPU)[0] for _ in range(REPEATS)])
        res["ttnn_overhead_s"] = over
        sgd_rows[m] = (n, res)
        print(
            f"m={m}: "
            + ", ".join(
                f"{k} {fmt_rate(res[k][0])} steps/s ({n[k]} steps, min {res[k][1]:.2f}s)"
                for k in runs
            )
            + f", ttnn per-call overhead {over * 1e3:.1f} ms"
        )

    # --- exact loss against quad --------------------------------------------------------------
    m = 20
    lrng = np.random.default_rng(7)
    a_l = lrng.uniform(-3.0, 3.0, m + 1)
    u_l = np.sort(lrng.random(m))
    net_l = ttnn.Network(a_l, u_l, ETA)
    brk, val = np.asarray(tgt.breaks), np.asarray(tgt.values)
    l2_ttnn = ttnn.l2_error(net_l, tgt)
    l2_quad = quad_loss(a_l, u_l, ETA, brk, val)
    l2_core = float(ttnn._core.l2_error(net_l._c, tgt._c))

    def run_ttnn_l2(n):
        for _ in range(n):
            ttnn.l2_error(net_l, tgt)

    def run_quad(n):
        for _ in range(n):
            quad_loss(a_l, u_l, ETA, brk, val)

    def run_core_l2(n, c_net=net_l._c, c_tgt=tgt._c):  # diagnostic: the binding, no Python checks
        for _ in range(n):
            ttnn._core.l2_error(c_net, c_tgt)

    loss_runs = {"ttnn": run_ttnn_l2, "quad": run_quad, "core": run_core_l2}
    n_l = {
        "ttnn": calibrated(run_ttnn_l2, 1_000, 10**8),
        "quad": calibrated(run_quad, 1, 10**6),
        "core": calibrated(run_core_l2, 1_000, 10**8),
    }
    loss_res = bench_interleaved(loss_runs, n_l)
    l2_ratio = loss_res["ttnn"][0] / loss_res["quad"][0]
    print(f"l2: ttnn {l2_ttnn!r}, quad {l2_quad!r}, |diff| {abs(l2_ttnn - l2_quad):.2e}")
    print(
        f"l2: ttnn {loss_res['ttnn'][0]:,.0f} evals/s, quad {loss_res['quad'][0]:,.2f} evals/s, "
        f"ratio {l2_ratio:,.0f}"
    )

    elapsed = time.perf_counter() - start
    load1 = os.getloadavg()

    # --- report ------------------------------------------------------------------------------
    lines = [SECTION, ""]
    lines += [
        *header_lines(),
        f"- Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}, "
        f"SciPy {scipy.__version__}, ttnn {getattr(ttnn, '__version__', '?')} "
        f"(commit {git_commit()})",
        "- One thread: OMP_NUM_THREADS = NUMBA_NUM_THREADS = OPENBLAS_NUM_THREADS = 1, set "
        "before any import.",
        f"- Load average (1 min) at start {load0[0]:.2f}, at end {load1[0]:.2f} "
        f"(the machine may be shared; ratios are measured with the methods taking turns, "
        f"so load changes hit all alike). Wall time of the bench: {elapsed:.0f} s.",
        f"- Each timing is the calling thread's CPU time (`time.thread_time`: all methods run on "
        f"that one thread, and time slices taken by other processes do not count), calibrated "
        f"to about {TARGET_S} s (at least {MIN_S} s); {REPEATS} repeats, medians reported.",
        "",
        "### Online SGD: steps per second",
        "",
        "Cubic activation, η = 4e-3, ε = 2e-5, h = 1e-3 (1e-5 at m = 10⁴, where 1e-3 "
        "diverges), paper target (code values), "
        "`ttnn.Network.init(m, 4e-3, seed=0)`, replaying one pre-generated stream "
        "x ~ U[0,1), y = f*(x) + U[−1,1] (the same samples, from its start, for every method). "
        "ttnn: `ttnn.sgd(net, h=h, eps=eps, data=(x, y), snapshots=2)` (the call, with its "
        "argument checks and output, is what is timed); NumPy: a per-step loop in the authors' "
        "style (vectorised over neurons, Python `for` over steps); Numba: a plain `@njit` loop "
        "over steps and all neurons, replaying the same pre-drawn samples (no RNG cost on its "
        "side; 1/η hoisted, σ_η and σ′_η computed once per neuron; JIT warmed up before "
        "timing). ttnn drawing: `ttnn.sgd(net, target, h=h, eps=eps, steps=n, seed=0)`, the "
        "run drawing its own samples (x ~ U[0,1), ξ ~ U[−1,1]) in the core.",
        "",
        "| m | ttnn steps/s | ttnn drawing steps/s (/ replay) | NumPy steps/s | Numba steps/s "
        "| ttnn / NumPy | ttnn / Numba | ttnn drawing / Numba "
        "| steps timed (ttnn, NumPy, Numba) | shortest timing (s) "
        "| ttnn per-call data checks (s, share of its median time) "
        "| (diagnostic) core steps/s, / NumPy, / Numba |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    short_ok = True
    for m in MS:
        n, res = sgd_rows[m]
        rt, rn, rb = res["ttnn"][0], res["numpy"][0], res["numba"][0]
        tmin = min(res[k][1] for k in ("ttnn", "numpy", "numba"))
        rc = res["core"][0]
        short_ok &= tmin >= MIN_S
        over = res["ttnn_overhead_s"]
        rd = res["draw"][0]
        lines.append(
            f"| {m} | {fmt_rate(rt)} | {fmt_rate(rd)} ({rd / rt:.2f}×) | {fmt_rate(rn)} "
            f"| {fmt_rate(rb)} | {rt / rn:,.0f}× | {rt / rb:.1f}× | {rd / rb:.1f}× "
            f"| {n['ttnn']:,}, {n['numpy']:,}, {n['numba']:,} | {tmin:.2f} "
            f"| {over:.3f} ({over / res['ttnn'][2]:.0%}) "
            f"| {fmt_rate(rc)}, {rc / rn:,.0f}×, {rc / rb:.1f}× |"
        )
    r = {
        m: (sgd_rows[m][1]["ttnn"][0], sgd_rows[m][1]["numpy"][0], sgd_rows[m][1]["numba"][0])
        for m in MS
    }
    t1 = r[20][0] / r[20][1]
    t2 = r[20][0] / r[20][2]
    t3 = r[1000][0] / r[1000][2]
    t4 = r[10_000][0] / r[10_000][2]
    d20 = sgd_rows[20][1]["draw"][0]
    t5, t6 = d20 / r[20][0], d20 / r[20][2]
    lines += [
        "",
        "Targets (from the issues):",
        "",
        f"- ttnn ≥ 1000× NumPy at m = 20: measured {t1:,.0f}× — {verdict(t1 >= 1000)}",
        f"- ttnn ≥ 3× Numba at m = 20: measured {t2:.1f}× — {verdict(t2 >= 3)}",
        f"- ttnn drawing its samples ≥ 0.9× ttnn replaying at m = 20: measured {t5:.2f}× "
        f"— {verdict(t5 >= 0.9)}",
        f"  (against the core's replay, the diagnostic column: "
        f"{d20 / sgd_rows[20][1]['core'][0]:.2f}×)",
        f"- ttnn drawing its samples ≥ 3× Numba (replaying) at m = 20: measured {t6:.1f}× "
        f"— {verdict(t6 >= 3)}",
        f"- ttnn ≥ 20× Numba at m = 1000: measured {t3:.1f}× — {verdict(t3 >= 20)}",
        f"- ttnn ≥ 40× Numba at m = 10⁴: measured {t4:.1f}× — {verdict(t4 >= 40)}",
    ]
    if not short_ok:
        lines.append(f"- Note: some timing lasted less than {MIN_S} s (stream too short).")
    lines += [
        "",
        'The column "data checks" is the fixed cost of one `ttnn.sgd(..., data=(x, y))` call on '
        "the timed arrays (it checks both for NaN/inf before stepping; float64 arrays are not "
        "copied), measured as a 1-step run over the same arrays; it is included in the ttnn "
        "rates above and grows with the stream. The last column, a diagnostic, times the C++ "
        "binding `ttnn._core.sgd` on the same, already checked arrays, interleaved with the "
        "others: the kernel's own speed. The targets are judged on the public call.",
    ]
    lines += [
        "",
        f"Agreement before timing: final a and u after {CHECK_STEPS:,} steps of the same stream "
        "(at the benchmark's ε and at ε = 1e-3, where u moves by several η; at ε ≥ 1e-2 with "
        "h = 1e-3 the dynamics amplify rounding to O(1) differences, even between two NumPy "
        "codes, so no exact comparison is possible there), "
        "max |difference| against ttnn (tolerance "
        f"{AGREE_TOL:g}; also `ttnn.reference.sgd_replay`, the package's NumPy oracle): "
        f"{'all agree' if agree_ok else '**DISAGREE**'}.",
        "",
        "| ε | m | max abs a (ttnn) | max abs Δu from init (ttnn) | NumPy a / u | Numba a / u "
        "| ttnn.reference a / u |",
        "|---:|---:|---:|---:|---|---|---|",
    ]
    for (eps, m), (row, amax, umove) in agree.items():
        cells = " | ".join(
            f"{row[k][0]:.1e} / {row[k][1]:.1e}" for k in ("numpy", "numba", "ttnn.reference")
        )
        lines.append(f"| {eps:g} | {m} | {amax:.3g} | {umove:.3g} | {cells} |")

    rel = abs(l2_ttnn - l2_quad) / abs(l2_ttnn)
    lines += [
        "",
        "### Exact loss: `ttnn.l2_error` against `scipy.integrate.quad`",
        "",
        "m = 20, η = 4e-3, a ~ U[−3, 3] (m + 1 entries), u sorted U[0, 1) (seed 7), paper "
        "target. quad: `scipy.integrate.quad` of (f*(x) − f(x))² over [0, 1], f and f* "
        "evaluated in NumPy, `points=` the breaks and every u_j − η/2, u_j, u_j + η/2 inside "
        "(0, 1), `limit=200`.",
        "",
        "| method | value | evaluations/s (median) | evaluations per timing |",
        "|---|---:|---:|---:|",
        f"| ttnn.l2_error | {l2_ttnn:.15g} | {loss_res['ttnn'][0]:,.0f} | {n_l['ttnn']:,} |",
        f"| scipy quad | {l2_quad:.15g} | {loss_res['quad'][0]:,.2f} | {n_l['quad']:,} |",
        f"| (diagnostic) `ttnn._core.l2_error`, the C++ binding without the Python wrapper's "
        f"type checks | {l2_core:.15g} | {loss_res['core'][0]:,.0f} | {n_l['core']:,} |",
        "",
        f"- Agreement: |ttnn − quad| = {abs(l2_ttnn - l2_quad):.2e} (relative {rel:.1e}).",
        f"- Ratio ttnn / quad: {l2_ratio:,.0f}× — target ≥ 1e4×: {verdict(l2_ratio >= 1e4)}",
        "",
    ]
    write_section(SECTION, "\n".join(lines))
    print(f"wrote {RESULTS} ({elapsed:.0f} s)")
    return 0 if agree_ok else 1


if __name__ == "__main__":
    sys.exit(main())
