"""The piecewise-constant target f* (DESIGN.md section 1, "Target").

With breaks 0 < v_1 < ... < v_{n-1} < 1 and values f*_0, ..., f*_{n-1},

    f*(x) = f*_0 + sum_i (f*_i - f*_{i-1}) 1[x > v_i],

so f*(x) = f*_k where k is the number of breaks strictly less than x (at a break the
target takes the value on its left).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def target_eval(breaks: ArrayLike, values: ArrayLike, x: ArrayLike) -> NDArray[np.float64]:
    """Evaluate f*(x) = values[#{i : breaks[i] < x}] (DESIGN.md section 1, "Target").

    ``breaks`` must be sorted increasing and ``len(values) == len(breaks) + 1``.  Vectorised:
    returns a float64 array of the same shape as ``x``.
    """
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
