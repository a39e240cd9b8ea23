"""What the ODE kinds (the gradient flow and the two-timescale limits) share.

A neutral module, so that neither kind's module imports the other's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _core
from . import _validate as check
from ._kind import Kind, setting
from ._sweep import records as rec
from ._sweep.spec import PAPER_TARGET, make_target, target_breaks
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


@dataclass(frozen=True, kw_only=True)
class OdeRun(Kind):
    """What a flow and a limit run of a sweep share: ``Network.init(m, eta,
    activation)`` from the run's init_seed, the integrator's settings, and a length
    ``end`` in the kind's time (``_end``), validated when built."""

    m: int = setting(20, type="int")
    eta: float = setting(4e-3, type="real")
    activation: str = setting("cubic", type="str")
    # The ODE kinds store 100 snapshots, as ttnn.gradient_flow and
    # ttnn.two_timescale_limit do: an adaptive integrator's path costs little to keep.
    snapshots: int = setting(100, type="int", per_call=True)
    target: dict[str, Any] = setting(PAPER_TARGET, type="target", fixed_only=True)
    rtol: float = setting(1e-8, type="real", per_call=True)
    atol: float = setting(1e-10, type="real", per_call=True)
    max_steps: int = setting(check.DEFAULT_MAX_STEPS, type="int", optional=True, per_call=True)
    method: str = setting("auto", type="str", optional=True, per_call=True)

    end: float = field(init=False, default=0.0, repr=False, compare=False)

    def validate(self) -> None:
        s = self.settings()
        self.shared_checks(s)
        m = rec.check_network(s)
        check.ode_snapshots(self.snapshots, m)
        self._set("end", self._end(s))

    def _end(self, s: Mapping[str, Any]) -> float:
        """The run's length in the kind's time, checked."""
        raise NotImplementedError

    @classmethod
    def shared_checks(cls, s: Mapping[str, Any]) -> None:
        ode_checks(s)

    @property
    def length(self) -> float:  # type: ignore[override]
        return self.end

    @property
    def sweep_cost(self) -> float:
        return self.end * (self.m + 4)

    def sweep_build(self, init_seed: int, seed: int, context: Any) -> Network:
        return rec.init_net(self.settings(), init_seed)

    @classmethod
    def sweep_record(cls, run: Any, built: Any, out: Any, context: Any) -> dict[str, Any]:
        time = getattr(out, cls.time_axis)
        return rec.trajectory(out.u, out.a, out.l2, time, context["breaks"], 2 * built.eta)

    @classmethod
    def sweep_breaks(cls, settings: Mapping[str, Any]) -> NDArray[np.float64]:
        return target_breaks(settings["target"])
