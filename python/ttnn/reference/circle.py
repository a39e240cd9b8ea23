"""The circle ReLU model in plain NumPy (docs/maths/circle.md): the oracle the C++
sorted-angle kernels are tested against.

Neurons are angles theta_j, w_j = (cos theta_j, sin theta_j); the student is
f(x) = (1/M) sum_j u_j relu(w_j . x); the teacher has u = 1 and angles
theta_t.  Everything here uses the explicit feature matrix
Phi[n, j] = relu(w_j . x_n) (O(N M) memory, O(N M^2) for K) and dense solves.

Criterion: J = (1/(2 lam)) mean_n (f(x_n) - y_n)^2 + (1/(2M)) sum_j (u_j - 1)^2
("unbiased"), or with sum_j u_j^2 ("biased").  The population versions replace
the mean over samples by the expectation over x ~ N(0, I_2), through the
degree-1 arc-cosine kernel.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]
SECOND_MODE = 0.4 * np.pi


def directions(theta: ArrayLike) -> F64:
    """W with column j = (cos theta_j, sin theta_j): shape (2, M)."""
    th = np.asarray(theta, dtype=float)
    return np.stack([np.cos(th), np.sin(th)])


def features(theta: ArrayLike, X: ArrayLike) -> F64:
    """Phi[n, j] = relu(w_j . x_n), shape (N, M)."""
    return np.maximum(np.asarray(X, dtype=float) @ directions(theta), 0.0)


def predict(theta: ArrayLike, u: ArrayLike, X: ArrayLike) -> F64:
    """f(x_n) = (1/M) sum_j u_j relu(w_j . x_n)."""
    u = np.asarray(u, dtype=float)
    return features(theta, X) @ u / u.size


def teacher_values(theta_t: ArrayLike, X: ArrayLike) -> F64:
    """y_n: the teacher (all u = 1) at the samples."""
    th = np.asarray(theta_t, dtype=float)
    return predict(th, np.ones(th.size), X)


def arccos_kernel(delta: ArrayLike) -> F64:
    """E[relu(w.x) relu(w'.x)] for unit w, w' at angle difference delta:
    (sin phi + (pi - phi) cos phi) / (2 pi) with phi = |delta| folded into [0, pi]."""
    d = np.angle(np.exp(1j * np.asarray(delta, dtype=float)))
    phi = np.abs(d)
    return (np.sin(phi) + (np.pi - phi) * np.cos(phi)) / (2 * np.pi)


def _reg(u: F64, biased: bool) -> float:
    d = u if biased else u - 1.0
    return float(d @ d) / (2 * u.size)


def criterion(
    theta: ArrayLike, u: ArrayLike, X: ArrayLike, y: ArrayLike, lam: float, biased: bool = False
) -> float:
    """J(u, theta) on the samples."""
    u = np.asarray(u, dtype=float)
    res = predict(theta, u, X) - np.asarray(y, dtype=float)
    return float(np.mean(res**2)) / (2 * lam) + _reg(u, biased)


def gradients(
    theta: ArrayLike, u: ArrayLike, X: ArrayLike, y: ArrayLike, lam: float, biased: bool = False
) -> tuple[F64, F64]:
    """(dJ/dw_j as rows of an (M, 2) array, dJ/du), w_j taken as a vector of R^2."""
    X = np.asarray(X, dtype=float)
    u = np.asarray(u, dtype=float)
    M, N = u.size, X.shape[0]
    Phi = features(theta, X)
    res = Phi @ u / M - np.asarray(y, dtype=float)
    active = (X @ directions(theta) > 0).astype(float)  # 1[w_j . x_n > 0]
    grad_w = (active * res[:, None]).T @ X * (u[:, None] / (lam * N * M))
    grad_u = Phi.T @ res / (lam * N * M) + (u if biased else u - 1.0) / M
    return grad_w, grad_u


def gram(theta: ArrayLike, X: ArrayLike) -> F64:
    """K = Phi^T Phi / (N M)."""
    Phi = features(theta, X)
    return Phi.T @ Phi / (Phi.shape[0] * Phi.shape[1])


def ridge(theta: ArrayLike, X: ArrayLike, y: ArrayLike, lam: float, biased: bool = False) -> F64:
    """argmin_u J: (K + lam I) u = Phi^T y / N + lam 1 (biased: without lam 1), by Cholesky."""
    Phi = features(theta, X)
    N, M = Phi.shape
    A = Phi.T @ Phi / (N * M) + lam * np.eye(M)
    b = Phi.T @ np.asarray(y, dtype=float) / N + (0.0 if biased else lam)
    L = np.linalg.cholesky(A)
    return np.linalg.solve(L.T, np.linalg.solve(L, b))


def _feature_step(theta: F64, grad_w: F64, M: int, dt: float) -> F64:
    """w_j <- w_j - (M dt) grad_w_j, then back to the circle (the angle of the new w_j)."""
    W = directions(theta).T - M * dt * grad_w
    return np.arctan2(W[:, 1], W[:, 0])


def varpro_step(
    theta: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    lam: float,
    biased: bool = False,
    dt: float = 2.0**-10,
) -> tuple[F64, F64, float]:
    """One VarPro iteration: u = ridge(theta), then the projected feature step.
    Returns (new theta, u, J(u, theta))."""
    theta = np.asarray(theta, dtype=float)
    u = ridge(theta, X, y, lam, biased)
    grad_w, _ = gradients(theta, u, X, y, lam, biased)
    return _feature_step(theta, grad_w, theta.size, dt), u, criterion(theta, u, X, y, lam, biased)


def two_timescale_step(
    theta: ArrayLike,
    u: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    lam: float,
    biased: bool = False,
    dt: float = 2.0**-10,
) -> tuple[F64, F64, float]:
    """One 2TS iteration: features at learning rate M dt (projected), outer weights at
    lam M, both from the same state. Returns (new theta, new u, J at the old state)."""
    theta = np.asarray(theta, dtype=float)
    u = np.asarray(u, dtype=float)
    M = theta.size
    grad_w, grad_u = gradients(theta, u, X, y, lam, biased)
    return (
        _feature_step(theta, grad_w, M, dt),
        u - lam * M * grad_u,
        criterion(theta, u, X, y, lam, biased),
    )


# ---------------------------------------------------------------- the population


def _pair_kernels(a: F64, b: F64) -> tuple[F64, F64]:
    """k(a_i - b_j) and the tangential derivative -(pi - |D|) sin D / (2 pi), D wrapped."""
    d = np.angle(np.exp(1j * (a[:, None] - b[None, :])))
    return arccos_kernel(d), -(np.pi - np.abs(d)) * np.sin(d) / (2 * np.pi)


def population_risk(theta: ArrayLike, u: ArrayLike, theta_t: ArrayLike) -> float:
    """E_x (f(x) - y(x))^2 for x ~ N(0, I_2), by the arc-cosine kernel."""
    th, tt = np.asarray(theta, dtype=float), np.asarray(theta_t, dtype=float)
    u = np.asarray(u, dtype=float)
    M, Mt = th.size, tt.size
    ff = u @ _pair_kernels(th, th)[0] @ u / M**2
    fy = u @ _pair_kernels(th, tt)[0].sum(axis=1) / (M * Mt)
    yy = _pair_kernels(tt, tt)[0].sum() / Mt**2
    return float(ff - 2 * fy + yy)


def population_criterion(
    theta: ArrayLike, u: ArrayLike, theta_t: ArrayLike, lam: float, biased: bool = False
) -> float:
    u = np.asarray(u, dtype=float)
    return population_risk(theta, u, theta_t) / (2 * lam) + _reg(u, biased)


def population_gradients(
    theta: ArrayLike, u: ArrayLike, theta_t: ArrayLike, lam: float, biased: bool = False
) -> tuple[F64, F64]:
    """As gradients(), for the population: E[(f - y) 1[w.x > 0] x] is the gradient in w of
    E[(f - y) relu(w.x)], i.e. k w + k~ w_perp per pair of angles."""
    th, tt = np.asarray(theta, dtype=float), np.asarray(theta_t, dtype=float)
    u = np.asarray(u, dtype=float)
    M = th.size
    k_s, kt_s = _pair_kernels(th, th)
    k_t, kt_t = _pair_kernels(th, tt)
    rad = k_s @ u / M - k_t.mean(axis=1)  # the radial part, also (K u - Phi^T y / N)
    tan = kt_s @ u / M - kt_t.mean(axis=1)
    W = directions(th).T
    Wp = np.stack([-np.sin(th), np.cos(th)], axis=1)
    D = rad[:, None] * W + tan[:, None] * Wp
    grad_w = D * (u[:, None] / (lam * M))
    grad_u = rad / (lam * M) + (u if biased else u - 1.0) / M
    return grad_w, grad_u


def population_ridge(theta: ArrayLike, theta_t: ArrayLike, lam: float, biased: bool = False) -> F64:
    th, tt = np.asarray(theta, dtype=float), np.asarray(theta_t, dtype=float)
    M = th.size
    A = _pair_kernels(th, th)[0] / M + lam * np.eye(M)
    b = _pair_kernels(th, tt)[0].mean(axis=1) + (0.0 if biased else lam)
    return np.linalg.solve(A, b)


# ---------------------------------------------------------------- the teacher's density


def rho(theta: ArrayLike, gamma: float) -> F64:
    """rho_gamma normalised on the circle: prop. to q(theta) + q(theta - 0.4 pi) / 2,
    q(theta) = 1 / (1 + gamma sin^2(theta / 2)); each q has mass 2 pi / sqrt(1 + gamma)."""
    th = np.asarray(theta, dtype=float)

    def q(t: F64) -> F64:
        return 1.0 / (1.0 + gamma * np.sin(t / 2) ** 2)

    return (q(th) + 0.5 * q(th - SECOND_MODE)) * np.sqrt(1 + gamma) / (3 * np.pi)


def sample_rho(count: int, gamma: float, rng: np.random.Generator) -> F64:
    """Exact draws: a mode (weights 2 : 1), then the inverse of the mode's CDF
    F(theta) = (atan(c tan(theta/2)) + pi/2) / pi, c = sqrt(1 + gamma)."""
    second = rng.uniform(size=count) * 3 >= 2
    v = rng.uniform(size=count)
    th = 2 * np.arctan(np.tan(np.pi * (v - 0.5)) / np.sqrt(1 + gamma))
    return np.angle(np.exp(1j * (th + SECOND_MODE * second)))


# ---------------------------------------------------------------- distances


def mmd(
    a: ArrayLike, b: ArrayLike, wa: ArrayLike | None = None, wb: ArrayLike | None = None
) -> float:
    """Energy-distance MMD on the unit circle by the plain double sums (V-statistics):
    sqrt(2 E|X - Y| - E|X - X'| - E|Y - Y'|), chord |e^{ia} - e^{ib}|."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    pa = np.full(a.size, 1 / a.size) if wa is None else np.asarray(wa, float) / np.sum(wa)
    pb = np.full(b.size, 1 / b.size) if wb is None else np.asarray(wb, float) / np.sum(wb)

    def e(x: F64, px: F64, z: F64, pz: F64) -> float:
        dist = np.abs(np.exp(1j * x)[:, None] - np.exp(1j * z)[None, :])
        return float(px @ dist @ pz)

    sq = 2 * e(a, pa, b, pb) - e(a, pa, a, pa) - e(b, pb, b, pb)
    return float(np.sqrt(max(sq, 0.0)))


# ---------------------------------------------------------------- the PDE


def pde_rhs(f: ArrayLike, fstar: ArrayLike) -> F64:
    """Finite volumes for d_t f = -1/2 d_theta (f d_theta g), g = (f*/f)^2, on n equal
    cells of the circle: face flux (1/2) ((f_k + f_{k+1}) / 2) (g_{k+1} - g_k) / h and
    r_k = -(flux_{k+1/2} - flux_{k-1/2}) / h."""
    f, fstar = np.asarray(f, dtype=float), np.asarray(fstar, dtype=float)
    h = 2 * np.pi / f.size
    g = (fstar / f) ** 2
    flux = 0.25 * (f + np.roll(f, -1)) * (np.roll(g, -1) - g) / h
    return -(flux - np.roll(flux, 1)) / h
