"""Two-timescale gradient flow (docs/maths/dynamics.md#gradient-flow), integrated by the C++ core.

da/dt = −∇_a L, du/dt = −eps ∇_u L with the exact gradient of
L = ∫_0^1 (f* − f)² (no factor ½), by adaptive Dormand–Prince 5(4) or, for stiff
flows, a linearly implicit Rosenbrock 4(3) method or a Rosenbrock-W method with a
banded a-block (docs/maths/dynamics.md#stiff-steps).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from . import _core
from . import _guard as guard
from . import _validate as check
from ._ensemble import collect
from ._kind import Outs, Pairs, Report, Threads, register, setting
from ._ode import (
    OdeCall,
    OdeRun,
    check_net_target,
    ode_checks,
    ode_context,
    ode_values,
    stats_dict,
    sweep_ode_call,
)
from ._progress import reporter
from ._sweep import records as rec
from ._trajectory import Trajectory
from .network import Network
from .target import Target, core_target


@dataclass(frozen=True, eq=False, repr=False)
class FlowResult(Trajectory):
    """Snapshots of a gradient flow, evenly spaced in flow time ``t``.

    ``a[k]``, ``u[k]`` are the parameters at ``t[k]`` and ``l2[k]`` the exact
    loss there; ``tau = eps · t`` is the slow time. ``stats`` counts the
    integrator's accepted and rejected steps and right-hand side calls.
    ``stiff_from`` is the time at which ``method="auto"`` went implicit (None if
    it did not or another method was asked for).
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
    stiff_from: float | None = None

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
    max_steps: int | None = check.DEFAULT_MAX_STEPS,
    progress: bool | Callable[[int, int], None] = False,
    method: str = "auto",
    threads: int | None = None,
) -> FlowResult:
    """Integrate da/dt = −∇_a L, du/dt = −eps ∇_u L from ``net`` to ``t_end``.

    Adaptive Dormand–Prince 5(4) with the usual mixed error test
    (|err_i| ≤ atol + rtol |y_i| in RMS); the right-hand side is only piecewise
    smooth (σ is C¹), which the error control handles by shortening steps.
    Snapshots are evenly spaced in t and hit exactly. The GIL is released;
    Ctrl-C raises ``KeyboardInterrupt``; non-finite parameters raise
    ``ttnn.DivergenceError``. ``max_steps`` (default 10⁶; ``None``: no limit)
    bounds the integrator's steps (accepted + rejected): beyond it
    ``ttnn.StepLimitError`` names the time reached. ``progress=True`` shows a
    tqdm bar in snapshots; a callable is called as ``progress(done, total)``.

    ``method="auto"`` (default, described last) picks the integrator; ``"rk45"`` is
    the explicit Dormand–Prince 5(4), whose steps are limited by stability once the
    flow is stiff (E1 at m = 1000: about 20 minutes against seconds for "auto");
    ``method="rosenbrock"`` a linearly implicit Rosenbrock 4(3) method with the full
    Jacobian of the right-hand side (forward differences, dense LU, fresh at every
    step; docs/maths/dynamics.md#stiff-steps): its steps are limited by accuracy,
    not by stiffness, so it wins when the flow is stiff (e.g. near convergence with
    eps of order 1, where the curvature in u is of order Δ²/η) and m is small; each
    step costs 2m + 4 right-hand sides and an O(m³) factorisation, so at large m
    it is slower than the explicit method unless the stiffness is severe.
    ``method="rosenbrock_w"`` (cubic and ramp only) is the Rosenbrock-W method
    ROS34PW2 (order 3, embedded order 2; Rang & Angermann 2005), whose order holds for
    any matrix in place of the Jacobian: it uses blockdiag(−2G(u), 0), i.e. the exact
    stiff a-block −∇²_a L = −2G and nothing for the slow u (nor the couplings), and
    solves (I + 2γh G) x = r in O(m w²) through the banded local basis
    (docs/maths/local_basis.md#implicit-steps). A step costs 3 right-hand sides (4 when
    accepted), a banded factorisation and 4 banded solves (the banded Gram matrix is
    rebuilt every 10 accepted steps and after a rejection), so it fits large m when
    the stiffness is the a-block's λ_max(2G) ∝ m at small eps (E1 at m = 1000);
    stiffness in u (eps of order 1 near convergence) still limits its steps, like an
    explicit method's. Being of order 3, it takes short steps through fast transients
    at tight tolerances, where "auto" (Dormand–Prince first) is faster.
    ``method="auto"`` starts explicitly and goes on implicitly (to the end) once the
    explicit steps are limited by stability rather than accuracy (h·ρ > 3.25 on 15
    accepted steps, ρ estimated from the last two stages): with the Rosenbrock method
    for m ≤ 200, with ``"rosenbrock_w"`` for cubic and ramp at m > 200, while relu at
    m > 200 stays explicit. The time of the switch is ``stiff_from``.

    ``threads`` (default ``None``: the cores, when the work pays) shares each
    right-hand side's pieces out over threads above a size threshold; the result is
    the same, bit for bit, for any ``threads`` (docs/guide/threads.md).
    """
    call = FlowCall.check(
        net,
        target,
        eps=eps,
        t_end=t_end,
        snapshots=snapshots,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        method=method,
        threads=threads,
    )
    (out,) = call.run(progress)
    return out


