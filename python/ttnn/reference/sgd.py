"""Online SGD (docs/maths/dynamics.md#online-sgd) and its snapshot schedule
(docs/maths/dynamics.md#snapshots).

Step p uses one sample (x_p, y_p).  With r_p = 2 (f(x_p; a, u) - y_p), computed from the
parameters before the step (the derivative of the per-sample loss (y - f)^2, no factor 1/2),

    a_0 <- a_0 - h r_p
    a_j <- a_j - h r_p sigma_eta(x_p - u_j)
    u_j <- u_j + eps h r_p a_j sigma'_eta(x_p - u_j)

with a and u updated simultaneously from the same pre-step values.

Mini-batch SGD (docs/maths/dynamics.md, "Mini-batch SGD"): a step on B samples applies
the mean of the B updates above, every one computed at the pre-step parameters; step p
uses samples pB, ..., pB + B - 1 of the stream.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .activation import dsigma_eta, sigma_eta
from .network import _check_params, forward


def sgd_step(
    a: ArrayLike,
    u: ArrayLike,
    eta: float,
    eps: float,
    h: float,
    x: float,
    y: float,
    activation: str = "cubic",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One online SGD step on the sample (x, y) (docs/maths/dynamics.md#online-sgd).

    r = 2 (f(x; a, u) - y);  a_0 -= h r;  a_j -= h r sigma_eta(x - u_j);
    u_j += eps h r a_j sigma'_eta(x - u_j), all from the pre-step a and u.
    Returns new arrays ``(a_new, u_new)``; the inputs are not modified.
    """
    a, u = _check_params(a, u)
    x = float(x)
    y = float(y)
    r = 2.0 * (float(forward(a, u, eta, x, activation)) - y)
    s = sigma_eta(x - u, eta, activation)
    ds = dsigma_eta(x - u, eta, activation)
    a_new = np.empty_like(a)
    a_new[0] = a[0] - h * r
    a_new[1:] = a[1:] - h * r * s
    u_new = u + eps * h * r * a[1:] * ds
    return a_new, u_new


def sgd_batch_step(
    a: ArrayLike,
    u: ArrayLike,
    eta: float,
    eps: float,
    h: float,
    x: ArrayLike,
    y: ArrayLike,
    activation: str = "cubic",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """One mini-batch step on the samples (x[b], y[b]), b < B: with r_b = 2 (f(x_b) - y_b),

    a_0 -= (h/B) sum_b r_b;  a_j -= (h/B) sum_b r_b sigma_eta(x_b - u_j);
    u_j += eps (h/B) sum_b r_b a_j sigma'_eta(x_b - u_j), all from the pre-step a and u.
    """
    a, u = _check_params(a, u)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    r = 2.0 * (forward(a, u, eta, x, activation) - y)  # (B,)
    s = sigma_eta(x[:, np.newaxis] - u, eta, activation)  # (B, m)
    ds = dsigma_eta(x[:, np.newaxis] - u, eta, activation)
    hb = h / len(x)
    a_new = np.empty_like(a)
    a_new[0] = a[0] - hb * np.sum(r)
    a_new[1:] = a[1:] - hb * (r @ s)
    u_new = u + eps * hb * a[1:] * (r @ ds)
    return a_new, u_new


def sgd_replay(
    a: ArrayLike,
    u: ArrayLike,
    eta: float,
    eps: float,
    h: float,
    x: ArrayLike,
    y: ArrayLike,
    activation: str = "cubic",
    snapshot_steps: ArrayLike | None = None,
    batch: int = 1,
) -> (
    tuple[NDArray[np.float64], NDArray[np.float64]]
    | tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]
):
    """Run SGD over a given stream: step p uses (x[p], y[p])
    (docs/maths/dynamics.md#online-sgd), or with ``batch`` = B > 1 the samples
    pB, ..., pB + B - 1 (:func:`sgd_batch_step`).

    A plain loop of :func:`sgd_step` over ``len(x) // batch`` steps.  Without ``snapshot_steps``
    returns ``(a_final, u_final)``.  With ``snapshot_steps`` (sorted integers in
    [0, len(x)]) returns ``(steps, A, U)`` where ``A[k]`` (shape (K, m + 1)) and ``U[k]``
    (shape (K, m)) are the parameters after exactly ``steps[k]`` steps (0 = initial state).
    """
    a_cur, u_cur = _check_params(a, u)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must be 1-d of equal length, got {x.shape} and {y.shape}")
    n_steps = len(x) // batch

    def step(a: Any, u: Any, p: int) -> Any:
        if batch == 1:
            return sgd_step(a, u, eta, eps, h, x[p], y[p], activation)
        sl = slice(p * batch, (p + 1) * batch)
        return sgd_batch_step(a, u, eta, eps, h, x[sl], y[sl], activation)

    if snapshot_steps is None:
        for p in range(n_steps):
            a_cur, u_cur = step(a_cur, u_cur, p)
        return a_cur, u_cur

    steps = np.asarray(snapshot_steps)
    if steps.ndim != 1 or not np.issubdtype(steps.dtype, np.integer):
        raise ValueError("snapshot_steps must be a 1-d array of integers")
    steps = steps.astype(np.int64)
    if len(steps) and (steps[0] < 0 or steps[-1] > n_steps or np.any(np.diff(steps) < 0)):
        raise ValueError(f"snapshot_steps must be sorted integers in [0, {n_steps}]")

    a_snap = np.empty((len(steps), len(a_cur)), dtype=np.float64)
    u_snap = np.empty((len(steps), len(u_cur)), dtype=np.float64)
    k = 0
    for p in range(n_steps + 1):
        # Here (a, u) is the state after exactly p steps.
        while k < len(steps) and steps[k] == p:
            a_snap[k] = a_cur
            u_snap[k] = u_cur
            k += 1
        if p == n_steps or k == len(steps):
            break
        a_cur, u_cur = step(a_cur, u_cur, p)
    return steps, a_snap, u_snap


def snapshot_steps(steps: int, snapshots: int) -> NDArray[np.int64]:
    """The snapshot schedule (docs/maths/dynamics.md#snapshots): k = 0..K-1 -> round(k P / (K - 1)).

    P = ``steps``, K = ``snapshots``.  Rounding is half-up, computed in exact integer
    arithmetic as (2 k P + (K - 1)) // (2 (K - 1)); the first entry is 0 (the initial
    state) and the last is P (the final state).
    """
    n_steps = operator.index(steps)  # P
    n_snap = operator.index(snapshots)  # K
    if n_steps < 0:
        raise ValueError(f"steps must be >= 0, got {n_steps}")
    if n_snap < 2 or n_snap > n_steps + 1:
        raise ValueError(f"snapshots must be in [2, steps + 1] = [2, {n_steps + 1}], got {n_snap}")
    # Python integers: exact, no overflow.
    schedule = [(2 * k * n_steps + (n_snap - 1)) // (2 * (n_snap - 1)) for k in range(n_snap)]
    return np.array(schedule, dtype=np.int64)
