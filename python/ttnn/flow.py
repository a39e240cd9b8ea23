"""Two-timescale gradient flow (docs/maths/dynamics.md#gradient-flow), integrated by the C++ core.

da/dt = −∇_a L, du/dt = −eps ∇_u L with the exact gradient of
L = ∫_0^1 (f* − f)² (no factor ½), by adaptive Dormand–Prince 5(4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from . import _core
from . import _validate as check
from ._progress import reporter
from ._trajectory import Trajectory
from .network import Network
from .target import Target, check_target, core_target


def stats_dict(stats: _core.OdeStats) -> dict[str, int]:
    """The integrator's counts as a plain mapping (a result's ``stats``)."""
    return {"accepted": stats.accepted, "rejected": stats.rejected, "rhs_calls": stats.rhs_calls}


def check_net_target(net: object, target: object) -> None:
    if not isinstance(net, Network):
        raise TypeError(f"net must be a ttnn.Network, got {type(net).__name__}")
    check_target(target)


@dataclass(frozen=True, eq=False, repr=False)
class FlowResult(Trajectory):
    """Snapshots of a gradient flow, evenly spaced in flow time ``t``.

    ``a[k]``, ``u[k]`` are the parameters at ``t[k]`` and ``l2[k]`` the exact
    loss there; ``tau = eps · t`` is the slow time. ``stats`` counts the
    integrator's accepted and rejected steps and right-hand side calls.
    """

    time_fields: ClassVar[tuple[str, ...]] = ("t", "tau")
    series_fields: ClassVar[tuple[str, ...]] = ("l2",)

    t: NDArray[np.float64]
    a: NDArray[np.float64]
    u: NDArray[np.float64]
    l2: NDArray[np.float64]
    eps: float
    eta: float
    activation: str
    stats: Mapping[str, int] = field(default_factory=dict)

    @property
    def tau(self) -> NDArray[np.float64]:
        return self.eps * self.t


def gradient_flow(
    net: Network,
    target: Target,
    eps: float,
    t_end: float,
    snapshots: int = 100,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int | None = None,
    progress: bool | Callable[[int, int], None] = False,
) -> FlowResult:
    """Integrate da/dt = −∇_a L, du/dt = −eps ∇_u L from ``net`` to ``t_end``.

    Adaptive Dormand–Prince 5(4) with the usual mixed error test
    (|err_i| ≤ atol + rtol |y_i| in RMS); the right-hand side is only piecewise
    smooth (σ is C¹), which the error control handles by shortening steps.
    Snapshots are evenly spaced in t and hit exactly. The GIL is released;
    Ctrl-C raises ``KeyboardInterrupt``; non-finite parameters raise
    ``ttnn.DivergenceError``. ``max_steps`` (default: no limit) bounds the
    integrator's steps (accepted + rejected): beyond it ``ttnn.StepLimitError``
    names the time reached. ``progress=True`` shows a tqdm bar in snapshots; a
    callable is called as ``progress(done, total)``.
    """
    check_net_target(net, target)
    eps_f = check.real("eps", eps, nonneg=True)
    t_f = check.time_span("t_end", t_end)
    k = check.ode_snapshots(snapshots, net.m)
    rtol_f, atol_f = check.tolerances(rtol, atol)
    steps = check.max_steps(max_steps)
    with reporter(progress, "gradient_flow", "snapshot") as report:
        out = _core.gradient_flow(
            net=net._c,
            target=core_target(target),
            eps=eps_f,
            t_end=t_f,
            snapshots=k,
            rtol=rtol_f,
            atol=atol_f,
            max_steps=steps,
            progress=report,
        )
    return FlowResult(
        t=out.t,
        a=out.a,
        u=out.u,
        l2=out.l2,
        eps=eps_f,
        eta=net.eta,
        activation=net.activation,
        stats=stats_dict(out.stats),
    )
