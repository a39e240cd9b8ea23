"""``relu1d``: the paper's E5 ReLU teacher in 1-D, as *online* SGD (beyond the paper,
which ran E5 as full-batch GD on a fixed batch).

Teacher f*(x) = relu(x − 0.3) − 2 relu(x − 0.5) + 3 relu(x − 0.7) (a ``ttnn.Network``,
no bias); student: 10 relu neurons and a bias, the paper's initialisation (a = 0,
u sorted U[0, 1)). Samples x ~ U[0, 1), y = f*(x) + ξ with the paper's online noise
ξ ~ U[−1, 1]. Both regimes take the same number of steps P with the same h, so they
see the same number of samples: standard ε = 1, two-timescale ε = 0.01.

Repeat r starts from ``Network.init(10, seed=seed·10⁴ + r)``; all runs of both regimes
go into one :func:`ttnn.sgd_ensemble` call (run i samples from stream (seed, i)), so
the numbers do not depend on the number of threads. A kink is covered when a neuron
ends within 0.02 of it (the tolerance of E5).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import ttnn

from .experiments import SCALES, _bar, _done, _init_seed, _report

M = 10
H = 3e-3
TOL = 0.02
TEACHER_U = (0.3, 0.5, 0.7)
TEACHER_A = (1.0, -2.0, 3.0)
NOISE = 1.0
#: ε per regime.
REGIMES = {"standard": 1.0, "two_timescale": 0.01}
#: Steps per run and repeats per regime, per scale.
SETTINGS = {"paper": dict(steps=10_000_000, repeats=20), "quick": dict(steps=3_000_000, repeats=10)}


def teacher() -> ttnn.Network:
    """The E5 teacher as a 1-D network (relu ignores η; 1.0 is a placeholder)."""
    return ttnn.Network([0.0, *TEACHER_A], TEACHER_U, 1.0, "relu")


def relu1d(
    scale: str = "quick",
    seed: int = 0,
    target: str = "code",
    progress: bool = False,
    cache: dict | None = None,
) -> tuple[dict, dict]:
    """Final L2 error and kinks covered per regime, and one fitted function each (the
    repeat whose two-timescale error is the (lower) median one). ``target`` is ignored."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    cfg = SETTINGS[scale]
    f_star = teacher()
    nets, eps, regime, repeat = [], [], [], []
    for name, e in REGIMES.items():
        for r in range(cfg["repeats"]):
            nets.append(ttnn.Network.init(M, 1.0, seed=_init_seed(seed, r), activation="relu"))
            eps.append(e)
            regime.append(name)
            repeat.append(r)
    bar = _bar(progress, f"relu1d online SGD ({len(nets)} runs, P={cfg['steps']:g})")
    results = ttnn.sgd_ensemble(
        nets,
        f_star,
        h=H,
        eps=eps,
        steps=cfg["steps"],
        noise=ttnn.UniformNoise(NOISE),
        seed=seed,
        snapshots=2,
        progress=_report(bar),
    )
    _done(bar)
    runs: list[dict[str, Any]] = []
    for i, res in enumerate(results):
        cov = ttnn.breaks_covered(res.final, f_star, tol=TOL)
        assert res.l2 is not None
        runs.append(
            dict(
                repeat=repeat[i],
                regime=regime[i],
                eps=eps[i],
                init_seed=_init_seed(seed, repeat[i]),
                stream=i,
                final_l2=float(res.l2[-1]),
                kinks_covered=int(cov.sum()),
                frac_covered=float(cov.mean()),
                all_covered=bool(cov.all()),
            )
        )
    per: dict[str, dict[str, float]] = {}
    for name in REGIMES:
        rs = [r for r in runs if r["regime"] == name]
        per[name] = dict(
            median_final_l2=float(np.median([r["final_l2"] for r in rs])),
            max_final_l2=float(np.max([r["final_l2"] for r in rs])),
            mean_frac_covered=float(np.mean([r["frac_covered"] for r in rs])),
            frac_runs_all_covered=float(np.mean([r["all_covered"] for r in rs])),
        )
    std = {r["repeat"]: r for r in runs if r["regime"] == "standard"}
    tt = {r["repeat"]: r for r in runs if r["regime"] == "two_timescale"}
    keys = sorted(std)
    paired = dict(
        two_timescale_covers_more=sum(
            tt[k]["kinks_covered"] > std[k]["kinks_covered"] for k in keys
        ),
        equal=sum(tt[k]["kinks_covered"] == std[k]["kinks_covered"] for k in keys),
        standard_covers_more=sum(tt[k]["kinks_covered"] < std[k]["kinks_covered"] for k in keys),
        two_timescale_lower_l2=sum(tt[k]["final_l2"] < std[k]["final_l2"] for k in keys),
    )
    settings = dict(
        student=f"{M} relu neurons and a bias, a = 0, u sorted U[0,1)",
        teacher=f"relu, u*={list(TEACHER_U)}, a*={list(TEACHER_A)}, no bias",
        noise=f"U[-{NOISE:g}, {NOISE:g}]",
        h=H,
        eps=REGIMES,
        steps=cfg["steps"],
        repeats=cfg["repeats"],
        coverage_tol=TOL,
        kinks=list(TEACHER_U),
        seed=seed,
    )
    order = sorted((tt[k]["final_l2"], k) for k in keys)
    shown = order[(len(order) - 1) // 2][1]
    metrics = dict(settings=settings, per_regime=per, paired=paired, runs=runs, repeat_shown=shown)
    data = dict(
        settings=settings,
        teacher=f_star,
        l2={g: [r["final_l2"] for r in runs if r["regime"] == g] for g in REGIMES},
        covered={g: [r["frac_covered"] for r in runs if r["regime"] == g] for g in REGIMES},
        final={regime[i]: results[i].final for i in range(len(results)) if repeat[i] == shown},
        shown_runs={r["regime"]: r for r in runs if r["repeat"] == shown},
    )
    return metrics, data


def plot_relu1d(data: dict[str, Any], out: Path) -> list[Path]:
    """Box plots of the final L2 error and of the kinks covered per regime, and the
    fitted functions of one repeat per regime."""
    from .._io import save_figure
    from ._canvas import figure

    s = data["settings"]
    color = {"standard": "C1", "two_timescale": "C0"}
    label = {g: f"{g.replace('_', '-')}\n(ε = {e:g})" for g, e in REGIMES.items()}
    fig, axes = figure((8, 3.6), 1, 2)
    for ax, key, ylabel, log in (
        (axes[0], "l2", "final L2 error $\\int_0^1 (f - f^*)^2$", True),
        (axes[1], "covered", f"fraction of kinks covered (within {TOL:g})", False),
    ):
        names = list(REGIMES)
        ax.boxplot(
            [data[key][g] for g in names],
            widths=0.5,
            showfliers=False,
            medianprops=dict(color="black"),
        )
        for i, g in enumerate(names, start=1):
            v = np.asarray(data[key][g])
            ax.plot(i + np.linspace(-0.12, 0.12, len(v)), v, ".", color=color[g], alpha=0.6)
        ax.set_xticks(range(1, len(names) + 1), [label[g] for g in names], fontsize=8)
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        else:
            ax.set_ylim(-0.05, 1.05)
    fig.suptitle(
        f"relu1d: online SGD on the E5 teacher, h = {s['h']:g}, P = {s['steps']:g} steps, "
        f"{s['repeats']} repeats",
        fontsize=10,
    )
    fig.tight_layout()
    box = Path(out) / "relu1d_boxplot.png"
    save_figure(fig, box, dpi=110)

    x = np.linspace(0.0, 1.0, 1001)
    fig, axes = figure((8, 3.4), 1, 2, sharey=True)
    for ax, g in zip(axes, REGIMES, strict=True):
        net = data["final"][g]
        r = data["shown_runs"][g]
        ax.plot(x, data["teacher"](x), color="black", lw=1.5, label="teacher $f^*$")
        ax.plot(x, net(x), color=color[g], lw=1.2, ls="--", label="fitted $f$")
        for c in s["kinks"]:
            ax.axvline(c, color="grey", lw=0.5, ls=":")
        ax.plot(
            net.u,
            np.zeros(net.m),
            "|",
            color=color[g],
            ms=12,
            mew=2,
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label="neurons $u_j$",
        )
        ax.set_xlim(0, 1)
        ax.set_xlabel("x")
        ax.set_title(
            f"{label[g].splitlines()[0]}: {r['kinks_covered']}/3 kinks, L2 = {r['final_l2']:.2g}",
            fontsize=9,
        )
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel("f(x)")  # shared y axis: one label
    fig.suptitle(f"relu1d: repeat {r['repeat']}, both regimes from one start", fontsize=10)
    fig.tight_layout()
    fit = Path(out) / "relu1d_fit.png"
    save_figure(fig, fit, dpi=110)
    return [box, fit]
