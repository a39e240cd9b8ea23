"""The two-timescale limits ε → 0 (docs/maths/limits.md).

``limit="finite"`` (variable projection, run by the C++ core): a = a*(u) solves
(G + (ridge + δ) I) a = b with a fixed Tikhonov δ = 1e-14 (m + 1), and
du/dτ = −∇_u L(a*(u), u). For cubic and ramp a*(u) comes from the banded
local-basis system (docs/maths/local_basis.md), with a condition estimate per snapshot.

``limit="zero"`` (the paper's closed form): f is constant on every cell between
consecutive neurons (the mean of f* there); only the two neurons
u^L < v_i < u^R flanking each break move, with d_L = v_i − u^L, d_R = u^R − v_i,
du^L/dτ = Δ_i² (d_R/(d_L+d_R))², du^R/dτ = −Δ_i² (d_L/(d_L+d_R))², and a neuron
that reaches its break stops there. L*(u) = Σ_i Δ_i² d_L d_R / (d_L + d_R).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from . import _core
from . import _guard as guard
from . import _validate as check
from ._ensemble import collect
from ._errors import DivergenceError, IllConditionedWarning
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
from ._sweep.spec import make_target, target_breaks
from ._trajectory import Trajectory
from .network import Network
from .target import PiecewiseConstant, Target, core_target


@dataclass(frozen=True, eq=False, repr=False)
class LimitResult(Trajectory):
    """Snapshots of a two-timescale limit, evenly spaced in slow time ``tau``.

    ``a[k]`` is the outer layer the limit assigns to ``u[k]``; ``l2[k]`` the
    exact loss L of the network (a[k], u[k]) (for ``limit="zero"``: of the η → 0
    step function); ``limit_loss[k]`` the loss the limit itself tracks
    (L(a*(u), u) for "finite", the closed form L*(u) for "zero"); ``limit`` says
    which (``kind``, its former name, still works with a DeprecationWarning).

    ``cond[k]`` (``limit="finite"`` only, else None) is a condition estimate of
    the linear system a*(u[k]) was solved from: the banded local-basis matrix
    H + (ridge + δ) DᵀD for cubic and ramp, the banded KKT matrix of the linear
    spline for relu, with the fixed Tikhonov δ = 1e-14 (m + 1)
    (docs/maths/local_basis.md). Above ``ILL_CONDITIONED`` the unregularised a*(u)
    is ill-posed or singular (near-coincident neurons) and a warning was issued.
    """

    time_fields: ClassVar[tuple[str, ...]] = ("tau",)
    series_fields: ClassVar[tuple[str, ...]] = ("l2", "limit_loss")

    tau: NDArray[np.float64]
    a: NDArray[np.float64]
    u: NDArray[np.float64]
    l2: NDArray[np.float64]
    limit_loss: NDArray[np.float64]
    eta: float
    activation: str
    limit: str
    stats: Mapping[str, int] = field(default_factory=dict)
    cond: NDArray[np.float64] | None = None

    #: Former field names (files saved before the rename load under the new ones).
    renamed: ClassVar[Mapping[str, str]] = {"kind": "limit"}

    @property
    def kind(self) -> str:
        """Deprecated name of :attr:`limit`."""
        warnings.warn(
            "LimitResult.kind is deprecated: use LimitResult.limit",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.limit


#: Condition estimate of a*(u)'s system above which ``two_timescale_limit`` warns
#: (``IllConditionedWarning``): a*(u) has then lost about half of its 16 digits.
ILL_CONDITIONED: float = 1e8


def two_timescale_limit(
    net: Network,
    target: Target,
    tau_end: float,
    limit: str | None = None,
    ridge: float = 0.0,
    snapshots: int = 100,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int | None = check.DEFAULT_MAX_STEPS,
    progress: bool | Callable[[int, int], None] = False,
    method: str = "auto",
    *,
    eta: str | None = None,
) -> LimitResult:
    """The ε → 0 limit of the gradient flow from ``net.u``, to slow time ``tau_end``.

    ``net.a`` is ignored (the limit's outer layer is optimal at every τ). With
    ``limit="finite"`` (default) the network's own η is used; ``limit="zero"`` is
    the η → 0 closed form and needs at least 2 neurons in every piece of the
    target; it is for piecewise-constant targets only (a teacher ``Network`` is
    accepted with ``limit="finite"``). ``eta=`` is the former name of ``limit``
    (deprecated: η is also the network's width).

    ``ridge`` (``limit="finite"`` only; default 0) replaces a*(u) = argmin_a L(a, u)
    by argmin_a L(a, u) + ridge ‖a‖² (bias included). Either way a*(u) carries a fixed
    Tikhonov term δ = 1e-14 (m + 1): it solves (G + (ridge + δ) I) a = b, which is
    positive definite for every u (coinciding neurons, neurons outside [0, 1]),
    continuous in u, banded for cubic and ramp (O(m w²)), and tends to the
    minimum-norm minimiser as δ → 0. The limit is the gradient flow of
    J = L + (ridge + δ) ‖a‖², which never increases from one accepted step to the
    next (a step that would raise it is rejected and retried shorter); so neurons
    that meet pass or go on together instead of stopping the run. Nearly coinciding
    neurons make the unregularised a*(u) ill-posed: ``cond`` grows and
    ``IllConditionedWarning`` is issued. A larger ridge smooths meetings further, at
    a bias O(ridge ‖a‖²). Coinciding neurons share their outer weight equally and,
    having the same gradient, move together. Non-finite a*(u) or loss (a target
    too large for float64) raise ``ttnn.DivergenceError``. See
    docs/maths/local_basis.md.

    ``max_steps`` (``limit="finite"``; default 10⁶, ``None``: no limit) bounds the
    integrator's steps (``ttnn.StepLimitError`` names the τ reached); ``progress``
    as in :func:`ttnn.gradient_flow`. ``method`` (``limit="finite"``) as there:
    ``"auto"`` (default: explicit until the steps are limited by stability, then
    Rosenbrock; m ≤ 100 only: an implicit step costs m + 3 right-hand sides),
    ``"rk45"`` (explicit Dormand–Prince 5(4)), ``"rosenbrock"`` (linearly
    implicit, the dense finite-difference Jacobian of the limit's field: m + 3
    right-hand sides and an O(m³) LU per step; for stiff late phases at small m). Each keeps
    L + ridge ‖a*‖² non-increasing.
    """
    check_net_target(net, target)
    call = LimitCall.check(
        net,
        target,
        tau_end=tau_end,
        limit=_limit_switch(limit, eta),
        ridge=ridge,
        snapshots=snapshots,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        method=method,
    )
    (out,) = call.run(progress)
    return out


@dataclass(frozen=True, eq=False, kw_only=True)
class LimitCall(OdeCall):
    """One validated limit call: the description :func:`two_timescale_limit` and the
    ``"limit"`` sweep kind both run through :meth:`run`.

    Per run: its network and tau_end; shared: the limit (``"finite"``: the core's
    integrator, ``"zero"``: the η → 0 closed form), the ridge and what
    :class:`OdeCall` holds (the target is the step target itself for "zero", which
    uses no integrator). :meth:`check` builds the one run of
    :func:`two_timescale_limit` from its arguments, checking every one (naming it); a
    sweep builds an ensemble from settings that :meth:`LimitRun.validate` and its
    ``sweep_context`` have already checked with the same validators, so no value is
    checked twice. ``single``: the public function's run (its errors raised as they
    are, the ill-conditioning warning issued).
    """

    tau_end: list[float]
    limit: str
    ridge: float = 0.0

    @classmethod
    def check(
        cls,
        net: Network,
        target: Target,
        *,
        tau_end: Any,
        limit: str,
        ridge: Any,
        snapshots: Any,
        rtol: Any,
        atol: Any,
        max_steps: Any,
        method: Any,
    ) -> LimitCall:
        """The one run :func:`two_timescale_limit` asks for (its net, target and
        limit switch checked), every other argument checked, naming it."""
        tau_f = check.time_span("tau_end", tau_end)
        ridge_f = check.real("ridge", ridge, nonneg=True)
        integrator = ode_values(snapshots, net.m, rtol, atol, max_steps)
        how = check.limit_method(method)
        if limit == "finite":
            if how == "rosenbrock":  # the m × m Jacobian (every a*(u) is banded)
                guard.dense("two_timescale_limit", net.m + 1, guard.ROSENBROCK_MATRICES)
        elif not isinstance(target, PiecewiseConstant):
            raise TypeError(
                "target must be a ttnn.PiecewiseConstant for limit='zero': the η → 0 closed "
                "form (docs/maths/limits.md) is for step targets; use limit='finite' with a "
                "teacher Network"
            )
        return cls(
            nets=(net,),
            target=core_target(target) if limit == "finite" else target,
            tau_end=[tau_f],
            limit=limit,
            ridge=ridge_f,
            method=how,
            single=True,
            **integrator,
        )

    def run(self, progress: Any = False) -> list[Any]:
        """Per run its :class:`LimitResult`; a failed run's exception raised (the
        single run's as it is) or recorded (``on_error``)."""
        nets = self.nets
        if self.limit == "zero":
            # NumPy code (no C++ ensemble, no progress): one call per run.
            if self.single:
                return [_zero_eta_limit(nets[0], self.target, self.tau_end[0], self.snapshots)]
            outs: list[Any] = []
            for net, tau_end in zip(nets, self.tau_end, strict=True):
                try:
                    outs.append(_zero_eta_limit(net, self.target, tau_end, self.snapshots))
                except (DivergenceError, ValueError, TypeError) as exc:
                    outs.append(exc)
            return collect(outs, self.on_error, lambda i, o: o)
        shared = dict(self.integrator(), ridge=self.ridge)

        def wrap(i: int, out: Any) -> LimitResult:
            return LimitResult(
                tau=out.tau,
                a=out.a,
                u=out.u,
                l2=out.l2,
                limit_loss=out.l2,  # the limit tracks L(a*(u), u) itself
                eta=nets[i].eta,
                activation=nets[i].activation,
                limit="finite",
                stats=stats_dict(out.stats),
                cond=out.cond,
            )

        with reporter(progress, "two_timescale_limit", "snapshot") as report:
            if self.single:
                out = _core.finite_eta_limit(
                    net=nets[0]._c, tau_end=self.tau_end[0], progress=report, **shared
                )
            else:
                outs = _core.finite_eta_limit_ensemble(
                    nets=[n._c for n in nets],
                    tau_end=self.tau_end,
                    threads=self.threads,
                    progress=report,
                    **shared,
                )
        if not self.single:
            return collect(outs, self.on_error, wrap)
        cond = out.cond
        if np.max(cond, initial=0.0) > ILL_CONDITIONED:
            worst = int(np.argmax(cond))
            warnings.warn(
                "a*(u) is ill-conditioned, or singular without its Tikhonov term "
                f"(condition estimate {cond[worst]:.3g} at "
                f"tau = {out.tau[worst]:.6g}): nearly coinciding neurons, or many overlapping "
                "windows, make the unregularised a*(u) ill-posed; the fixed Tikhonov term "
                "(1e-14 (m + 1)) or ridge= decides its weakest directions; see "
                "docs/maths/local_basis.md",
                IllConditionedWarning,
                stacklevel=3,  # run, two_timescale_limit, its caller
            )
        return [wrap(0, out)]


def _limit_switch(limit: Any, eta: Any) -> str:
    """The limit asked for: ``limit``, or its deprecated name ``eta`` (checked under
    the name it was given)."""
    if eta is None:
        return check.choice("limit", "finite" if limit is None else limit, LIMITS)
    warnings.warn(
        "two_timescale_limit(eta=...) is deprecated: the switch is named limit "
        "(eta is also the network's width); pass limit='finite' or limit='zero'",
        DeprecationWarning,
        stacklevel=3,
    )
    if limit is not None:
        raise TypeError("give limit only (eta is its deprecated name), not both")
    return check.choice("eta", eta, LIMITS)


#: The two limits: the network's own η, or the η → 0 closed form.
LIMITS = ("finite", "zero")


def _pieces(breaks: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.concatenate(([0.0], breaks, [1.0]))


# The run-time messages of the η → 0 limit keep their former wording (eta='zero'):
# a sweep stores a refused run's message, and stored values must not change.
def _check_two_per_piece(u: NDArray[np.float64], breaks: NDArray[np.float64]) -> None:
    edges = _pieces(breaks)
    inside = u[(u >= 0.0) & (u <= 1.0)]
    # Piece i is [v_i, v_{i+1}) (the last one closed at 1).
    counts = np.bincount(
        np.clip(np.searchsorted(edges, inside, side="right") - 1, 0, len(edges) - 2),
        minlength=len(edges) - 1,
    )
    for i, c in enumerate(counts):
        if c < 2:
            word = "neuron" if c == 1 else "neurons"
            raise ValueError(
                f"piece [{edges[i]:g}, {edges[i + 1]:g}] of the target holds {c} {word}; "
                "the eta='zero' limit needs at least 2 per piece"
            )


def zero_eta_outer(
    u: NDArray[np.float64], breaks: NDArray[np.float64], values: NDArray[np.float64]
) -> tuple[NDArray[np.float64], float]:
    """The η → 0 outer layer and its exact loss.

    f is constant on every cell between consecutive neurons (clipped to [0, 1]),
    equal to the mean of f* over the cell: a_0 is the first cell's mean and a_j
    the jump of the cell means at u_j. Returns (a, ∫_0^1 (f* − f)²).
    """
    order = np.argsort(u, kind="stable")
    cuts = np.concatenate(([0.0], np.clip(u[order], 0.0, 1.0), [1.0]))
    # All points where f or f* may change; on each elementary piece both are constant.
    pts = np.unique(np.concatenate((cuts, breaks)))
    lo, hi = pts[:-1], pts[1:]
    mid = 0.5 * (lo + hi)
    fstar = values[np.searchsorted(breaks, mid, side="left")]
    cell = np.clip(np.searchsorted(cuts, mid, side="right") - 1, 0, len(cuts) - 2)
    length = hi - lo
    ncell = len(cuts) - 1
    mass = np.bincount(cell, weights=length * fstar, minlength=ncell)
    size = np.bincount(cell, weights=length, minlength=ncell)
    means = np.zeros(ncell)
    prev = float(values[0])
    for c in range(ncell):  # an empty cell (coinciding neurons) carries no jump
        means[c] = mass[c] / size[c] if size[c] > 0 else prev
        prev = means[c]
    a = np.empty(len(u) + 1)
    a[0] = means[0]
    a[1 + order] = np.diff(means)
    return a, _scaled_l2(length, fstar - means[cell])


def _scaled_l2(length: NDArray[np.float64], r: NDArray[np.float64]) -> float:
    """Σ length·r² scaled by s = max |r|: r² overflows from |r| ~ 1.3e154 on
    (a target jump of 1.4e154 gave l2 = inf, true ~1e307); s·(s·S) with S ≤ 1 is
    inf only when the true value exceeds the double range."""
    s = float(np.max(np.abs(r))) if r.size else 0.0
    if s == 0.0:
        return 0.0
    return s * (s * float(np.sum(length * (r / s) ** 2)))


def zero_eta_field(d: NDArray[np.float64], delta2: NDArray[np.float64]) -> NDArray[np.float64]:
    """d(d_L, d_R)/dτ = −Δ² ((d_R/s)², (d_L/s)²), s = d_L + d_R, per pair (rows of d)."""
    s = d[:, 0] + d[:, 1]
    return -delta2[:, None] * (d[:, ::-1] / s[:, None]) ** 2


def _rk4(d: NDArray[np.float64], delta2: NDArray[np.float64], h: NDArray[np.float64]):
    hh = h[:, None]
    k1 = zero_eta_field(d, delta2)
    k2 = zero_eta_field(d + 0.5 * hh * k1, delta2)
    k3 = zero_eta_field(d + 0.5 * hh * k2, delta2)
    k4 = zero_eta_field(d + hh * k3, delta2)
    return d + hh / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def _advance_pairs(d: NDArray[np.float64], jump: NDArray[np.float64], span: float) -> None:
    """Advance the pairs (in place) by slow time ``span``; frozen pairs have a zero distance.

    Each pair runs in its own time σ = Δ²τ, in which the field has Δ² = 1:
    Δ² itself overflows from |Δ| ~ 1.3e154 on (NaN positions, issue 23), and
    σ = |Δ|·(|Δ|·span) is then inf, which only means "until the pair freezes"
    (d_L + d_R falls at rate ≥ 1/2, so that takes σ ≤ 2 s).
    RK4 with steps a small fraction of each pair's own time scale s (the
    field is smooth until a neuron reaches its break). When a step would carry
    a neuron past its break, the hitting time inside the step is found by
    bisection on the step length, and the pair stops exactly there.
    """
    delta2 = np.ones(len(d))
    with np.errstate(over="ignore"):
        left = np.abs(jump) * (np.abs(jump) * span)
    while True:
        active = (left > 0) & (np.min(d, axis=1) > 0)
        if not np.any(active):
            return
        da, d2 = d[active], delta2[active]
        h = np.minimum(left[active], 0.02 * (da[:, 0] + da[:, 1]) / d2)
        new = _rk4(da, d2, h)
        cross = np.min(new, axis=1) <= 0
        if np.any(cross):
            lo_h = np.zeros(int(cross.sum()))
            hi_h = h[cross]
            dc, dc2 = da[cross], d2[cross]
            for _ in range(100):
                mid_h = 0.5 * (lo_h + hi_h)
                below = np.min(_rk4(dc, dc2, mid_h), axis=1) <= 0
                hi_h = np.where(below, mid_h, hi_h)
                lo_h = np.where(below, lo_h, mid_h)
                if np.all(hi_h - lo_h <= 1e-15 * hi_h):
                    break
            hit = _rk4(dc, dc2, hi_h)
            hit[np.arange(len(hit)), np.argmin(hit, axis=1)] = 0.0  # on the break
            new[cross] = hit
            h[cross] = hi_h
        d[active] = new
        left[active] -= h
        left[np.min(d, axis=1) <= 0] = 0.0


def _zero_eta_limit(net: Network, target: PiecewiseConstant, tau_end: float, k: int) -> LimitResult:
    breaks, values = np.asarray(target.breaks, float), np.asarray(target.values, float)
    u = np.array(net.u, dtype=np.float64)
    _check_two_per_piece(u, breaks)
    with np.errstate(over="ignore"):
        jump = np.diff(values)
    if not np.all(np.isfinite(jump)):
        raise ValueError(
            "target has a jump beyond the double range (values of opposite signs near "
            "±1.8e308); the eta='zero' limit's outer layer holds the jumps"
        )
    # The two neurons flanking each break: u^L = max u < v_i, u^R = min u >= v_i.
    left_idx = np.array([np.flatnonzero(u < v)[np.argmax(u[u < v])] for v in breaks], dtype=int)
    right_idx = np.array([np.flatnonzero(u >= v)[np.argmin(u[u >= v])] for v in breaks], dtype=int)
    d = np.stack((breaks - u[left_idx], u[right_idx] - breaks), axis=1)

    taus = tau_end * np.arange(k) / (k - 1)
    taus[-1] = tau_end
    us = np.empty((k, len(u)))
    for s in range(k):
        if s > 0:
            _advance_pairs(d, jump, taus[s] - taus[s - 1])
        u[left_idx] = breaks - d[:, 0]
        u[right_idx] = breaks + d[:, 1]
        us[s] = u
    a = np.empty((k, len(u) + 1))
    l2 = np.empty(k)
    limit_loss = np.empty(k)
    for s in range(k):
        a[s], l2[s] = zero_eta_outer(us[s], breaks, values)
        dl, dr = breaks - us[s, left_idx], us[s, right_idx] - breaks
        tot = dl + dr
        q = np.where(tot > 0, dl * dr / np.where(tot > 0, tot, 1), 0)
        with np.errstate(over="ignore"):  # inf only if the true L* is beyond the range
            limit_loss[s] = float(np.sum(np.abs(jump) * (np.abs(jump) * q)))
    return LimitResult(
        tau=taus,
        a=a,
        u=us,
        l2=l2,
        limit_loss=limit_loss,
        eta=net.eta,
        activation=net.activation,
        limit="zero",
    )


# -- the "limit" kind of a sweep --------------------------------------------------


@register
@dataclass(frozen=True, kw_only=True)
class LimitRun(OdeRun):
    """One two-timescale limit of a sweep (:func:`ttnn.sweep` ``"limit"``): from the
    positions of ``Network.init(m, eta, activation)`` (the run's init_seed) to slow
    time ``tau_end`` (or ``tau``); ``limit`` is ``"finite"`` (the core's ensemble) or
    ``"zero"`` (the η → 0 closed form, one NumPy run at a time). Validated when built."""

    name: ClassVar[str] = "limit"
    unit: ClassVar[str] = "time"
    time_axis: ClassVar[str] = "tau"
    slow_time: ClassVar[str] = "="

    tau_end: float | None = setting(None, type="real", length=True)
    tau: float | None = setting(None, type="real", length=True)
    limit: str = setting("finite", type="str", per_call=True)
    ridge: float = setting(0.0, type="real", per_call=True)

    def _end(self, s: Mapping[str, Any]) -> float:
        end = rec.slow_length(s, "tau_end", 1.0)
        check.time_span("tau_end" if self.tau_end is not None else "tau", end)
        return end

    @classmethod
    def shared_checks(cls, s: Mapping[str, Any]) -> None:
        ode_checks(s)
        check.limit_method(s["method"])
        check.real("ridge", s["ridge"], nonneg=True)
        if s["limit"] not in ("finite", "zero"):
            raise ValueError(f"limit must be 'finite' or 'zero', got {s['limit']!r}")
        if s["limit"] == "zero" and "teacher" in s["target"]:
            raise ValueError(
                "limit 'zero' needs a step target: the η → 0 closed form (docs/maths/limits.md) "
                "is for piecewise-constant targets; use limit 'finite' with a teacher"
            )

    @classmethod
    def sweep_context(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        s = {**cls.sweep_optional(), **settings}
        cls.shared_checks(s)
        if s["limit"] == "zero":
            return dict(
                limit="zero",
                target=make_target(s["target"]),
                breaks=target_breaks(s["target"]),
                k=check.ode_snapshots(s["snapshots"]),
            )
        return dict(ode_context(s), limit="finite", ridge=check.real("ridge", s["ridge"]))

    @classmethod
    def sweep_call(cls, runs: Pairs, context: Any, threads: Threads, progress: Report) -> Outs:
        # Every value was checked by validate() and sweep_context: the call is built
        # as is.
        tau_end = [r.end for r, _ in runs]
        if context["limit"] == "zero":
            zero = LimitCall(
                nets=tuple(net for _, net in runs),
                target=context["target"],
                tau_end=tau_end,
                limit="zero",
                snapshots=context["k"],
                on_error="record",
            )
            return zero.run()
        call = LimitCall(
            tau_end=tau_end,
            limit="finite",
            ridge=context["ridge"],
            **sweep_ode_call(runs, context, threads),
        )
        return call.run(progress or False)
