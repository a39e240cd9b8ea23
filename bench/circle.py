"""The circle ReLU model (docs/maths/circle.md): training iterations and the PDE.

Writes the section "## Circle model: VarPro, 2TS and the PDE (bench/circle.py)" of
RESULTS.md. Problem of the paper's Section 6.1: N = 4096 samples x ~ N(0, I_2), a
teacher of 4096 particles drawn from rho_gamma (gamma = 100), M uniform initial angles.

- ttnn: iterations per second of ``_core.circle_run`` (VarPro: warm-started CG ridge
  solve on sorted-angle sweeps, then the feature step; 2TS: the two gradient steps),
  over a run from the uniform start, recording only the first and last iterates.
- the peer: the same iterations written as a skilled NumPy user would, with BLAS
  (Phi = relu(X W), K = Phi^T Phi / (N M), a Cholesky solve of (K + lam I) u = b, the
  residual and the gradient by matrix products; 2TS without K and the solve).
  Both start from the same state; the peer's first iterate is checked against ttnn's.
- M = 10^4 VarPro iterations per second, on samples and on the exact population.
- the PDE to t = 31.25 on 4096 cells.
Usage: python bench/circle.py [--repeats 3]
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import (
    git_commit,
    header_lines,
    load_average,
    load_note,
    min_time,
    verdict,
    write_section,
)
from scipy.linalg import cho_factor, cho_solve

from ttnn import _core

SECTION = "## Circle model: VarPro, 2TS and the PDE (bench/circle.py)"
N, MT, GAMMA, DT = 4096, 4096, 100.0, 2.0**-10
ITERS, BIG_ITERS = 300, 100  # iterations per timed run at M = 1024 and M = 10^4


def peer_varpro(theta: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    M = theta.size
    W = np.stack([np.cos(theta), np.sin(theta)])
    Z = X @ W
    Phi = np.maximum(Z, 0.0)
    K = Phi.T @ Phi / (N * M)
    K[np.diag_indices(M)] += lam
    u = cho_solve(cho_factor(K), Phi.T @ y / N + lam)
    res = Phi @ u / M - y
    G = ((Z > 0) * res[:, None]).T @ X  # (M, 2): sum_n res_n 1[w.x > 0] x_n
    Wn = W.T - DT * (u[:, None] / (lam * N)) * G
    return np.arctan2(Wn[:, 1], Wn[:, 0])


def peer_2ts(
    theta: np.ndarray, u: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float
) -> tuple[np.ndarray, np.ndarray]:
    M = theta.size
    W = np.stack([np.cos(theta), np.sin(theta)])
    Z = X @ W
    Phi = np.maximum(Z, 0.0)
    res = Phi @ u / M - y
    G = ((Z > 0) * res[:, None]).T @ X
    e = Phi.T @ res / N
    Wn = W.T - DT * (u[:, None] / (lam * N)) * G
    return np.arctan2(Wn[:, 1], Wn[:, 0]), u - e - lam * (u - 1.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    load0 = load_average()
    teacher = _core.circle_sample_rho(MT, GAMMA, seed=0)
    X = _core.circle_gaussian_inputs(N, seed=1)
    pb = _core.CircleProblem(teacher, X)
    y = pb.y
    rows = []
    results: dict[str, float] = {}
    M = 1024
    theta = _core.circle_uniform_angles(M, seed=2)
    for lam in (1e-1, 1e-3):
        iters = ITERS
        out: list = []
        t_vp = min_time(
            lambda lam=lam, out=out: out.append(
                _core.circle_run(pb, theta, lam, "varpro", False, ITERS, [0, 1])
            ),
            args.repeats,
        ) / (iters + 1)
        cg = out[-1].cg_iterations / (iters + 1)
        t_2ts = min_time(
            lambda lam=lam: _core.circle_run(pb, theta, lam, "2ts", False, ITERS, [0]),
            args.repeats,
        ) / (iters + 1)
        # the peer's iteration from the same start, checked against ttnn's first step
        th1 = peer_varpro(theta, X, y, lam)
        gap = np.abs(np.angle(np.exp(1j * (th1 - out[-1].theta[1])))).max()
        assert gap < 1e-8, gap
        t_pv = min_time(lambda lam=lam: peer_varpro(theta, X, y, lam), args.repeats)
        u0 = out[-1].u[0]
        t_p2 = min_time(lambda lam=lam, u0=u0: peer_2ts(theta, u0, X, y, lam), args.repeats)
        results[f"varpro {lam:g}"] = t_pv / t_vp
        results[f"2ts {lam:g}"] = t_p2 / t_2ts
        results[f"2ts vs varpro peer {lam:g}"] = t_pv / t_2ts
        rows.append(
            f"| {lam:g} | {1e3 * t_vp:.3f} ({cg:.1f} CG its) | {1e3 * t_pv:.1f} | "
            f"**{t_pv / t_vp:.0f}×** | {1e3 * t_2ts:.3f} | {1e3 * t_p2:.1f} | "
            f"**{t_p2 / t_2ts:.0f}×** ({t_pv / t_2ts:.0f}× the VarPro peer) |"
        )
    # M = 10^4 VarPro
    big = _core.circle_uniform_angles(10_000, seed=3)
    big_rate = {}
    for lam in (1e-1, 1e-3):
        t = min_time(
            lambda lam=lam: _core.circle_run(pb, big, lam, "varpro", False, BIG_ITERS, [0]), 1
        )
        big_rate[lam] = (BIG_ITERS + 1) / t
    # the exact population (teacher's particles through the arc-cosine kernel)
    pop = _core.CircleProblem(teacher)
    pop_rate = {}
    for m_pop, th_pop in ((M, theta), (10_000, big)):
        t = min_time(
            lambda th_pop=th_pop: _core.circle_run(
                pop, th_pop, 1e-3, "varpro", False, BIG_ITERS, [0]
            ),
            1,
        )
        pop_rate[m_pop] = (BIG_ITERS + 1) / t
    # the PDE
    pde: list = []
    t_pde = min_time(lambda: pde.append(_core.circle_pde(4096, GAMMA, [0.0, 31.25])), args.repeats)
    mass_err = float(np.abs(pde[-1].mass - 1.0).max())
    fstar = _core.circle_rho_cell_masses(4096, GAMMA) * 4096 / (2 * np.pi)
    steady = float(np.abs(pde[-1].f[-1] - fstar).max() / fstar.max())
    load1 = load_average()
    ok_vp = min(v for k, v in results.items() if k.startswith("varpro")) >= 20
    ok_2ts = min(v for k, v in results.items() if k.startswith("2ts 0") or k == "2ts 0.1") >= 10
    ok_big = min(big_rate.values()) >= 10
    lines = [
        SECTION,
        "",
        *header_lines(),
        f"- Commit: `{git_commit()}`; 1-minute load average {load0:.1f} before, "
        f"{load1:.1f} after ({load_note(load0, load1)}).",
        f"- Problem: N = {N} samples, teacher of {MT} particles from rho_gamma (gamma = "
        f"{GAMMA:g}), M = {M} uniform initial angles; best of {args.repeats}. ttnn times are "
        "per iteration over a 300-iteration run from the start (so they include the cold "
        "first projection); the peer's are one iteration (NumPy/SciPy with BLAS, float64).",
        "",
        "| λ | ttnn VarPro (ms) | peer VarPro (ms) | speed-up | ttnn 2TS (ms) | "
        "peer 2TS (ms) | speed-up |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"- Goal VarPro ≥ 20× the peer: {verdict(ok_vp)}. Goal 2TS ≥ 10× (its own NumPy "
        f"iteration, without K and the solve): {verdict(ok_2ts)}.",
        f"- M = 10⁴, N = {N}: VarPro "
        + ", ".join(f"{r:.0f} iterations/s at λ = {lam:g}" for lam, r in big_rate.items())
        + f" (goal ≥ 10/s: {verdict(ok_big)}).",
        "- The exact population (M_t = 4096), VarPro at λ = 0.001: "
        + ", ".join(f"{r:.0f} iterations/s at M = {m}" for m, r in pop_rate.items())
        + ".",
        f"- The PDE to t = 31.25 on 4096 cells: {t_pde:.2f} s ({pde[-1].accepted} accepted, "
        f"{pde[-1].rejected} rejected Rosenbrock-W steps; goal ≤ 10 s: "
        f"{verdict(t_pde <= 10)}); mass error {mass_err:.1e}; max |f − f*| / max f* = "
        f"{steady:.1e} at t = 31.25.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    write_section(SECTION, text)


if __name__ == "__main__":
    main()
