"""The exact population loss, its gradient and the outer layer's normal equations
(docs/maths/model.md#the-loss, docs/maths/dynamics.md#gradients).

    L(a, u) = int_0^1 (f*(x) - f(x; a, u))^2 dx          (no factor 1/2, on purpose)
    dL/da   = 2 (G a - b),  G_ij = int_0^1 phi_i phi_j,  b_i = int_0^1 f* phi_i,
              phi_0 = 1, phi_j = sigma_eta(. - u_j)
    dL/du_j = -2 a_j int_0^1 (f - f*)(x) sigma'_eta(x - u_j) dx

Exactness: between consecutive points of {0, 1, u_j - eta/2, u_j, u_j + eta/2} and the
target's points (its breaks v_i, or a teacher's u*_k - eta*/2, u*_k, u*_k + eta*/2) every
integrand above is a polynomial of degree <= 6 (f* and each sigma_eta(. - u_j) are
polynomials of degree <= 3, each sigma'_eta(. - u_j) of degree <= 2), so 4-node
Gauss-Legendre quadrature on each piece (exact up to degree 7) is exact up to rounding.

The target is ``(breaks, values)``, or ``breaks=Teacher(...)`` with ``values=None``
(see reference.target).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .activation import check_activation, dsigma_eta
from .network import _check_params, features, forward
from .target import target_eval, target_points

#: Number of Gauss-Legendre nodes per piece (exact for polynomials of degree <= 7).
GAUSS_NODES: int = 4


def breakpoints(
    u: ArrayLike, eta: float, breaks: Any, activation: str = "cubic"
) -> NDArray[np.float64]:
    """The sorted unique points in [0, 1] between which every integrand is a polynomial.

    The points {0, 1, v_i, u_j - eta/2, u_j, u_j + eta/2} (for relu: {0, 1, v_i, u_j}),
    clipped to [0, 1], where the v_i are the target's points (target_points)."""
    check_activation(activation)
    u = np.asarray(u, dtype=np.float64)
    breaks = target_points(breaks)
    ends = np.array([0.0, 1.0])
    if activation == "relu":
        points = np.concatenate([ends, breaks, u])
    else:
        points = np.concatenate([ends, breaks, u - eta / 2, u, u + eta / 2])
    return np.unique(np.clip(points, 0.0, 1.0))


def gauss_legendre_nodes(points: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """4-node Gauss-Legendre nodes and weights on every piece [p, q] of sorted ``points``.

    On [p, q] the nodes are (p + q)/2 + (q - p)/2 t_k and the weights (q - p)/2 w_k, where
    (t_k, w_k) are the nodes and weights on [-1, 1].  Pieces with q <= p are skipped.
    Returns ``(x, w)``, 1-d arrays of length 4 * (number of pieces), so that
    sum(w * g(x)) = int_{points[0]}^{points[-1]} g exactly for piecewise polynomials g of
    degree <= 7 on the pieces.
    """
    points = np.asarray(points, dtype=np.float64)
    t, w = np.polynomial.legendre.leggauss(GAUSS_NODES)
    p = points[:-1]
    q = points[1:]
    keep = q > p
    p = p[keep]
    q = q[keep]
    centre = (p + q) / 2
    half_width = (q - p) / 2
    # Shape (pieces, GAUSS_NODES), flattened piece by piece.
    x = centre[:, np.newaxis] + half_width[:, np.newaxis] * t
    weights = half_width[:, np.newaxis] * w
    return x.ravel(), weights.ravel()


def _quadrature(
    u: NDArray[np.float64], eta: float, breaks: Any, activation: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes and weights that integrate every integrand of this module exactly on [0, 1]."""
    return gauss_legendre_nodes(breakpoints(u, eta, breaks, activation))


def l2_error(
    a: ArrayLike,
    u: ArrayLike,
    eta: float,
    breaks: Any,
    values: ArrayLike | None,
    activation: str = "cubic",
) -> float:
    """The exact population loss L(a, u) = int_0^1 (f*(x) - f(x; a, u))^2 dx
    (docs/maths/model.md#the-loss).

    No factor 1/2.  Computed by Gauss-Legendre quadrature on every polynomial piece.
    """
    a, u = _check_params(a, u)
    x, w = _quadrature(u, eta, breaks, activation)
    residual = forward(a, u, eta, x, activation) - target_eval(breaks, values, x)
    return float(np.sum(w * residual**2))


def l2_gradient(
    a: ArrayLike,
    u: ArrayLike,
    eta: float,
    breaks: Any,
    values: ArrayLike | None,
    activation: str = "cubic",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The exact gradient of L(a, u) (docs/maths/dynamics.md#gradients).

    Returns ``(grad_a, grad_u)`` with
    dL/da_j = 2 int_0^1 (f - f*) phi_j  (phi_0 = 1, phi_j = sigma_eta(. - u_j)), and
    dL/du_j = -2 a_j int_0^1 (f - f*)(x) sigma'_eta(x - u_j) dx.
    """
    a, u = _check_params(a, u)
    x, w = _quadrature(u, eta, breaks, activation)
    residual = forward(a, u, eta, x, activation) - target_eval(breaks, values, x)
    phi = features(u, eta, x, activation)  # (nodes, m + 1)
    dphi = dsigma_eta(x[:, np.newaxis] - u, eta, activation)  # (nodes, m)
    grad_a = 2.0 * np.sum((w * residual)[:, np.newaxis] * phi, axis=0)
    grad_u = -2.0 * a[1:] * np.sum((w * residual)[:, np.newaxis] * dphi, axis=0)
    return grad_a, grad_u


def gram_system(
    u: ArrayLike,
    eta: float,
    breaks: Any,
    values: ArrayLike | None,
    activation: str = "cubic",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The outer layer's normal equations G a = b (docs/maths/dynamics.md#gradients).

    Returns ``(G, b)`` of shapes (m + 1, m + 1) and (m + 1,) with G_ij = int_0^1 phi_i phi_j
    and b_i = int_0^1 f* phi_i (phi_0 = 1, phi_j = sigma_eta(. - u_j)), so that
    dL/da = 2 (G a - b).
    """
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 1:
        raise ValueError(f"u must be a 1-d array, got shape {u.shape}")
    x, w = _quadrature(u, eta, breaks, activation)
    phi = features(u, eta, x, activation)  # (nodes, m + 1)
    fstar = target_eval(breaks, values, x)
    gram = phi.T @ (w[:, np.newaxis] * phi)
    rhs = phi.T @ (w * fstar)
    return gram, rhs
