"""``barboni2025``: Section 6.1 of Barboni, Peyré & Vialard (2025), figure
``relu1d_2ts`` (beyond the first paper; not in ``all``).

The circle ReLU model (docs/maths/circle.md): a teacher of particles drawn from ρ_γ,
students of M neurons trained by VarPro and by two-timescale GD (2TS) on N Gaussian
samples, for each λ, M and seed. All runs go into one :func:`ttnn.circle.train_ensemble`
call (numbers independent of the thread count); the limit PDE is integrated once, to
the snapshot times, and every run records its MMD to it.

Seeds: the teacher is drawn with ``seed``; repeat r draws its samples and initial
angles with ``seed·10⁴ + r`` (the same for both methods and every λ and M, so the
methods are compared on the same data and start).

The four claims are computed from the seed-averaged curves by :func:`claims`, each
with the criterion stated there and in docs/maths/circle.md ("The claims of
``ttnn reproduce barboni2025``"); each is reported as holding or not, with its numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import circle
from .experiments import SCALES, _bar, _done, _init_seed, _report

GAMMA = 100.0
METHODS = ("varpro", "2ts")
#: Per scale: the grid (λ rows, M curves), seeds, iterations, samples N, teacher
#: particles, PDE cells, and the snapshots (log-spaced count + evenly spaced count).
SETTINGS: dict[str, dict[str, Any]] = {
    "paper": dict(
        lams=(1e-1, 1e-2, 1e-3),
        Ms=(32, 128, 512, 1024),
        seeds=6,
        iterations=32_000,
        N=4096,
        particles=4096,
        cells=4096,
        log_snapshots=40,
        even_snapshots=33,
    ),
    "quick": dict(
        lams=(1e-1, 1e-2, 1e-3),
        Ms=(32, 128, 512),
        seeds=2,
        iterations=16_000,
        N=1024,
        particles=1024,
        cells=1024,
        log_snapshots=30,
        even_snapshots=17,
    ),
}

#: Claim criteria (docs/maths/circle.md states them in words).
#: (a) the criterion falls by at least this many decades (VarPro, every λ, every M >= 128).
J_DECADES = 2.0
#: (b) the MMD to the teacher falls by more than this many decades (VarPro, M >= 128) ...
MMD_DECADES = 1.0
#: (c) 2TS tracks VarPro: its J within this many decades of VarPro's at every snapshot
#: (every M) at the largest λ; it lags: its J is on average at least this many decades
#: above VarPro's (mean over the snapshots after the first, every M) at the smallest λ.
TRACK_DECADES = 0.3
LAG_DECADES = 0.3


def snapshots(iterations: int, n_log: int, n_even: int) -> tuple[int, ...]:
    """Log-spaced snapshots (for the log-log column) merged with evenly spaced ones."""
    even = np.round(np.linspace(0, iterations, n_even)).astype(np.int64)
    both = np.union1d(np.asarray(circle.log_iterations(iterations, n_log)), even)
    return tuple(int(i) for i in both)


def _key(x: float) -> str:
    return f"{x:g}"


def barboni2025(
    scale: str = "quick",
    seed: int = 0,
    target: str = "code",
    progress: bool = False,
    cache: dict | None = None,
    settings: dict[str, Any] | None = None,
) -> tuple[dict, dict]:
    """Seed-averaged J, MMD to the teacher and MMD to the PDE per (λ, method, M), the
    claims, and one run's angles for the density figure. ``target`` is ignored;
    ``settings`` overrides the scale's (tests use a tiny grid)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    cfg = dict(SETTINGS[scale], **(settings or {}))
    teacher = circle.Teacher(gamma=GAMMA, particles=cfg["particles"], seed=seed)
    snaps = snapshots(cfg["iterations"], cfg["log_snapshots"], cfg["even_snapshots"])
    runs: list[circle.CircleRun] = []
    for lam in cfg["lams"]:
        for method in METHODS:
            for M in cfg["Ms"]:
                for r in range(cfg["seeds"]):
                    runs.append(
                        circle.CircleRun(
                            M=M,
                            lam=lam,
                            method=method,
                            N=cfg["N"],
                            iterations=cfg["iterations"],
                            snapshots=snaps,
                            distances=("mmd_teacher", "mmd_pde"),
                            seed=_init_seed(seed, r),
                            pde_cells=cfg["cells"],
                        )
                    )
    bar = _bar(progress, f"barboni2025 ({len(runs)} runs of {cfg['iterations']} iterations)")
    results = circle.train_ensemble(teacher, runs, progress=_report(bar) or False)
    _done(bar)
    curves: dict[str, dict[str, dict[str, dict[str, list[float]]]]] = {
        q: {} for q in ("J", "mmd_teacher", "mmd_pde")
    }
    for q in curves:
        for lam in cfg["lams"]:
            curves[q][_key(lam)] = {m: {} for m in METHODS}
    for lam in cfg["lams"]:
        for method in METHODS:
            for M in cfg["Ms"]:
                rs = [
                    res
                    for run, res in zip(runs, results, strict=True)
                    if run.lam == lam and run.method == method and run.M == M
                ]
                for q in curves:
                    stack = np.stack([getattr(res, q) for res in rs])  # type: ignore[union-attr]
                    curves[q][_key(lam)][method][str(M)] = stack.mean(axis=0).tolist()
    iteration = list(snaps)
    found = claims(curves, iteration, cfg["Ms"], cfg["lams"])
    # Density figure: the largest M at the smallest λ, VarPro, repeat 0.
    lam_d, M_d = min(cfg["lams"]), max(cfg["Ms"])
    shown = next(
        res
        for run, res in zip(runs, results, strict=True)
        if run.lam == lam_d and run.M == M_d and run.method == "varpro" and run.seed == runs[0].seed
    )
    assert not isinstance(shown, BaseException)
    k_shown = _density_snapshots(iteration)
    pde_f = circle.pde(
        [iteration[k] * circle.DT for k in k_shown], gamma=GAMMA, cells=cfg["cells"]
    ).f
    s_out = dict(
        gamma=GAMMA,
        lams=list(cfg["lams"]),
        Ms=list(cfg["Ms"]),
        methods=list(METHODS),
        seeds=cfg["seeds"],
        iterations=cfg["iterations"],
        dt=circle.DT,
        N=cfg["N"],
        teacher_particles=cfg["particles"],
        pde_cells=cfg["cells"],
        regularisation="unbiased",
        snapshots=len(iteration),
        seed=seed,
    )
    metrics = dict(
        settings=s_out,
        claims=found,
        final={
            q: {
                lam: {m: {M: v[-1] for M, v in per.items()} for m, per in by.items()}
                for lam, by in curves[q].items()
            }
            for q in curves
        },
        initial={
            q: {
                lam: {m: {M: v[0] for M, v in per.items()} for m, per in by.items()}
                for lam, by in curves[q].items()
            }
            for q in ("J", "mmd_teacher")
        },
    )
    data = dict(
        settings=s_out,
        iteration=iteration,
        curves=curves,
        claims=found,
        density=dict(
            lam=lam_d,
            M=M_d,
            iteration=[iteration[k] for k in k_shown],
            theta=[shown.theta[k].tolist() for k in k_shown],
            pde=pde_f.tolist(),
            centres=circle.cell_centres(cfg["cells"]).tolist(),
            rho=teacher.density(circle.cell_centres(cfg["cells"])).tolist(),
        ),
    )
    return metrics, data


