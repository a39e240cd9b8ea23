"""The exact population loss L = ∫_0^1 (f* − f)² dx and its gradient.

No factor ½ (the convention of the authors' code and of the paper's figures).
Exact to rounding: piecewise 4-node Gauss–Legendre between the breakpoints of
the student {0, 1, u_j ± η/2, u_j} and of the target (its breaks, or a teacher's
own u*_k ± η*/2, u*_k), where every integrand is a polynomial of degree ≤ 6
(see docs/maths/exact-loss.md).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from . import _core
from .network import Network
from .target import Target, check_target, core_target


def _check(net: object, target: object) -> None:
    if not isinstance(net, Network):
        raise TypeError(f"net must be a ttnn.Network, got {type(net).__name__}")
    check_target(target)


def l2_error(net: Network, target: Target) -> float:
    """L(a, u) = ∫_0^1 (f*(x) − f(x; a, u))² dx, exact to rounding.

    ``target`` is a PiecewiseConstant or a teacher Network (any activation, m, η).
    """
    _check(net, target)
    return float(_core.l2_error(net=net._c, target=core_target(target)))


def l2_gradient(
    net: Network, target: Target
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """(L, ∇_a L, ∇_u L): ∇_a L = 2 ∫ (f − f*) φ_j and ∂L/∂u_j = −2 a_j ∫ (f − f*) σ′_η(x − u_j)."""
    _check(net, target)
    loss, ga, gu = _core.l2_gradient(net=net._c, target=core_target(target))
    return float(loss), np.asarray(ga), np.asarray(gu)
