"""The additive multi-D network and its full-batch gradient descent (docs/maths/additive.md,
E4 and E5), by the direct formulas.

With a, u of shape (m, d) and an optional bias a_0,

    f(x) = a_0 + sum_{k=1..d} sum_{j=1..m} a_jk sigma_eta(x_k - u_jk),
    C(a, u) = ||f(X) - y||_2 / n          (loss="norm": Euclidean norm, not squared),
    C(a, u) = ||f(X) - y||_2^2 / n        (loss="mse": the mean squared error),
    grad C = c (f(X) - y)^T J,  J the Jacobian of f(X), c = 1 / (n ||r||) (norm)
                                or c = 2 / n (mse), so
    dC/da_jk = c sum_i r_i sigma_eta(x_ik - u_jk),
    dC/du_jk = -c a_jk sum_i r_i sigma'_eta(x_ik - u_jk),
    dC/da_0  = c sum_i r_i,      r = f(X) - y.

One GD epoch: a <- a - step_a dC/da (and a_0 likewise), u <- u - step_u dC/du, from the
same pre-step values.  When r = 0 the gradient is taken as 0.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .activation import dsigma_eta, sigma_eta

_F64 = NDArray[np.float64]


def _as(a_in: ArrayLike, u_in: ArrayLike, X_in: ArrayLike) -> tuple[_F64, _F64, _F64]:
    a = np.asarray(a_in, dtype=np.float64)
    u = np.asarray(u_in, dtype=np.float64)
    X = np.asarray(X_in, dtype=np.float64)
    if a.ndim != 2 or a.shape != u.shape:
        raise ValueError(f"a and u must have the same shape (m, d), got {a.shape}, {u.shape}")
    if X.ndim != 2 or X.shape[1] != a.shape[1]:
        raise ValueError(f"X must have shape (n, {a.shape[1]}), got {X.shape}")
    return a, u, X


def additive_forward(
    a: ArrayLike,
    u: ArrayLike,
    eta: float,
    X: ArrayLike,
    activation: str = "cubic",
    bias: float | None = None,
) -> NDArray[np.float64]:
    """f at the rows of X (n, d): bias + sum_k sum_j a_jk sigma_eta(X[:, k] - u_jk)."""
    A, U, Xm = _as(a, u, X)
    # s[i, j, k] = sigma_eta(X[i, k] - u[j, k])
    s = sigma_eta(Xm[:, np.newaxis, :] - U[np.newaxis, :, :], eta, activation)
    f = np.sum(A[np.newaxis] * s, axis=(1, 2))
    return f + (0.0 if bias is None else float(bias))


def additive_criterion(
    a: ArrayLike,
    u: ArrayLike,
    eta: float,
    X: ArrayLike,
    y: ArrayLike,
    activation: str = "cubic",
    bias: float | None = None,
    loss: str = "norm",
) -> float:
    """C = ||f(X) - y||_2 / n (loss="norm") or ||f(X) - y||_2^2 / n (loss="mse")."""
    r = additive_forward(a, u, eta, X, activation, bias) - np.asarray(y, dtype=np.float64)
    if loss == "mse":
        return float(np.sum(r**2) / len(r))
    return _norm(r) / len(r)


def _norm(r: NDArray[np.float64]) -> float:
    """||r||_2 without overflow while r is finite: math.hypot scales internally
    (np.linalg.norm squares, and is inf from |r_i| ~ 1e154 on)."""
    return math.hypot(*r.tolist())


def additive_gradient(
    a: ArrayLike,
    u: ArrayLike,
    eta: float,
    X: ArrayLike,
    y: ArrayLike,
    activation: str = "cubic",
    bias: float | None = None,
    loss: str = "norm",
) -> tuple[NDArray[np.float64], NDArray[np.float64], float | None]:
    """(dC/da, dC/du, dC/da_0) with dC/da, dC/du of shape (m, d); dC/da_0 is None
    without a bias."""
    A, U, Xm = _as(a, u, X)
    r = additive_forward(A, U, eta, Xm, activation, bias) - np.asarray(y, dtype=np.float64)
    if loss == "mse":
        c = 2.0 / len(r)
    else:
        norm = _norm(r)
        c = 0.0 if norm == 0.0 else 1.0 / len(r) / norm
    z = Xm[:, np.newaxis, :] - U[np.newaxis, :, :]
    s = sigma_eta(z, eta, activation)
    ds = dsigma_eta(z, eta, activation)
    grad_a = c * np.einsum("i,ijk->jk", r, s)
    grad_u = -c * A * np.einsum("i,ijk->jk", r, ds)
    grad_b = None if bias is None else float(c * np.sum(r))
    return grad_a, grad_u, grad_b


def additive_gd_epoch(
    a: ArrayLike,
    u: ArrayLike,
    eta: float,
    X: ArrayLike,
    y: ArrayLike,
    step_a: float,
    step_u: float,
    activation: str = "cubic",
    bias: float | None = None,
    loss: str = "norm",
) -> tuple[NDArray[np.float64], NDArray[np.float64], float | None]:
    """One full-batch GD epoch; returns new (a, u, bias), inputs untouched."""
    A, U, _ = _as(a, u, X)
    ga, gu, gb = additive_gradient(A, U, eta, X, y, activation, bias, loss)
    new_bias = None if bias is None or gb is None else float(bias) - step_a * gb
    return A - step_a * ga, U - step_u * gu, new_bias
