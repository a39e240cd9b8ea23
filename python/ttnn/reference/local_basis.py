"""a*(u) through the banded local basis of the windowed activations, in plain NumPy
(docs/maths/local_basis.md).

With the neurons sorted, u_(1) <= ... <= u_(m), and phi_(j) = sigma_eta(. - u_(j)),
phi_0 = 1, phi_(m+1) = 0:

    psi_k = phi_(k) - phi_(k+1)  (k = 0 .. m),   f = sum_k c_k psi_k,   c = prefix sums of a,

H_ij = int_0^1 psi_i psi_j is banded and beta_k = int_0^1 f* psi_k; the normal equations
G a = b are exactly H c = beta, and a ridge lambda |a|^2 gives (H + lambda D^T D) c = beta
with a = D c (D the bidiagonal difference). This module builds H from psi directly (not
from G) and solves by a banded Cholesky, so it checks the C++ banded path independently.
The limit's a*(u) carries a fixed Tikhonov term delta = ``tikhonov(m)`` (the system is then
positive definite for every u); ``reference.limit_outer`` (dense solve of
G + (ridge + delta) I) and the minimum-norm ``reference.optimal_outer`` are the oracles.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import limits as _limits
from .loss import _quadrature
from .network import features
from .target import target_eval

#: delta = TIKHONOV * (m + 1), the fixed Tikhonov term of the limit's a*(u)
#: (docs/maths/local_basis.md): relative 1e-14 of the bound m + 1 on lambda_max(G).
TIKHONOV: float = _limits.TIKHONOV


def tikhonov(m: int) -> float:
    """delta for m neurons: a*(u) solves (G + (ridge + delta) I) a = b."""
    return TIKHONOV * (m + 1)


def local_system(
    u: ArrayLike, eta: float, breaks: Any, values: ArrayLike | None, activation: str = "cubic"
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]:
    """(H, beta, order): H as a full (m + 1) x (m + 1) array (banded in value),
    beta, and the stable argsort of u that defines the basis."""
    if activation not in ("cubic", "ramp"):
        raise ValueError(f"the local basis needs a windowed activation, got {activation!r}")
    u = np.asarray(u, dtype=np.float64)
    order = np.argsort(u, kind="stable")
    x, w = _quadrature(u, eta, breaks, activation)
    phi = features(u[order], eta, x, activation)  # (nodes, m + 1): 1, phi_(1), ...
    psi = phi - np.concatenate((phi[:, 1:], np.zeros((len(x), 1))), axis=1)
    fstar = target_eval(breaks, values, x)
    return psi.T @ (w[:, None] * psi), psi.T @ (w * fstar), order


def difference_gram(n: int) -> NDArray[np.float64]:
    """D^T D for a = D c (a_0 = c_0, a_k = c_k - c_{k-1}), of order n: tridiag(-1, 2, -1)
    with a last diagonal entry 1."""
    dtd = 2.0 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    dtd[-1, -1] = 1.0
    return dtd


def half_bandwidth(a: NDArray[np.float64]) -> int:
    """The largest |i - j| with a_ij != 0."""
    i, j = np.nonzero(a)
    return int(np.max(np.abs(i - j))) if len(i) else 0


def band_cholesky(a: NDArray[np.float64], w: int) -> NDArray[np.float64] | None:
    """Lower Cholesky factor of the SPD matrix a of half-bandwidth w, touching only the
    band; None when a pivot is not positive relative to its diagonal (singular)."""
    n = a.shape[0]
    r = np.zeros_like(a)
    for k in range(n):
        lo = max(0, k - w)
        d = a[k, k] - r[k, lo:k] @ r[k, lo:k]
        if not d > 1e-14 * abs(a[k, k]):
            return None
        r[k, k] = np.sqrt(d)
        for i in range(k + 1, min(n, k + w + 1)):
            lo_i = max(0, i - w)
            r[i, k] = (a[i, k] - r[i, lo_i:k] @ r[k, lo_i:k]) / r[k, k]
    return r


def optimal_outer_banded(
    u: ArrayLike,
    eta: float,
    breaks: Any,
    values: ArrayLike | None,
    activation: str = "cubic",
    ridge: float = 0.0,
) -> tuple[NDArray[np.float64], float, bool]:
    """(a*(u), cond, banded) as the finite-eta limit defines a*(u): the solution of
    (G + (ridge + delta) I) a = b with delta = ``tikhonov(m)``.

    cubic, ramp: from the banded (H + (ridge + delta) D^T D) c = beta, a = D c, by
    ``band_cholesky``, with the exact 1-norm condition number of that matrix
    (banded = True). relu: by a dense Cholesky of G + (ridge + delta) I, with its
    1-norm condition number (banded = False). A failed factorisation raises delta
    1000-fold, up to three times, as the C++ core does."""
    u = np.asarray(u, dtype=np.float64)
    m = len(u)
    delta = tikhonov(m)
    if activation in ("cubic", "ramp"):
        h, beta, order = local_system(u, eta, breaks, values, activation)
        w = max(half_bandwidth(h), 1)
        for _ in range(4):
            a_mat = h + (ridge + delta) * difference_gram(m + 1)
            r = band_cholesky(a_mat, w)
            if r is not None:
                c = np.linalg.solve(r.T, np.linalg.solve(r, beta))
                a = np.empty(m + 1)
                a[0] = c[0]
                a[1 + order] = np.diff(c)
                return a, float(np.linalg.cond(a_mat, 1)), True
            delta *= 1e3
    elif m > 0:
        k_mat, rhs, order = relu_kkt(u, breaks, values, ridge + delta)
        z = np.linalg.solve(k_mat, rhs)
        s = z[1::3]
        a = np.empty(m + 1)
        a[0] = z[0]
        a[1 + order] = np.diff(np.concatenate(([0.0], s)))
        return a, float(np.linalg.cond(k_mat, 1)), True
    else:
        from .loss import gram_system

        g, b = gram_system(u, eta, breaks, values, activation)
        return b / (g[0, 0] + ridge + delta), float(np.linalg.cond(g + ridge + delta, 1)), False
    return np.full(m + 1, np.nan), np.inf, True


def relu_kkt(
    u: ArrayLike, breaks: Any, values: ArrayLike | None, mu: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]:
    """(K, rhs, order): relu's a*(u) = argmin L + mu |a|^2 as the KKT system of a linear
    spline (docs/maths/local_basis.md#relu), dense here, in the interleaved order
    (v_1, s_1, lam_1, v_2, ...): on segment k (between the k-th and (k+1)-th smallest
    neuron; k = 0 left of all, where f = v_1) f = v_k + s_k (x - u_(k)), tied by
    v_(k+1) = v_k + g_k s_k; |a|^2 = v_1^2 + sum_k (s_k - s_(k-1))^2 (s_0 = 0)."""
    u = np.asarray(u, dtype=np.float64)
    m = len(u)
    order = np.argsort(u, kind="stable")
    us = u[order]
    x, w = _quadrature(u, 1.0, breaks, "relu")
    fstar = target_eval(breaks, values, x)
    seg = np.searchsorted(us, x, side="left")  # neurons strictly left of x
    r = np.maximum(seg - 1, 0)
    y = np.where(seg > 0, x - us[np.maximum(seg - 1, 0)], 0.0)
    n = 3 * m - 1
    k_mat = np.zeros((n, n))
    rhs = np.zeros(n)
    v, s, lam = 3 * np.arange(m), 3 * np.arange(m) + 1, 3 * np.arange(m - 1) + 2
    np.add.at(rhs, v[r], w * fstar)
    np.add.at(rhs, s[r], w * fstar * y)
    np.add.at(k_mat, (v[r], v[r]), w)
    np.add.at(k_mat, (v[r], s[r]), w * y)
    np.add.at(k_mat, (s[r], v[r]), w * y)
    np.add.at(k_mat, (s[r], s[r]), w * y * y)
    a_of_z = np.zeros((m + 1, n))  # a (sorted, bias first) from z
    a_of_z[0, v[0]] = 1.0
    a_of_z[1 + np.arange(m), s] = 1.0
    a_of_z[2 + np.arange(m - 1), s[:-1]] = -1.0
    k_mat += mu * a_of_z.T @ a_of_z
    g = np.diff(us)
    for k in range(m - 1):
        for col, c in ((v[k + 1], 1.0), (v[k], -1.0), (s[k], -g[k])):
            k_mat[lam[k], col] += c
            k_mat[col, lam[k]] += c
    return k_mat, rhs, order


def shifted_gram_solve(
    u: ArrayLike,
    eta: float,
    breaks: Any,
    values: ArrayLike | None,
    c: float,
    r: ArrayLike,
    activation: str = "cubic",
) -> NDArray[np.float64]:
    """x = (I + c G(u))^-1 r through the local basis (docs/maths/local_basis.md#implicit-steps).

    With v = r in sorted order (bias first) and x = D z in sorted order,
    (I + c G) x = r is (D^T D + c H) z = D^T v, banded SPD for any c >= 0 because D is
    invertible; solved here by ``band_cholesky``. r and x are in the network's order."""
    u = np.asarray(u, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    h, _, order = local_system(u, eta, breaks, values, activation)
    n = len(u) + 1
    perm = np.concatenate(([0], 1 + order))  # sorted position -> network index
    v = r[perm]
    d = np.eye(n) - np.eye(n, k=-1)  # a = D c: a_0 = c_0, a_k = c_k - c_{k-1}
    a_mat = difference_gram(n) + c * h
    chol = band_cholesky(a_mat, max(half_bandwidth(h), 1))
    if chol is None:
        raise ValueError("D^T D + c H is not positive definite (non-finite input?)")
    z = np.linalg.solve(chol.T, np.linalg.solve(chol, d.T @ v))
    x = np.empty(n)
    x[perm] = d @ z
    return x
