"""The exact population loss L = ∫_0^1 (f* − f)² dx and its gradient.

No factor ½ (the convention of the authors' code and of the paper's figures).
Exact to rounding: piecewise 4-node Gauss–Legendre between the breakpoints of
the student {0, 1, u_j ± η/2, u_j} and of the target (its breaks, or a teacher's
own u*_k ± η*/2, u*_k), where every integrand is a polynomial of degree ≤ 6;
the sweep over those pieces costs O(m log m + n), whatever η
(see docs/maths/exact-loss.md).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from . import _core
from . import _guard as guard
from . import _validate as check
from .network import Network
from .target import Target, check_target, core_target


def _check(net: object, target: object, per_neuron: int) -> None:
    if not isinstance(net, Network):
        raise TypeError(f"net must be a ttnn.Network, got {type(net).__name__}")
    check_target(target)
    # What the sweep allocates, counted from its arrays (loss.cpp): per neuron the
    # sorted copies (order, u, a, e, l, prefix sums: ~56 bytes) and up to three
    # points and their merge buffer (48); the gradient adds per-piece moments and
    # suffix sums (~48) and per-neuron partial sums (~64). Measured peak growth at
    # m = 10⁶ (cubic, η = 4e-3): 56 and 171 bytes per neuron, under these bounds.
    m_star = target.m if isinstance(target, Network) else 0
    guard.memory(
        f"the loss of a network with m = {net.m}", per_neuron * net.m + 112 * m_star, "neurons"
    )


def l2_error(net: Network, target: Target, threads: int | None = None) -> float:
    """L(a, u) = ∫_0^1 (f*(x) − f(x; a, u))² dx, exact to rounding.

    ``target`` is a PiecewiseConstant or a teacher Network (any activation, m, η).
    ``threads`` (default ``None``: the cores, when the work pays) shares the pieces
    out over threads above a size threshold; the result is the same, bit for bit,
    for any ``threads`` (docs/guide/threads.md). The GIL is released and Ctrl-C
    raises ``KeyboardInterrupt``.
    """
    _check(net, target, 112)
    n = check.threads(threads)
    return float(_core.l2_error(net=net._c, target=core_target(target), threads=n))


def l2_gradient(
    net: Network, target: Target, threads: int | None = None
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """(L, ∇_a L, ∇_u L): ∇_a L = 2 ∫ (f − f*) φ_j and ∂L/∂u_j = −2 a_j ∫ (f − f*) σ′_η(x − u_j).

    ``threads`` as for :func:`l2_error`.
    """
    _check(net, target, 224)
    n = check.threads(threads)
    loss, ga, gu = _core.l2_gradient(net=net._c, target=core_target(target), threads=n)
    return float(loss), np.asarray(ga), np.asarray(gu)
