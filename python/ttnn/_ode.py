"""What the ODE kinds (the gradient flow and the two-timescale limits) share.

A neutral module, so that neither kind's module imports the other's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import _core
from . import _validate as check
from ._sweep.spec import make_target, target_breaks
from .network import Network
from .target import check_target, core_target


def stats_dict(stats: _core.OdeStats) -> dict[str, int]:
    """The integrator's counts as a plain mapping (a result's ``stats``)."""
    return {"accepted": stats.accepted, "rejected": stats.rejected, "rhs_calls": stats.rhs_calls}


def check_net_target(net: object, target: object) -> None:
    if not isinstance(net, Network):
        raise TypeError(f"net must be a ttnn.Network, got {type(net).__name__}")
    check_target(target)


def ode_checks(s: Mapping[str, Any]) -> None:
    """The per-call checks the flow and the limit share (snapshots, target, tolerances)."""
    check.integer("snapshots", s["snapshots"])
    make_target(s["target"])
    check.ode_snapshots(s["snapshots"])
    check.tolerances(s["rtol"], s["atol"])


def ode_context(s: Mapping[str, Any]) -> dict[str, Any]:
    """What the runs of one ODE ensemble call of a sweep share (checked)."""
    return dict(
        target=core_target(make_target(s["target"])),
        breaks=target_breaks(s["target"]),
        k=check.ode_snapshots(s["snapshots"]),
        tolerances=check.tolerances(s["rtol"], s["atol"]),
        max_steps=check.max_steps(s["max_steps"]),
        method=s["method"],
    )


def ode_call(
    runs: Sequence[tuple[Any, Network]],
    context: Mapping[str, Any],
    threads: int | None,
    progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    """The arguments the flow's and the finite-η limit's ensemble calls share."""
    rtol, atol = context["tolerances"]
    return dict(
        nets=[net._c for _, net in runs],
        target=context["target"],
        snapshots=context["k"],
        rtol=rtol,
        atol=atol,
        max_steps=context["max_steps"],
        threads=0 if threads is None else threads,
        progress=progress,
        method=context["method"],
    )
