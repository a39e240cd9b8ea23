"""What the ODE kinds (the gradient flow and the two-timescale limits) share.

A neutral module, so that neither kind's module imports the other's.
"""

from __future__ import annotations

from . import _core
from .network import Network
from .target import check_target


def stats_dict(stats: _core.OdeStats) -> dict[str, int]:
    """The integrator's counts as a plain mapping (a result's ``stats``)."""
    return {"accepted": stats.accepted, "rejected": stats.rejected, "rhs_calls": stats.rhs_calls}


def check_net_target(net: object, target: object) -> None:
    if not isinstance(net, Network):
        raise TypeError(f"net must be a ttnn.Network, got {type(net).__name__}")
    check_target(target)
