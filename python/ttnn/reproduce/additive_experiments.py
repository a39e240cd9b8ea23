"""The paper's additive experiments E4 (Fig. 6, the 2-D and 10-D box plots) and E5
(ReLU), docs/maths/experiments.md, one function per registry entry.

Same signature and return convention as :mod:`ttnn.reproduce.experiments`:
``(scale, seed, target, progress, cache) -> (metrics, data)``; ``target`` is
accepted for a uniform interface and ignored (E4/E5 have their own targets).

Every repeat r runs both regimes from the same start, on the same batch (a paired
comparison, as the paper's Fig. 6 shows both regimes from one initialisation):
the network is ``AdditiveNetwork.init_paper(d, 10, η, seed=seed·10⁴ + r)`` and the
batch X ~ U[0, 1)^(n×d) is drawn from ``numpy.random.default_rng([seed, d, r])``.
All 2R runs of an experiment go into one :func:`ttnn.full_batch_gd_ensemble` call
(OpenMP over runs), so the numbers do not depend on the number of threads.

Covered: a threshold (kink) c of dimension k is covered when some neuron of that
dimension ends within ``2η`` of it (η = 1e-2; also for ReLU, which has no width,
so that both experiments use one tolerance, 0.02).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import ttnn

from ..additive import (  # noqa: F401  (re-exported: the experiments' own names)
    PAPER_ETA,
    TEACHER_A,
    TEACHER_U,
    THRESHOLDS,
    paper_teacher,
    staircase,
)
from .experiments import SCALES, _bar, _done, _init_seed, _report

M = 10
ETA = PAPER_ETA
TOL = 2 * ETA

#: The two regimes of E4/E5 (identical at both scales: they define the experiment).
REGIMES = {
    "standard": dict(step_a=1.0, step_u=1.0, epochs=300),
    "two_timescale": dict(step_a=1.0, step_u=0.01, epochs=5000),
}

#: n (batch size) and repeats per scale. The quick scale keeps n (C = ‖·‖₂/n makes the
#: effective step depend on n, so a smaller batch changes the dynamics) and runs fewer
#: repeats.
E4_D2 = {"paper": dict(d=2, n=1000, repeats=20), "quick": dict(d=2, n=1000, repeats=10)}
E4_D10 = {"paper": dict(d=10, n=10_000, repeats=20), "quick": dict(d=10, n=10_000, repeats=4)}
E5 = {"paper": dict(d=1, n=1000, repeats=20), "quick": dict(d=1, n=1000, repeats=10)}


def teacher() -> ttnn.AdditiveNetwork:
    """The E5 teacher network (d = 1, relu, three neurons, no bias)."""
    return paper_teacher()


def kinks_covered(u: np.ndarray, kinks: tuple[float, ...] = THRESHOLDS) -> np.ndarray:
    """(d, len(kinks)) booleans: does some neuron of dimension k end within 2η of kink c?
    (:func:`ttnn.breaks_covered` per dimension.)"""
    u = np.asarray(u)
    return np.stack([ttnn.breaks_covered(u[:, k], kinks, tol=TOL) for k in range(u.shape[1])])


def _check(scale: str) -> None:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")


def _batch_seed(seed: int, d: int, r: int) -> list[int]:
    return [seed, d, r]


def _run(kind: str, cfg: dict, seed: int, progress: bool) -> dict[str, Any]:
    """All repeats of both regimes of one experiment ("e4" or "e5") in one ensemble call."""
    d, n, reps = cfg["d"], cfg["n"], cfg["repeats"]
    activation = "relu" if kind == "e5" else "cubic"
    f_star = teacher() if kind == "e5" else None
    nets, Xs, ys, regimes, repeat = [], [], [], [], []
    for r in range(reps):
        X = np.random.default_rng(_batch_seed(seed, d, r)).random((n, d))
        y = f_star(X) if f_star is not None else staircase(X)
        net = ttnn.AdditiveNetwork.init_paper(
            d, M, ETA, seed=_init_seed(seed, r), activation=activation
        )
        for name in REGIMES:
            nets.append(net)
            Xs.append(X)
            ys.append(y)
            regimes.append(name)
            repeat.append(r)
    cols = {k: [REGIMES[g][k] for g in regimes] for k in ("step_a", "step_u", "epochs")}
    bar = _bar(progress, f"{kind.upper()} d={d} GD ({len(nets)} runs, n={n})")
    results = ttnn.full_batch_gd_ensemble(
        nets,
        Xs,
        ys,
        step_a=cols["step_a"],
        step_u=cols["step_u"],
        epochs=[int(e) for e in cols["epochs"]],
        snapshots=2,
        progress=_report(bar),
    )
    _done(bar)
    kinks = TEACHER_U if kind == "e5" else THRESHOLDS
    runs = []
    for i, res in enumerate(results):
        cov = kinks_covered(res.u[-1], kinks)
        runs.append(
            dict(
                repeat=repeat[i],
                regime=regimes[i],
                init_seed=_init_seed(seed, repeat[i]),
                batch_seed=_batch_seed(seed, d, repeat[i]),
                initial_criterion=float(res.criterion[0]),
                final_criterion=float(res.criterion[-1]),
                kinks_covered=int(cov.sum()),
                kinks_total=int(cov.size),
                frac_covered=float(cov.mean()),
                all_covered=bool(cov.all()),
                epochs=int(res.epochs[-1]),
            )
        )
    settings = dict(
        d=d,
        n=n,
        m_per_dim=M,
        eta=ETA,
        activation=activation,
        bias=False,
        init="u ~ U[0,1), a ~ 3 U[0,1)",
        criterion="||f(X) - y||_2 / n",
        regimes=REGIMES,
        repeats=reps,
        coverage_tol=TOL,
        kinks=list(kinks),
        target=(
            f"teacher relu u*={list(TEACHER_U)}, a*={list(TEACHER_A)}"
            if kind == "e5"
            else "sum_k sum_c 1[x_k > c], c in (0.3, 0.5, 0.7)"
        ),
        data_seed=seed,
    )
    return dict(settings=settings, runs=runs, results=results)


def _summary(runs: list[dict]) -> dict[str, Any]:
    """Medians per regime and the paired comparison of coverage."""
    per: dict[str, Any] = {}
    for name in REGIMES:
        rs = [r for r in runs if r["regime"] == name]
        crit = [r["final_criterion"] for r in rs]
        frac = [r["frac_covered"] for r in rs]
        per[name] = dict(
            median_final_criterion=float(np.median(crit)),
            min_final_criterion=float(np.min(crit)),
            max_final_criterion=float(np.max(crit)),
            mean_frac_covered=float(np.mean(frac)),
            median_frac_covered=float(np.median(frac)),
            frac_runs_all_covered=float(np.mean([r["all_covered"] for r in rs])),
            epochs=REGIMES[name]["epochs"],
        )
    std = {r["repeat"]: r for r in runs if r["regime"] == "standard"}
    tt = {r["repeat"]: r for r in runs if r["regime"] == "two_timescale"}
    diff = [tt[k]["kinks_covered"] - std[k]["kinks_covered"] for k in sorted(std)]
    paired = dict(
        two_timescale_covers_more=int(sum(x > 0 for x in diff)),
        equal=int(sum(x == 0 for x in diff)),
        standard_covers_more=int(sum(x < 0 for x in diff)),
        two_timescale_lower_criterion=int(
            sum(tt[k]["final_criterion"] < std[k]["final_criterion"] for k in sorted(std))
        ),
    )
    return dict(per_regime=per, paired=paired)


def _cached(kind: str, cfg: dict, scale: str, seed: int, progress: bool, cache: dict | None):
    key = (kind, cfg["d"], scale, seed)
    if cache is not None and key in cache:
        return cache[key]
    out = _run(kind, cfg, seed, progress)
    if cache is not None:
        cache[key] = out
    return out


def _box_data(run: dict, value: str) -> dict[str, list[float]]:
    return {g: [r[value] for r in run["runs"] if r["regime"] == g] for g in REGIMES}


def _boxplot_experiment(kind: str, table: dict, scale, seed, progress, cache):
    _check(scale)
    run = _cached(kind, table[scale], scale, seed, progress, cache)
    metrics = dict(settings=run["settings"], **_summary(run["runs"]), runs=run["runs"])
    data = dict(
        settings=run["settings"],
        criterion=_box_data(run, "final_criterion"),
        covered=_box_data(run, "frac_covered"),
    )
    return metrics, data


def d2(
    scale: str = "quick",
    seed: int = 0,
    target: str = "code",
    progress: bool = False,
    cache: dict | None = None,
) -> tuple[dict, dict]:
    """E4 at d = 2: final criterion and thresholds covered per regime (box plots)."""
    return _boxplot_experiment("e4", E4_D2, scale, seed, progress, cache)


def d10(
    scale: str = "quick",
    seed: int = 0,
    target: str = "code",
    progress: bool = False,
    cache: dict | None = None,
) -> tuple[dict, dict]:
    """E4 at d = 10 (n = 10⁴): final criterion and thresholds covered per regime."""
    return _boxplot_experiment("e4", E4_D10, scale, seed, progress, cache)


def fig6(
    scale: str = "quick",
    seed: int = 0,
    target: str = "code",
    progress: bool = False,
    cache: dict | None = None,
) -> tuple[dict, dict]:
    """E4, Fig. 6: repeat 0 of the 2-D experiment (shared with ``d2``), both regimes."""
    _check(scale)
    run = _cached("e4", E4_D2[scale], scale, seed, progress, cache)
    pair = {r["regime"]: (i, r) for i, r in enumerate(run["runs"]) if r["repeat"] == 0}
    metrics = dict(
        settings=dict(run["settings"], repeat_shown=0),
        runs=[r for _, r in pair.values()],
    )
    data = dict(
        settings=run["settings"],
        final={g: run["results"][i].final for g, (i, _) in pair.items()},
        runs={g: r for g, (_, r) in pair.items()},
    )
    return metrics, data


def relu(
    scale: str = "quick",
    seed: int = 0,
    target: str = "code",
    progress: bool = False,
    cache: dict | None = None,
) -> tuple[dict, dict]:
    """E5: ReLU student and teacher; box plot per regime and one fitted function each
    (the repeat whose two-timescale criterion is the median one, both regimes)."""
    metrics, data = _boxplot_experiment("e5", E5, scale, seed, progress, cache)
    run = _cached("e5", E5[scale], scale, seed, progress, cache)
    tt = sorted(
        (r["final_criterion"], r["repeat"]) for r in run["runs"] if r["regime"] == "two_timescale"
    )
    shown = tt[(len(tt) - 1) // 2][1]
    data["teacher"] = teacher()
    data["final"] = {
        r["regime"]: run["results"][i].final
        for i, r in enumerate(run["runs"])
        if r["repeat"] == shown
    }
    data["shown_runs"] = {r["regime"]: r for r in run["runs"] if r["repeat"] == shown}
    metrics["repeat_shown"] = shown
    return metrics, data
