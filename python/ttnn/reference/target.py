"""The target f* (docs/maths/model.md, "Target" and "Teacher networks").

A piecewise-constant target has breaks 0 < v_1 < ... < v_{n-1} < 1 and values
f*_0, ..., f*_{n-1},

    f*(x) = f*_0 + sum_i (f*_i - f*_{i-1}) 1[x > v_i],

so f*(x) = f*_k where k is the number of breaks strictly less than x (at a break the
target takes the value on its left).

A teacher is a network of the same form as the student, with its own parameters,
width and activation: f*(x) = a*_0 + sum_k a*_k sigma_eta*(x - u*_k).

Every function of this package that takes a target takes it as the pair
``(breaks, values)``; a teacher is passed as ``breaks=Teacher(...)`` with
``values=None``.  ``target_eval`` and ``target_points`` are the only places that
look inside it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .network import forward


class Teacher(NamedTuple):
    """A teacher network f*(x) = a[0] + sum_k a[k+1] sigma_eta(x - u[k])."""

    a: ArrayLike
    u: ArrayLike
    eta: float
    activation: str = "cubic"


def target_points(breaks: Any) -> NDArray[np.float64]:
    """The points where f* changes polynomial: the breaks v_i, or a teacher's
    u*_k - eta*/2, u*_k, u*_k + eta*/2 (u*_k for relu), anywhere on the line."""
    if isinstance(breaks, Teacher):
        u = np.asarray(breaks.u, dtype=np.float64)
        if breaks.activation == "relu":
            return u
        return np.concatenate([u - breaks.eta / 2, u, u + breaks.eta / 2])
    return np.asarray(breaks, dtype=np.float64)


def target_eval(breaks: Any, values: ArrayLike | None, x: ArrayLike) -> NDArray[np.float64]:
    """Evaluate f*(x): values[#{i : breaks[i] < x}], or the teacher ``breaks`` at x.

    ``breaks`` must be sorted increasing and ``len(values) == len(breaks) + 1``.  Vectorised:
    returns a float64 array of the same shape as ``x``.
    """
    if isinstance(breaks, Teacher):
        if values is not None:
            raise ValueError("values must be None when the target is a Teacher")
        return np.asarray(
            forward(breaks.a, breaks.u, breaks.eta, x, breaks.activation), dtype=np.float64
        )
    breaks = np.asarray(breaks, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if breaks.ndim != 1 or values.ndim != 1 or len(values) != len(breaks) + 1:
        raise ValueError(
            f"values must have len(breaks) + 1 entries, got breaks of shape {breaks.shape} "
            f"and values of shape {values.shape}"
        )
    x = np.asarray(x, dtype=np.float64)
    # side="left" counts the breaks strictly less than x: 1[x > v_i] is 0 at x == v_i.
    index = np.searchsorted(breaks, x, side="left")
    return values[index]
