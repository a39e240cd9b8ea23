"""Figures of the 1-D experiments (Matplotlib through :mod:`._canvas`: no display,
no global state touched).

Each ``figN(data, out)`` takes the data returned by the matching function of
:mod:`ttnn.reproduce.experiments` and a directory, writes its files there and
returns their paths.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._io import save_figure
from ._canvas import blank, figure, save_gif

X = np.linspace(0.0, 1.0, 2001)
MAX_GIF_FRAMES = 50
#: Fig. 3's function panels: snapshots at these fractions of the run (first and last
#: included; most of the neurons' travel happens in the first sixth of E1).
FIG3_FRACTIONS = (0.0, 0.03, 0.15, 1.0)
#: Fig. 3's path panels: neurons within this distance of a break, and the y half-range.
FIG3_WINDOW = 0.08
SGD_COLOR, LIMIT_COLOR = "C0", "C3"


def _target(ax, tgt) -> None:
    ax.plot(X, tgt(X), color="black", lw=1.5, label="target $f^*$")
    for v in tgt.breaks:
        ax.axvline(v, color="grey", lw=0.5, ls=":")


def _neurons(ax, u, color=SGD_COLOR, label="neurons $u_j$", size=14) -> None:
    """Neuron positions as vertical ticks along the bottom of the axes."""
    ax.plot(
        u,
        np.zeros_like(u),
        "|",
        color=color,
        ms=size,
        mew=2,
        label=label,
        transform=ax.get_xaxis_transform(),
        clip_on=False,
    )


def _iterates_panel(ax, tgt, net, lim_net, title: str, fontsize: float = 10) -> None:
    """Target, SGD's function and neurons, and (if given) the limit's, on one axes."""
    _target(ax, tgt)
    ax.plot(X, net(X), color=SGD_COLOR, lw=1.2, label="SGD $f$")
    if lim_net is not None:
        ax.plot(X, lim_net(X), color=LIMIT_COLOR, lw=1.0, ls="--", label="two-timescale limit")
    _neurons(ax, net.u, label="SGD neurons $u_j$")
    if lim_net is not None:
        _neurons(ax, lim_net.u, color=LIMIT_COLOR, label="limit neurons", size=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(title, fontsize=fontsize)


def _limit_net(lim, eta: float, k: int | None = None):
    """The limit's network at snapshot k (the last when k is None), or None."""
    if lim is None:
        return None
    if k is None:
        return lim.final
    from ..network import Network

    return Network(np.asarray(lim.a)[k], np.asarray(lim.u)[k], eta)


def _aligned_limit(lim, res):
    """The limit when its snapshots are SGD's (same slow times), else None."""
    if lim is None or len(np.asarray(lim.tau)) != len(res.steps):
        return None
    return lim


def fig3(data: dict, out: Path) -> list[Path]:
    """Fig. 3 as the paper draws it: SGD and the limit at several times along the run
    (top), and the neurons' paths u_j(τ) near each break (bottom); plus a GIF."""
    out = Path(out)
    tgt, res = data["target"], data["sgd"]
    lim = _aligned_limit(data["limit"], res)
    K = len(res.steps)
    shown = sorted({int(round(f * (K - 1))) for f in FIG3_FRACTIONS})
    n_br = len(tgt.breaks)
    fig = blank((13, 7.4), layout="constrained")
    top, bottom = np.asarray(fig.subfigures(2, 1, height_ratios=(1.1, 1)), dtype=object)
    lo = min(float(tgt.values.min()), 0.0) - 0.5
    hi = float(tgt.values.max()) + 1.0
    for i, (ax, k) in enumerate(
        zip(np.atleast_1d(top.subplots(1, len(shown))), shown, strict=True)
    ):
        note = "\nSGD starts at a = 0, the limit at a*(u₀)" if k == 0 and lim is not None else ""
        _iterates_panel(
            ax,
            tgt,
            res.network(k),
            _limit_net(lim, res.eta, k),
            f"τ = {res.tau[k]:.3g} (step {res.steps[k]:.3g}){note}",
            fontsize=9,
        )
        ax.set_ylim(lo, hi)
        if i == 0:
            ax.legend(loc="upper left", fontsize=7)
    tau = np.asarray(res.tau)
    u_sgd = np.asarray(res.u)
    for i, (ax, v) in enumerate(
        zip(np.atleast_1d(bottom.subplots(1, n_br)), tgt.breaks, strict=True)
    ):
        near = np.flatnonzero(
            (np.abs(u_sgd[0] - v) < FIG3_WINDOW) | (np.abs(u_sgd[-1] - v) < FIG3_WINDOW)
        )
        for n, j in enumerate(near):
            ax.plot(tau, u_sgd[:, j], color=SGD_COLOR, lw=1.3, label="SGD" if n == 0 else None)
            if lim is not None:
                ax.plot(
                    np.asarray(lim.tau),
                    np.asarray(lim.u)[:, j],
                    color=LIMIT_COLOR,
                    lw=1.1,
                    ls="--",
                    label="limit" if n == 0 else None,
                )
        ax.axhline(v, color="black", lw=0.8, ls=":", label="break")
        ax.set_ylim(v - FIG3_WINDOW, v + FIG3_WINDOW)
        ax.set_xlim(0, tau[-1])
        ax.locator_params(axis="x", nbins=4)
        ax.set_xlabel("slow time τ = ε h p")
        ax.set_ylabel("$u_j(τ)$")
        ax.set_title(f"neurons near the break {v:g}", fontsize=9)
        if i == 0:
            ax.legend(loc="lower right", fontsize=7)
    fig.suptitle(
        f"Fig. 3 (E1): two-timescale SGD (ε = {res.eps:g}, h = {res.h:g}) and its limit "
        f"(a = a*(u), finite η = {res.eta:g}), m = {u_sgd.shape[1]}",
        fontsize=11,
    )
    png = out / "fig3_iterates.png"
    save_figure(fig, png, dpi=110)

    # Animation: at most MAX_GIF_FRAMES evenly spaced snapshots, one readable panel.
    frames = np.unique(np.linspace(0, K - 1, min(MAX_GIF_FRAMES, K)).round().astype(int))
    fig, ax = figure((6.4, 4.0))
    hi_gif = float(tgt.values.max()) + 2.2

    def draw(k: int) -> None:
        ax.clear()
        _iterates_panel(
            ax,
            tgt,
            res.network(int(k)),
            _limit_net(lim, res.eta, int(k)),
            f"E1: two-timescale SGD and its limit, τ = {res.tau[k]:.4f}",
        )
        ax.set_ylim(lo, hi_gif)
        ax.legend(loc="upper left", ncol=3, fontsize=7.5)
        fig.tight_layout()

    gif = out / "fig3_iterates.gif"
    save_gif(fig, draw, frames, gif, fps=8, dpi=100)
    return [png, gif]


