"""What the ODE kinds (the gradient flow and the two-timescale limits) share.

A neutral module, so that neither kind's module imports the other's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def ode_values(snapshots: Any, m: int, rtol: Any, atol: Any, max_steps: Any) -> dict[str, Any]:
    """The integrator's settings of a public ODE call (snapshots for m neurons, the
    tolerances, the step bound), checked in this order, as :class:`OdeCall` fields."""
    k = check.ode_snapshots(snapshots, m)
    rtol_f, atol_f = check.tolerances(rtol, atol)
    return dict(snapshots=k, rtol=rtol_f, atol=atol_f, max_steps=check.max_steps(max_steps))


def sweep_ode_call(
    runs: Sequence[tuple[Any, Network]], context: Mapping[str, Any], threads: int | None
) -> dict[str, Any]:
    """The :class:`OdeCall` fields of a sweep's ensemble call, from its checked context."""
    rtol, atol = context["tolerances"]
    return dict(
        nets=tuple(net for _, net in runs),
        target=context["target"],
        snapshots=context["k"],
        rtol=rtol,
        atol=atol,
        max_steps=context["max_steps"],
        method=context["method"],
        threads=0 if threads is None else threads,
        on_error="record",
    )


@dataclass(frozen=True, eq=False, kw_only=True)
class OdeCall:
    """What the flow's and the limit's call objects share: the networks, the target
    (the core's), the snapshots and the integrator's settings, the threads over runs,
    what to do with a failed run, and ``single`` (the public function's one run)."""

    nets: tuple[Network, ...]
    target: Any
    snapshots: int
    rtol: float = 1e-8
    atol: float = 1e-10
    max_steps: int = 0
    method: str = "auto"
    threads: int = 0
    on_error: str = "raise"
    single: bool = False

    def integrator(self) -> dict[str, Any]:
        """The core call's arguments for the target, snapshots and integrator."""
        return dict(
            target=self.target,
            snapshots=self.snapshots,
            rtol=self.rtol,
            atol=self.atol,
            max_steps=self.max_steps,
            method=self.method,
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