def check_eps(name: str, value: Any) -> float:
    """ε (the flow's and a flow run's): finite and >= 0 (one function for both)."""
    return check.real(name, value, nonneg=True)


@dataclass(frozen=True, eq=False, kw_only=True)
class FlowCall(OdeCall):
    """One validated gradient-flow call: the description :func:`gradient_flow` and the
    ``"flow"`` sweep kind both run through :meth:`run`.

    Per run: its network, ε and t_end; shared: what :class:`OdeCall` holds.
    :meth:`check` builds the one run of :func:`gradient_flow` from its arguments,
    checking every one (naming it); a sweep builds an ensemble from settings that
    :meth:`FlowRun.validate` and ``ode_context`` have already checked (with
    :func:`check_eps` and the same validators), so no value is checked twice.
    ``single``: the core's single-run entry (threads inside the run, its errors
    raised as they are).
    """

    eps: list[float]
    t_end: list[float]

    @classmethod
    def check(
        cls,
        net: Any,
        target: Any,
        *,
        eps: Any,
        t_end: Any,
        snapshots: Any,
        rtol: Any,
        atol: Any,
        max_steps: Any,
        method: Any,
        threads: Any,
    ) -> FlowCall:
        """The one run :func:`gradient_flow` asks for, every argument checked, naming it."""
        check_net_target(net, target)
        eps_f = check_eps("eps", eps)
        t_f = check.time_span("t_end", t_end)
        integrator = ode_values(snapshots, net.m, rtol, atol, max_steps)
        how = check.flow_method(method)
        if how == "rosenbrock":
            guard.dense(
                "gradient_flow method='rosenbrock'", 2 * net.m + 1, guard.ROSENBROCK_MATRICES
            )
        n_threads = check.threads(threads)
        if how == "rosenbrock_w" and net.activation == "relu":
            raise ValueError(
                "method='rosenbrock_w' needs a windowed activation (cubic or ramp): relu has "
                "no banded Gram matrix; use 'rosenbrock', 'rk45' or 'auto'"
            )
        return cls(
            nets=(net,),
            target=core_target(target),
            eps=[eps_f],
            t_end=[t_f],
            method=how,
            threads=n_threads,
            single=True,
            **integrator,
        )

    def run(self, progress: Any = False) -> list[Any]:
        """The one core call: per run its :class:`FlowResult`; a failed run's exception
        raised (the single run's as it is) or recorded (``on_error``)."""
        nets = self.nets
        shared = dict(self.integrator(), threads=self.threads)

        def wrap(i: int, out: Any) -> FlowResult:
            return FlowResult(
                t=out.t,
                a=out.a,
                u=out.u,
                l2=out.l2,
                eps=self.eps[i],
                eta=nets[i].eta,
                activation=nets[i].activation,
                stats=stats_dict(out.stats),
                stiff_from=None if out.stiff_from < 0 else float(out.stiff_from),
            )

        with reporter(progress, "gradient_flow", "snapshot") as report:
            if self.single:
                out = _core.gradient_flow(
                    net=nets[0]._c, eps=self.eps[0], t_end=self.t_end[0], progress=report, **shared
                )
                return [wrap(0, out)]
            outs = _core.gradient_flow_ensemble(
                nets=[n._c for n in nets], eps=self.eps, t_end=self.t_end, progress=report, **shared
            )
        return collect(outs, self.on_error, wrap)


# -- the "flow" kind of a sweep ---------------------------------------------------


@register
@dataclass(frozen=True, kw_only=True)
class FlowRun(OdeRun):
    """One gradient flow of a sweep (:func:`ttnn.sweep` ``"flow"``): ``Network.init(m,
    eta, activation)`` from the run's init_seed, integrated to ``t_end`` (or to
    ``tau / eps``), validated when built, naming the setting."""

    name: ClassVar[str] = "flow"
    unit: ClassVar[str] = "time"
    time_axis: ClassVar[str] = "t"
    slow_time: ClassVar[str] = "tau"

    eps: float = setting(1.0, type="real")
    t_end: float | None = setting(None, type="real", length=True)
    tau: float | None = setting(None, type="real", length=True)

    # ε as validate() normalised it (what the run's FlowCall is built from).
    run_eps: float = field(init=False, default=0.0, repr=False, compare=False)

    def _end(self, s: Mapping[str, Any]) -> float:
        eps = check_eps("eps", self.eps)
        self._set("run_eps", eps)
        end = rec.slow_length(s, "t_end", eps)
        check.time_span("t_end" if self.t_end is not None else "tau / eps", end)
        return end

    @classmethod
    def shared_checks(cls, s: Mapping[str, Any]) -> None:
        ode_checks(s)
        check.flow_method(s["method"])

    @classmethod
    def sweep_context(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        s = {**cls.sweep_optional(), **settings}
        cls.shared_checks(s)
        return ode_context(s)

    @classmethod
    def sweep_call(cls, runs: Pairs, context: Any, threads: Threads, progress: Report) -> Outs:
        # Every value was checked by validate() and ode_context: the call is built as is.
        call = FlowCall(
            eps=[r.run_eps for r, _ in runs],
            t_end=[r.end for r, _ in runs],
            **sweep_ode_call(runs, context, threads),
        )
        return call.run(progress or False)

    @classmethod
    def sweep_slow_scale(cls, settings: Mapping[str, Any]) -> float:
        return float(settings["eps"])
