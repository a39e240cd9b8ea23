"""The two-timescale limits' right-hand sides, in plain NumPy
(docs/maths/limits.md).

finite eta: a*(u) solves (G + (ridge + delta) I) a = b, delta = 1e-14 (m + 1) a fixed
Tikhonov term (docs/maths/local_basis.md), and du/dtau = -grad_u L(a*(u), u).
eta -> 0: for each break v_i with flanking neurons u^L < v_i < u^R,
d_L = v_i - u^L, d_R = u^R - v_i, s = d_L + d_R:
du^L/dtau = Delta_i^2 (d_R/s)^2, du^R/dtau = -Delta_i^2 (d_L/s)^2, and the
limit loss is L*(u) = sum_i Delta_i^2 d_L d_R / s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .loss import gram_system, l2_gradient

#: delta = TIKHONOV * (m + 1) (also ``reference.local_basis.TIKHONOV``).
TIKHONOV: float = 1e-14


def optimal_outer(
    u: ArrayLike,
    eta: float,
    breaks: Any,
    values: ArrayLike | None,
    activation: str = "cubic",
    ridge: float = 0.0,
) -> NDArray[np.float64]:
    """a*(u): the minimum-norm solution of (G + ridge I) a = b."""
    gram, rhs = gram_system(u, eta, breaks, values, activation)
    gram = gram + ridge * np.eye(gram.shape[0])
    return np.asarray(np.linalg.lstsq(gram, rhs, rcond=1e-12)[0], dtype=np.float64)


def limit_outer(
    u: ArrayLike,
    eta: float,
    breaks: Any,
    values: ArrayLike | None,
    activation: str = "cubic",
    ridge: float = 0.0,
) -> NDArray[np.float64]:
    """The finite-eta limit's a*(u): the solution of (G + (ridge + delta) I) a = b with the
    fixed Tikhonov term delta = 1e-14 (m + 1) (docs/maths/local_basis.md), by a dense
    ``numpy.linalg.solve``; it tends to ``optimal_outer`` as delta -> 0."""
    gram, rhs = gram_system(u, eta, breaks, values, activation)
    lam = ridge + TIKHONOV * gram.shape[0]
    return np.asarray(np.linalg.solve(gram + lam * np.eye(gram.shape[0]), rhs), dtype=np.float64)


def finite_eta_rhs(
    u: ArrayLike,
    eta: float,
    breaks: Any,
    values: ArrayLike | None,
    activation: str = "cubic",
    ridge: float = 0.0,
) -> NDArray[np.float64]:
    """du/dtau = -grad_u L(a*(u), u), with the limit's a*(u) (``limit_outer``)."""
    u = np.asarray(u, dtype=np.float64)
    a = limit_outer(u, eta, breaks, values, activation, ridge)
    return -l2_gradient(a, u, eta, breaks, values, activation)[1]


def zero_eta_pair_rhs(d_left: float, d_right: float, delta: float) -> tuple[float, float]:
    """(du^L/dtau, du^R/dtau) for one break: Delta^2 (d_R/s)^2 and -Delta^2 (d_L/s)^2."""
    s = d_left + d_right
    return delta**2 * (d_right / s) ** 2, -(delta**2) * (d_left / s) ** 2


def zero_eta_loss(u: ArrayLike, breaks: ArrayLike, values: ArrayLike) -> float:
    """L*(u) = sum_i Delta_i^2 d_L d_R / (d_L + d_R) over the breaks."""
    u = np.asarray(u, dtype=np.float64)
    breaks = np.asarray(breaks, dtype=np.float64)
    delta = np.diff(np.asarray(values, dtype=np.float64))
    total = 0.0
    for v, dv in zip(breaks, delta, strict=True):
        d_left = v - u[u < v].max()
        d_right = u[u >= v].min() - v
        if d_left + d_right > 0:
            total += dv**2 * d_left * d_right / (d_left + d_right)
    return float(total)