def _density_snapshots(iteration: list[int]) -> list[int]:
    """Four snapshot indices for the density figure: the start, t ≈ 1/8 and 1 (or the
    nearest recorded) and the end."""
    its = np.asarray(iteration)
    out = [0]
    for t in (0.125, 1.0):
        k = int(np.argmin(np.abs(its * circle.DT - t)))
        if k not in out and k != len(its) - 1:
            out.append(k)
    out.append(len(its) - 1)
    return sorted(set(out))


def _decades(a: float, b: float) -> float:
    """How many decades a curve fell from ``a`` to ``b`` (inf if it reached 0)."""
    if b <= 0:
        return float("inf")
    return float(np.log10(a / b))


def claims(
    curves: dict[str, Any], iteration: list[int], Ms: Any, lams: Any
) -> dict[str, dict[str, Any]]:
    """The four claims, each ``{"holds": bool, "criterion": str, ...numbers}``, from the
    seed-averaged curves ``curves[q][λ][method][M]`` (q: J, mmd_teacher, mmd_pde)."""
    Ms = sorted(int(m) for m in Ms)
    lams = sorted(float(x) for x in lams)
    big = [M for M in Ms if M >= 128]
    small = [M for M in Ms if M < 128]
    out: dict[str, dict[str, Any]] = {}

    def curve(q: str, lam: float, method: str, M: int) -> np.ndarray:
        return np.asarray(curves[q][_key(lam)][method][str(M)], dtype=np.float64)

    # (a) the criterion falls by orders of magnitude for M >= 128 (VarPro).
    fall = {
        f"lam={_key(lam)},M={M}": _decades(
            curve("J", lam, "varpro", M)[0], curve("J", lam, "varpro", M)[-1]
        )
        for lam in lams
        for M in big
    }
    out["a"] = dict(
        claim="the criterion falls by orders of magnitude for M >= 128",
        criterion=f"VarPro, every λ and M >= 128: log10(J(0)/J(end)) >= {J_DECADES:g}",
        decades=fall,
        min_decades=min(fall.values()) if fall else float("nan"),
        holds=bool(fall) and min(fall.values()) >= J_DECADES,
    )
    # (b) the MMD to the teacher falls by > 1 decade, less so at M = 32 (VarPro).
    mmd_fall = {
        lam: {
            M: _decades(
                curve("mmd_teacher", lam, "varpro", M)[0],
                curve("mmd_teacher", lam, "varpro", M)[-1],
            )
            for M in Ms
        }
        for lam in lams
    }
    big_min = min((mmd_fall[lam][M] for lam in lams for M in big), default=float("nan"))
    less_at_small = all(
        mmd_fall[lam][M] < min(mmd_fall[lam][b] for b in big) for lam in lams for M in small
    )
    out["b"] = dict(
        claim="the MMD to the teacher falls by more than an order of magnitude, less so at M = 32",
        criterion=(
            f"VarPro: log10(MMD(0)/MMD(end)) > {MMD_DECADES:g} for every λ and M >= 128, "
            "and at every λ smaller for M < 128 than for every M >= 128"
        ),
        decades={f"lam={_key(lam)},M={M}": v for lam in lams for M, v in mmd_fall[lam].items()},
        min_decades_M_ge_128=big_min,
        less_at_small_M=less_at_small if small else None,
        holds=bool(big) and big_min > MMD_DECADES and (less_at_small if small else True),
    )

    # (c) 2TS tracks VarPro at the largest λ and lags at the smallest.
    def gap(lam: float, M: int) -> np.ndarray:
        with np.errstate(divide="ignore"):  # a J of exactly 0 gives an infinite gap
            return np.log10(curve("J", lam, "2ts", M)[1:] / curve("J", lam, "varpro", M)[1:])

    hi, lo = max(lams), min(lams)
    track = {str(M): float(np.max(np.abs(gap(hi, M)))) for M in Ms}
    lag = {str(M): float(np.mean(gap(lo, M))) for M in Ms}
    tracks = max(track.values()) <= TRACK_DECADES
    lags = min(lag.values()) >= LAG_DECADES
    out["c"] = dict(
        claim=f"at λ = {hi:g} 2TS tracks VarPro, at λ = {lo:g} it lags",
        criterion=(
            f"λ = {hi:g}: |log10(J_2TS/J_VarPro)| <= {TRACK_DECADES:g} at every snapshot "
            f"after the first, every M; λ = {lo:g}: mean over those snapshots of "
            f"log10(J_2TS/J_VarPro) >= {LAG_DECADES:g}, every M"
        ),
        max_gap_at_largest_lam=track,
        mean_gap_at_smallest_lam=lag,
        tracks=tracks,
        lags=lags,
        holds=tracks and lags,
    )
    # (d) the MMD to the PDE falls with M (VarPro, at the smallest λ: nearest the limit).
    final = {str(M): float(curve("mmd_pde", lo, "varpro", M)[-1]) for M in Ms}
    vals = [final[str(M)] for M in Ms]
    by_lam = {
        _key(lam): {str(M): float(curve("mmd_pde", lam, "varpro", M)[-1]) for M in Ms}
        for lam in lams
    }
    out["d"] = dict(
        claim="the MMD to the PDE falls with M",
        criterion=f"VarPro at λ = {lo:g}: the final MMD to the PDE decreases strictly with M",
        final_mmd_pde=final,
        final_mmd_pde_per_lam=by_lam,
        holds=len(vals) >= 2 and all(b < a for a, b in zip(vals, vals[1:], strict=False)),
    )
    return out


