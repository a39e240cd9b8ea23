"""The gradient flow's right-hand side (docs/maths/dynamics.md#gradient-flow), in plain NumPy.

The state is y = (a, u) concatenated (length 2m + 1); da/dt = -grad_a L,
du/dt = -eps grad_u L with the exact gradient of reference.loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .loss import l2_gradient


def flow_rhs(
    y: ArrayLike,
    eps: float,
    eta: float,
    breaks: Any,
    values: ArrayLike | None,
    activation: str = "cubic",
) -> NDArray[np.float64]:
    """dy/dt for y = (a, u): (-grad_a L, -eps grad_u L)."""
    y = np.asarray(y, dtype=np.float64)
    m = (y.shape[0] - 1) // 2
    grad_a, grad_u = l2_gradient(y[: m + 1], y[m + 1 :], eta, breaks, values, activation)
    return np.concatenate((-grad_a, -eps * grad_u))
