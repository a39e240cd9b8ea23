"""Figures of the 1-D experiments (matplotlib, Agg backend, no display needed).

Each ``figN(data, out)`` takes the data returned by the matching function of
:mod:`ttnn.reproduce.experiments` and a directory, writes its files there and
returns their paths.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402

from .._io import save_animation, save_figure  # noqa: E402

X = np.linspace(0.0, 1.0, 2001)
MAX_GIF_FRAMES = 50


def _target(ax, tgt) -> None:
    ax.plot(X, tgt(X), color="black", lw=1.5, label="target $f^*$")
    for v in tgt.breaks:
        ax.axvline(v, color="grey", lw=0.5, ls=":")


def _neurons(ax, u, color="C0", label="neurons $u_j$") -> None:
    """Neuron positions as vertical ticks along the bottom of the axes."""
    ax.plot(
        u,
        np.zeros_like(u),
        "|",
        color=color,
        ms=14,
        mew=2,
        label=label,
        transform=ax.get_xaxis_transform(),
        clip_on=False,
    )


def _iterates_panel(ax, tgt, net, lim_net, title: str) -> None:
    _target(ax, tgt)
    ax.plot(X, net(X), color="C0", lw=1.2, label="SGD $f$")
    if lim_net is not None:
        ax.plot(X, lim_net(X), color="C3", lw=1.0, ls="--", label="two-timescale limit")
    _neurons(ax, net.u)
    ax.set_xlim(0, 1)
    ax.set_xlabel("x")
    ax.set_title(title)


def _limit_net(lim, eta: float, k: int | None = None):
    """The limit's network at snapshot k (the last when k is None), or None."""
    if lim is None:
        return None
    if k is None:
        return lim.final
    from ..network import Network

    return Network(np.asarray(lim.a)[k], np.asarray(lim.u)[k], eta)


def fig3(data: dict, out: Path) -> list[Path]:
    """Iterates at the final snapshot (PNG) and an animation of the snapshots (GIF)."""
    out = Path(out)
    tgt, res, lim = data["target"], data["sgd"], data["limit"]
    fig, ax = plt.subplots(figsize=(7, 4))
    tau = res.tau[-1]
    _iterates_panel(
        ax,
        tgt,
        res.final,
        _limit_net(lim, res.eta),
        f"Fig. 3 (E1): two-timescale SGD, ε = {res.eps:g}, τ = {tau:.3g}",
    )
    ax.legend(loc="upper left", fontsize=8)
    png = out / "fig3_iterates.png"
    fig.tight_layout()
    save_figure(fig, png, dpi=120)
    plt.close(fig)

    # Animation: at most MAX_GIF_FRAMES evenly spaced snapshots, small frames.
    k_all = len(res.steps)
    frames = np.unique(np.linspace(0, k_all - 1, min(MAX_GIF_FRAMES, k_all)).round().astype(int))
    fig, ax = plt.subplots(figsize=(5, 3))
    lo = min(tgt.values.min(), 0.0) - 1.0
    hi = tgt.values.max() + 1.5

    def draw(k: int):
        ax.clear()
        lim_k = None
        if lim is not None and len(np.asarray(lim.tau)) == k_all:
            lim_k = _limit_net(lim, res.eta, int(k))
        _iterates_panel(ax, tgt, res.network(int(k)), lim_k, f"E1, τ = {res.tau[k]:.4f}")
        ax.set_ylim(lo, hi)
        return []

    anim = FuncAnimation(fig, draw, frames=list(frames), blit=False)
    gif = out / "fig3_iterates.gif"
    save_animation(anim, gif, writer=PillowWriter(fps=8), dpi=60)
    plt.close(fig)
    return [png, gif]


def fig4(data: dict, out: Path) -> list[Path]:
    """L2 error against the SGD step, log scale; the limit mapped to steps τ/(ε h)."""
    out = Path(out)
    res, lim = data["sgd"], data["limit"]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(res.steps, res.l2, color="C0", label="SGD")
    if lim is not None:
        steps = np.asarray(lim.tau) / (res.eps * res.h)
        ax.plot(steps, np.asarray(lim.l2), color="C3", ls="--", label="two-timescale limit")
    ax.set_yscale("log")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("$L^2$ error $\\int_0^1 (f - f^*)^2$")
    ax.set_title(f"Fig. 4 (E1): ε = {res.eps:g}, h = {res.h:g}")
    ax.legend()
    fig.tight_layout()
    png = out / "fig4_l2.png"
    save_figure(fig, png, dpi=120)
    plt.close(fig)
    return [png]


def fig5(data: dict, out: Path) -> list[Path]:
    """Standard regime (ε = 1): final fit with neurons; uncovered breaks marked in red."""
    from .experiments import breaks_covered

    out = Path(out)
    tgt, res = data["target"], data["sgd"]
    fig, ax = plt.subplots(figsize=(7, 4))
    _iterates_panel(
        ax,
        tgt,
        res.final,
        None,
        f"Fig. 5 (E2): standard regime, ε = {res.eps:g}, final L2 = {res.l2[-1]:.3g}",
    )
    cov = breaks_covered(res.u[-1], tgt)
    first = True
    for v, c in zip(tgt.breaks, cov, strict=True):
        if not c:
            ax.axvspan(
                v - 0.01,
                v + 0.01,
                color="red",
                alpha=0.25,
                label="break without a neuron within 2η" if first else None,
            )
            first = False
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    png = out / "fig5_standard.png"
    save_figure(fig, png, dpi=120)
    plt.close(fig)
    return [png]


def fig7(data: dict, out: Path) -> list[Path]:
    """Box plot of the final L2 error per ε, log scale."""
    out = Path(out)
    by_eps = data["final_by_eps"]
    eps = sorted(by_eps)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.boxplot([by_eps[e] for e in eps])
    ax.set_xticks(range(1, len(eps) + 1), [f"{e:g}" for e in eps])
    for i, e in enumerate(eps, start=1):
        ax.plot(
            np.full(len(by_eps[e]), i) + np.linspace(-0.1, 0.1, len(by_eps[e])),
            by_eps[e],
            ".",
            color="C0",
            alpha=0.5,
        )
    ax.set_yscale("log")
    ax.set_xlabel("ε")
    ax.set_ylabel("final $L^2$ error")
    s = data["settings"]
    ax.set_title(f"Fig. 7 (E3): τ = {s['tau_max']:g}, h = {s['h']:g}, {s['repeats']} repeats")
    fig.tight_layout()
    png = out / "fig7_boxplot.png"
    save_figure(fig, png, dpi=120)
    plt.close(fig)
    return [png]