def _g(x: float) -> str:
    return f"{x:.2g}" if abs(x) < 1e-3 or abs(x) >= 1e3 else f"{x:.3g}"


def claims_rows(e: dict[str, Any]) -> list[str]:
    """The claims table's rows for ``metrics["experiments"]["barboni2025"]``."""
    c, s = e["claims"], e["settings"]
    head = (
        f"barboni2025 (Barboni et al. 2025, Fig. relu1d_2ts; {s['seeds']} seeds, "
        f"{s['iterations']} iterations, N = {s['N']})"
    )

    def verdict(x: dict[str, Any]) -> str:
        return "**holds**" if x["holds"] else "**does not hold**"

    a, b, cc, d = c["a"], c["b"], c["c"], c["d"]
    # The last step in M, so that a fall too small for the rounding above shows.
    ms = list(d["final_mmd_pde"])
    last = d["final_mmd_pde"][ms[-1]] / d["final_mmd_pde"][ms[-2]] - 1 if len(ms) > 1 else 0.0
    return [
        f"| {head}: {a['claim']} | J against the iteration, log scale | {verdict(a)}: "
        f"VarPro's J falls by {_g(a['min_decades'])} decades at least ({a['criterion']}) |",
        f"| {b['claim']} | MMD to the teacher against the iteration | {verdict(b)}: "
        f"at least {_g(b['min_decades_M_ge_128'])} decades for M >= 128; "
        + ", ".join(f"{k}: {_g(v)}" for k, v in b["decades"].items() if k.endswith("M=32"))
        + f" ({b['criterion']}) |",
        f"| {cc['claim']} | solid (VarPro) and dashed (2TS) curves | {verdict(cc)}: "
        "max gap at the largest λ "
        + ", ".join(f"M={k}: {_g(v)}" for k, v in cc["max_gap_at_largest_lam"].items())
        + " decades; mean gap at the smallest λ "
        + ", ".join(f"M={k}: {_g(v)}" for k, v in cc["mean_gap_at_smallest_lam"].items())
        + f" decades ({cc['criterion']}) |",
        f"| {d['claim']} | MMD to the PDE, log-log | {verdict(d)}: final MMD "
        + ", ".join(f"M={k}: {v:.4g}" for k, v in d["final_mmd_pde"].items())
        + f"; from M = {ms[-2]} to {ms[-1]} it changes by {last:+.2%}"
        + f" ({d['criterion']}) |",
    ]
