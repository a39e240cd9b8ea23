"""Figures of the additive experiments E4/E5 (Matplotlib through :mod:`._canvas`).

Each function takes the data returned by the matching function of
:mod:`ttnn.reproduce.additive_experiments` and a directory, writes its files there
and returns their paths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import ttnn

from .._io import save_figure
from ._canvas import figure
from .additive_experiments import REGIMES, THRESHOLDS

DPI = 110
LABEL = {
    "standard": "standard\n(steps 1, 1; 300 ep.)",
    "two_timescale": "two-timescale\n(1, 0.01; 5000 ep.)",
}
COLOR = {"standard": "C1", "two_timescale": "C0"}


def _box(ax, values: dict[str, list[float]], ylabel: str, log: bool) -> None:
    """One box per regime with the individual runs jittered on top."""
    names = list(REGIMES)
    ax.boxplot(
        [values[g] for g in names], widths=0.5, medianprops=dict(color="black"), showfliers=False
    )
    for i, g in enumerate(names, start=1):
        v = np.asarray(values[g])
        ax.plot(i + np.linspace(-0.12, 0.12, len(v)), v, ".", color=COLOR[g], alpha=0.6)
    ax.set_xticks(range(1, len(names) + 1), [LABEL[g] for g in names], fontsize=8)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")


def _boxplots(data: dict, out: Path, name: str, title: str, kinks: str) -> list[Path]:
    s = data["settings"]
    fig, (ax1, ax2) = figure((8, 3.6), 1, 2)
    _box(ax1, data["criterion"], "final criterion $\\|f(X) - y\\|_2 / n$", log=True)
    _box(ax2, data["covered"], f"fraction of {kinks} covered (within 2η)", log=False)
    ax2.set_ylim(-0.05, 1.05)
    fig.suptitle(f"{title}: d = {s['d']}, n = {s['n']}, {s['repeats']} repeats", fontsize=10)
    fig.tight_layout()
    png = Path(out) / f"{name}_boxplot.png"
    save_figure(fig, png, dpi=DPI)
    return [png]


def d2(data: dict, out: Path) -> list[Path]:
    """The appendix's 2-D box plots: final criterion and thresholds covered per regime."""
    return _boxplots(data, out, "d2", "E4", "thresholds")


def d10(data: dict, out: Path) -> list[Path]:
    """The appendix's 10-D box plots."""
    return _boxplots(data, out, "d10", "E4", "thresholds")


def fig6(data: dict, out: Path) -> list[Path]:
    """Fig. 6: on the unit square, the target's level sets (its grid at 0.3, 0.5, 0.7)
    and each neuron as a line (x₁ = u_j1 vertical, x₂ = u_j2 horizontal), per regime."""
    g = np.linspace(0, 1, 301)
    x1, x2 = np.meshgrid(g, g)
    levels = (x1[..., None] > np.asarray(THRESHOLDS)).sum(-1) + (
        x2[..., None] > np.asarray(THRESHOLDS)
    ).sum(-1)
    fig, axes = figure((8, 4.2), 1, 2)
    for ax, regime in zip(axes, REGIMES, strict=True):
        ax.imshow(levels, origin="lower", extent=(0, 1, 0, 1), cmap="Greys", alpha=0.35)
        for c in THRESHOLDS:
            ax.axvline(c, color="black", lw=1.0, ls="--")
            ax.axhline(c, color="black", lw=1.0, ls="--")
        u = data["final"][regime].u
        for v in u[:, 0]:
            ax.axvline(v, color=COLOR[regime], lw=1.2, alpha=0.8)
        for v in u[:, 1]:
            ax.axhline(v, color=COLOR[regime], lw=1.2, alpha=0.8)
        r = data["runs"][regime]
        outside = int(ttnn.neurons_outside(np.ravel(u)).sum())
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_title(
            f"{regime.replace('_', '-')}: {r['kinks_covered']}/{r['kinks_total']} "
            f"thresholds covered\nfinal criterion {r['final_criterion']:.2g}; "
            f"{outside} of {u.size} neurons outside [0, 1]",
            fontsize=9,
        )
    fig.suptitle(
        "Fig. 6 (E4, d = 2): neurons (coloured) vs the target's grid (dashed), one start",
        fontsize=10,
    )
    fig.tight_layout()
    png = Path(out) / "fig6_neurons.png"
    save_figure(fig, png, dpi=DPI)
    return [png]


def relu(data: dict, out: Path) -> list[Path]:
    """E5: box plots per regime, and the fitted functions of one repeat per regime."""
    pngs = _boxplots(data, out, "relu", "E5 (ReLU)", "kinks")
    x = np.linspace(0, 1, 1001)[:, None]
    f_star = data["teacher"](x)
    fig, axes = figure((8, 3.4), 1, 2, sharey=True)
    for ax, regime in zip(axes, REGIMES, strict=True):
        net = data["final"][regime]
        ax.plot(x[:, 0], f_star, color="black", lw=1.5, label="teacher $f^*$")
        ax.plot(x[:, 0], net(x), color=COLOR[regime], lw=1.2, ls="--", label="fitted $f$")
        for c in data["settings"]["kinks"]:
            ax.axvline(c, color="grey", lw=0.5, ls=":")
        ax.plot(
            net.u[:, 0],
            np.zeros(net.m),
            "|",
            color=COLOR[regime],
            ms=12,
            mew=2,
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label="neurons $u_j$",
        )
        r = data["shown_runs"][regime]
        ax.set_xlim(0, 1)
        ax.set_xlabel("x")
        ax.set_title(
            f"{regime.replace('_', '-')}: {r['kinks_covered']}/3 kinks covered, "
            f"C = {r['final_criterion']:.2g}",
            fontsize=9,
        )
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel("f(x)")  # shared y axis: one label
    fig.suptitle(f"E5 (ReLU): repeat {r['repeat']}, both regimes from one start", fontsize=10)
    fig.tight_layout()
    png = Path(out) / "relu_fit.png"
    save_figure(fig, png, dpi=DPI)
    return [*pngs, png]
