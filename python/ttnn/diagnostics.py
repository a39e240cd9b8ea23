"""What a run ended with: which breaks are covered, which neurons left the domain.

A break v of the target counts as *covered* when some neuron u_j lies within
``tol`` of it (default 2η, as in the paper's figures: the window of σ_η has
half-width η/2, so 2η leaves room for the O(η) offsets the limit predicts).
These are the checks ``ttnn reproduce``, the sweeps and the CLI report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate as check
from .network import Network
from .target import PiecewiseConstant, Target, target_points


def _positions(name: str, value: Any) -> NDArray[np.float64]:
    if isinstance(value, Network):
        return np.asarray(value.u)
    return check.vector(name, value)


def _break_positions(target: Any) -> NDArray[np.float64]:
    if isinstance(target, (PiecewiseConstant, Network)):
        return target_points(target)
    return check.vector("target", target)


def breaks_covered(
    net: Network | ArrayLike, target: Target | ArrayLike, tol: float | None = None
) -> NDArray[np.bool_]:
    """For each break of ``target``, whether a neuron of ``net`` lies within ``tol`` of it.

    ``net`` is a :class:`ttnn.Network` or an array of neuron positions u;
    ``target`` a :class:`ttnn.PiecewiseConstant`, a teacher :class:`ttnn.Network`
    (its breaks are its neuron positions inside [0, 1], sorted: the kinks of a
    relu teacher) or an array of break positions.
    ``tol`` defaults to 2η of ``net`` (it is required when ``net`` is an array).
    A network without neurons covers nothing.
    """
    u = _positions("net", net)
    breaks = _break_positions(target)
    if tol is None:
        if not isinstance(net, Network):
            raise TypeError("tol is required when net is an array of positions")
        tol_f = 2.0 * net.eta
    else:
        tol_f = check.real("tol", tol, nonneg=True)
    if u.size == 0:
        return np.zeros(breaks.shape, dtype=bool)
    return np.asarray(np.abs(u[:, None] - breaks[None, :]).min(axis=0) <= tol_f)


def neurons_outside(net: Network | ArrayLike) -> NDArray[np.bool_]:
    """For each neuron, whether its position u_j lies outside [0, 1].

    Such a neuron's window misses the data (fully, once it is η/2 beyond the
    boundary): its outer weight only shifts the bias, and it no longer helps
    cover a break.
    """
    u = _positions("net", net)
    return np.asarray((u < 0.0) | (u > 1.0))
