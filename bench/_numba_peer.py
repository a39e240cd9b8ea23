"""What the Numba peers of bench/sgd.py and bench/minibatch.py share: the paper's cubic
activation σ and its derivative, scalar and branchy as a skilled Numba user writes them
(z = (x − u)/η), jitted. Without Numba (``minibatch.py --threads`` times ttnn alone) ``njit``
leaves the functions as plain Python."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from numba import njit
except ImportError:

    def njit(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return lambda f: f


@njit(cache=False)
def sigma(z):
    if z <= -0.5:
        return 0.0
    if z >= 0.5:
        return 1.0
    if z <= 0.0:
        return 4.0 * (z + 0.5) ** 3
    return 1.0 - 4.0 * (0.5 - z) ** 3


@njit(cache=False)
def dsigma(z):
    if z <= -0.5 or z >= 0.5:
        return 0.0
    if z <= 0.0:
        return 12.0 * (z + 0.5) ** 2
    return 12.0 * (0.5 - z) ** 2
