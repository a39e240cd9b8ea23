"""Figures of ``barboni2025``: the 3 × 3 grid of ``relu1d_2ts`` and the density
evolution (particles' histogram against the limit PDE)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._io import save_figure
from ._canvas import figure

#: Column: (quantity, label, log-x).
COLUMNS = (
    ("J", "criterion J", False),
    ("mmd_teacher", "MMD to the teacher", False),
    ("mmd_pde", "MMD to the PDE", True),
)
STYLE = {"varpro": "-", "2ts": "--"}


def plot(data: dict[str, Any], out: Path) -> list[Path]:
    """Write barboni2025_relu1d_2ts.png and barboni2025_density.png into ``out``."""
    return [_grid(data, Path(out)), _density(data, Path(out))]


def _grid(data: dict[str, Any], out: Path) -> Path:
    s = data["settings"]
    its = np.asarray(data["iteration"], dtype=np.float64)
    lams = [f"{x:g}" for x in s["lams"]]
    fig, axes = figure((12, 3.2 * len(lams)), len(lams), 3, squeeze=False)
    colours = {str(M): f"C{i}" for i, M in enumerate(s["Ms"])}
    for row, lam in enumerate(lams):
        for col, (q, label, logx) in enumerate(COLUMNS):
            ax = axes[row][col]
            keep = its > 0 if logx else np.ones_like(its, dtype=bool)
            for method in s["methods"]:
                for M, v in data["curves"][q][lam][method].items():
                    ax.plot(
                        its[keep],
                        np.asarray(v)[keep],
                        STYLE[method],
                        color=colours[M],
                        lw=1.2,
                        label=f"M = {M}" if method == "varpro" else None,
                    )
            ax.set_yscale("log")
            if logx:
                ax.set_xscale("log")
            ax.set_title(f"{label}, λ = {lam}", fontsize=9)
            if row == len(lams) - 1:
                ax.set_xlabel("iteration")
            if row == 0 and col == 0:
                ax.legend(fontsize=7, title="solid VarPro, dashed 2TS", title_fontsize=7)
    fig.suptitle(
        f"Circle ReLU model, γ = {s['gamma']:g}: mean over {s['seeds']} seeds, "
        f"N = {s['N']}, {s['iterations']} iterations (t = {s['iterations'] * s['dt']:g})",
        fontsize=10,
    )
    fig.tight_layout()
    path = out / "barboni2025_relu1d_2ts.png"
    save_figure(fig, path, dpi=100)
    return path


def _density(data: dict[str, Any], out: Path) -> Path:
    d, s = data["density"], data["settings"]
    n = len(d["iteration"])
    fig, axes = figure((3.2 * n, 3.0), 1, n, sharey=True, squeeze=False)
    centres = np.asarray(d["centres"])
    for k in range(n):
        ax = axes[0][k]
        theta = np.asarray(d["theta"][k])
        ax.hist(
            theta,
            bins=64,
            range=(-np.pi, np.pi),
            density=True,
            color="C0",
            alpha=0.5,
            label=f"particles (M = {d['M']})",
        )
        ax.plot(centres, np.asarray(d["pde"][k]), color="C3", lw=1.2, label="PDE")
        ax.plot(centres, np.asarray(d["rho"]), color="black", lw=0.8, ls=":", label="ρ_γ")
        ax.set_title(
            f"iteration {d['iteration'][k]} (t = {d['iteration'][k] * s['dt']:.3g})", fontsize=9
        )
        ax.set_xlabel("θ")
        ax.set_yscale("log")
    axes[0][0].set_ylabel("density")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(
        f"VarPro's feature density against the limit PDE, λ = {d['lam']:g}, seed 0",
        fontsize=10,
    )
    fig.tight_layout()
    path = out / "barboni2025_density.png"
    save_figure(fig, path, dpi=100)
    return path
