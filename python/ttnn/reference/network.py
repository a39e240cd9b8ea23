"""The shallow network and its per-sample derivatives (docs/maths/model.md#the-network).

With m neurons and a bias,

    f(x; a, u) = a_0 + sum_{j=1..m} a_j sigma_eta(x - u_j),  a in R^{m+1}, u in R^m,

stored as ``a[0]`` (bias), ``a[1:]`` (outer weights a_1..a_m) and ``u[0:m]`` (positions
u_1..u_m).  Its derivatives are

    df/da_0 = 1,  df/da_j = sigma_eta(x - u_j),  df/du_j = -a_j sigma'_eta(x - u_j).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .activation import dsigma_eta, sigma_eta


def _check_params(a: ArrayLike, u: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``a`` and ``u`` as float64 vectors, checking ``len(a) == len(u) + 1``."""
    a = np.asarray(a, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 1:
        raise ValueError(f"u must be a 1-d array, got shape {u.shape}")
    if a.shape != (len(u) + 1,):
        raise ValueError(f"a must have shape (len(u) + 1,) = ({len(u) + 1},), got {a.shape}")
    return a, u


def features(
    u: ArrayLike, eta: float, x: ArrayLike, activation: str = "cubic"
) -> NDArray[np.float64]:
    """The feature matrix phi(x) of the outer layer, phi_0 = 1, phi_j = sigma_eta(. - u_j)
    (docs/maths/dynamics.md#gradient-flow).

    For ``x`` of shape S returns an array of shape S + (m + 1,) with ``[..., 0] = 1`` and
    ``[..., j] = sigma_eta(x - u_j)`` for j = 1..m, so that f(x) = features(...) @ a.
    """
    u = np.asarray(u, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    phi_neurons = sigma_eta(x[..., np.newaxis] - u, eta, activation)
    phi_bias = np.ones((*x.shape, 1), dtype=np.float64)
    return np.concatenate([phi_bias, phi_neurons], axis=-1)


def forward(
    a: ArrayLike, u: ArrayLike, eta: float, x: ArrayLike, activation: str = "cubic"
) -> NDArray[np.float64]:
    """Evaluate f(x; a, u) = a_0 + sum_j a_j sigma_eta(x - u_j) (docs/maths/model.md#the-network).

    Vectorised over ``x``: returns a float64 array of the same shape as ``x``.
    """
    a, u = _check_params(a, u)
    x = np.asarray(x, dtype=np.float64)
    # Shape S + (m,): entry [..., j] is sigma_eta(x - u_j).
    s = sigma_eta(x[..., np.newaxis] - u, eta, activation)
    return a[0] + np.sum(a[1:] * s, axis=-1)


def sample_gradient(
    a: ArrayLike, u: ArrayLike, eta: float, x: float, activation: str = "cubic"
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The gradient of f(x; a, u) at one scalar ``x`` with respect to (a, u)
    (docs/maths/model.md#the-network).

    Returns ``(grad_a, grad_u)`` of shapes (m + 1,) and (m,):
    df/da_0 = 1, df/da_j = sigma_eta(x - u_j), df/du_j = -a_j sigma'_eta(x - u_j).
    """
    a, u = _check_params(a, u)
    x = float(x)
    grad_a = np.empty(len(a), dtype=np.float64)
    grad_a[0] = 1.0
    grad_a[1:] = sigma_eta(x - u, eta, activation)
    grad_u = -a[1:] * dsigma_eta(x - u, eta, activation)
    return grad_a, grad_u