def fig4(data: dict, out: Path) -> list[Path]:
    """L2 error against the SGD step, log scale; the limit mapped to steps τ/(ε h).

    At step 0 the two curves differ on purpose: SGD starts from the paper's a = 0,
    the limit from a*(u₀), the best outer layer for the initial neurons (the limit
    has no fast phase). SGD's fast layer closes that gap within about 1/h steps."""
    out = Path(out)
    res, lim = data["sgd"], data["limit"]
    fig, ax = figure((6.4, 4.2))
    ax.plot(res.steps, res.l2, color=SGD_COLOR, label="SGD (starts at a = 0)")
    if lim is not None:
        steps = np.asarray(lim.tau) / (res.eps * res.h)
        l2_lim = np.asarray(lim.l2)
        ax.plot(
            steps,
            l2_lim,
            color=LIMIT_COLOR,
            ls="--",
            label="two-timescale limit (starts at a = a*(u₀))",
        )
        ax.annotate(
            f"τ = 0: SGD's L2 = {res.l2[0]:.3g} with a = 0;\n"
            f"the limit's {l2_lim[0]:.3g} with a = a*(u₀) (it has no fast phase)",
            xy=(steps[0], l2_lim[0]),
            xytext=(0.22, 0.8),
            textcoords="axes fraction",
            fontsize=8,
            arrowprops=dict(arrowstyle="->", color="grey"),
        )
    ax.set_yscale("log")
    ax.set_xlabel("SGD step p")
    ax.set_ylabel("$L^2$ error $\\int_0^1 (f - f^*)^2$")
    ax.set_title(f"Fig. 4 (E1): ε = {res.eps:g}, h = {res.h:g}")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    png = out / "fig4_l2.png"
    save_figure(fig, png, dpi=120)
    return [png]


def fig5(data: dict, out: Path) -> list[Path]:
    """Standard regime (ε = 1): final fit with neurons; uncovered breaks marked in red."""
    from .experiments import breaks_covered

    out = Path(out)
    tgt, res = data["target"], data["sgd"]
    fig, ax = figure((7, 4))
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
    # Head room for the legend, above the target's highest value.
    ax.set_ylim(top=float(tgt.values.max()) + 1.8)
    ax.legend(loc="upper left", ncol=2, fontsize=8)
    fig.tight_layout()
    png = out / "fig5_standard.png"
    save_figure(fig, png, dpi=120)
    return [png]


def fig7(data: dict, out: Path) -> list[Path]:
    """Box plot of the final L2 error per ε, log scale, every run drawn once as a dot
    (the boxes draw no fliers, so an outlier is not drawn twice)."""
    out = Path(out)
    by_eps = data["final_by_eps"]
    eps = sorted(by_eps)
    fig, ax = figure((5, 4))
    ax.boxplot(
        [by_eps[e] for e in eps], widths=0.5, showfliers=False, medianprops=dict(color="black")
    )
    ax.set_xticks(range(1, len(eps) + 1), [f"{e:g}" for e in eps])
    for i, e in enumerate(eps, start=1):
        ax.plot(
            np.full(len(by_eps[e]), i) + np.linspace(-0.12, 0.12, len(by_eps[e])),
            by_eps[e],
            ".",
            color=SGD_COLOR,
            alpha=0.6,
            label="one run" if i == 1 else None,
        )
    ax.set_yscale("log")
    ax.set_xlabel("ε")
    ax.set_ylabel("final $L^2$ error")
    ax.legend(loc="upper left", fontsize=8)
    s = data["settings"]
    ax.set_title(f"Fig. 7 (E3): τ = {s['tau_max']:g}, h = {s['h']:g}, {s['repeats']} repeats")
    fig.tight_layout()
    png = out / "fig7_boxplot.png"
    save_figure(fig, png, dpi=120)
    return [png]
