"""The circle ReLU model of Barboni, Peyré & Vialard (2025): VarPro and two-timescale
GD in the mean-field regime, and the limit PDE (docs/maths/circle.md).

- :class:`Teacher`: ``particles`` angles drawn exactly from ρ_γ (seeded), and ρ_γ
  itself on any angles or grid;
- :class:`CircleRun`: the settings of one training run (the ``"circle"`` kind of
  :mod:`ttnn._kind`), validated once when built;
- :func:`train` runs one, :func:`train_ensemble` many on threads (one core call;
  :func:`train` *is* the one-run ensemble, bit for bit);
- :class:`CircleResult`: the recorded snapshots with named fields, and ``to_xarray``;
- :func:`pde`: the limit PDE's density at requested times (:class:`PdeResult`).

Iteration ``i`` is time ``t = i·dt`` of the PDE, ``dt = 2⁻¹⁰`` by default.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import NDArray

from . import _core
from . import _guard as guard
from . import _validate as check
from ._kind import Kind, Outs, Pairs, Report, Threads, register, run_ensemble, setting
from ._progress import reporter

if TYPE_CHECKING:
    import xarray

F64 = NDArray[np.float64]

METHODS = ("varpro", "2ts")
REGULARISATIONS = ("unbiased", "biased")
DATA = ("samples", "population")
DISTANCES = ("mmd_teacher", "w1_teacher", "mmd_pde")
#: The paper's step: iteration i is time i·2⁻¹⁰ of the PDE.
DT = 2.0**-10
#: Streams of the seeded draws of one run: its samples and its initial angles.
DATA_STREAM, INIT_STREAM = 0, 1


# -- the teacher ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Teacher:
    """The teacher: ``particles`` angles drawn exactly from ρ_γ with ``seed``, all
    outer weights 1. ``angles`` holds them (in draw order)."""

    gamma: float = 100.0
    particles: int = 4096
    seed: int = 0
    angles: F64 = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        g = check.real("gamma", self.gamma, nonneg=True)
        n = check.integer("particles", self.particles, minimum=1, maximum=check.INT32_MAX)
        s = check.seed("seed", self.seed)
        guard.memory(f"a teacher of {n} particles", 8 * n, fewer="particles")
        object.__setattr__(self, "gamma", g)
        object.__setattr__(self, "particles", n)
        object.__setattr__(self, "seed", s)
        angles = _core.circle_sample_rho(n, g, s)
        angles.setflags(write=False)
        object.__setattr__(self, "angles", angles)

    def density(self, theta: Any) -> F64:
        """ρ_γ at the angles ``theta`` (any shape; normalised on the circle)."""
        th = np.asarray(theta, dtype=np.float64)
        flat = check.vector("theta", th.ravel())
        return _core.circle_rho(flat, self.gamma).reshape(th.shape)

    def cell_masses(self, cells: int) -> F64:
        """The exact mass of ρ_γ in each of ``cells`` equal cells of [−π, π)
        (centres: :func:`cell_centres`)."""
        n = check.integer("cells", cells, minimum=1, maximum=check.INT32_MAX)
        return _core.circle_rho_cell_masses(n, self.gamma)


def cell_centres(cells: int) -> F64:
    """Centres of ``cells`` equal cells of [−π, π) (the PDE's grid)."""
    n = check.integer("cells", cells, minimum=1, maximum=check.INT32_MAX)
    return _core.circle_cell_centres(n)


def log_iterations(iterations: int, count: int) -> tuple[int, ...]:
    """About ``count`` iterations from 0 to ``iterations``: 0, then geometrically spaced
    (duplicates after rounding dropped), for log-scale plots of a run."""
    n = check.integer("iterations", iterations, minimum=1)
    k = check.integer("count", count, minimum=2)
    geo = np.unique(np.round(np.geomspace(1, n, k - 1)).astype(np.int64))
    return (0, *(int(i) for i in geo))


# -- one run's settings: the "circle" kind ------------------------------------------


def _snapshots(value: Any, iterations: int) -> tuple[int, ...]:
    """The recorded iterations: an int K (K evenly spaced from 0 to ``iterations``) or
    a strictly increasing sequence within [0, iterations]."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        k = check.run_snapshots(value, iterations, "iterations")
        return tuple(int(i) for i in np.round(np.linspace(0, iterations, k)).astype(np.int64))
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(
            f"snapshots must be an integer or a sequence of iterations, got {type(value).__name__}"
        )
    its = tuple(check.integer("snapshots", v, minimum=0, maximum=iterations) for v in value)
    if not its:
        raise ValueError("snapshots must name at least one iteration")
    if any(b <= a for a, b in zip(its, its[1:], strict=False)):
        raise ValueError(f"snapshots must be strictly increasing, got {list(its)}")
    return its


@register
@dataclasses.dataclass(frozen=True)
class CircleRun(Kind):
    """The settings of one circle run (validated when built; see :func:`train`).

    ``M`` neurons with angles drawn uniformly (``init_seed``, default ``seed``) and
    outer weights from the method; ``lam`` the regularisation λ; ``method`` ``"varpro"``
    (exact ridge projection of u at every iteration) or ``"2ts"`` (both layers step,
    ratio λ/dt); ``regularisation`` ``"unbiased"`` (Σ(u − 1)²) or ``"biased"`` (Σu²);
    ``data`` ``"samples"`` (``N`` Gaussian inputs drawn with ``seed``, full batch) or
    ``"population"`` (exact expectations); ``snapshots`` the recorded iterations (an
    int K: K evenly spaced ones, or a sequence); ``distances`` what is recorded at
    each snapshot besides θ, u, J and the risk: ``"mmd_teacher"``, ``"w1_teacher"``
    (to the teacher's particles) and ``"mmd_pde"`` (to the limit PDE's density at
    time i·dt, on ``pde_cells`` cells).
    """

    name: ClassVar[str] = "circle"
    unit: ClassVar[str] = "it"

    # Each setting is also a setting of a "circle" sweep (its type, and whether the
    # runs of one ensemble call share it); the seeds are the sweep's own.
    M: int = setting(128, type="int")
    lam: float = setting(1e-2, type="real")
    method: str = setting("varpro", type="str")
    regularisation: str = setting("unbiased", type="str", per_call=True)
    data: str = setting("samples", type="str")
    N: int = setting(4096, type="int")
    iterations: int = setting(1000, type="int", per_call=True)
    snapshots: int | tuple[int, ...] = setting(2, type="int", per_call=True)
    distances: tuple[str, ...] = setting(
        ("mmd_teacher", "w1_teacher"), type="strs", per_call=True, fixed_only=True
    )
    seed: int = 0
    init_seed: int | None = None
    dt: float = setting(DT, type="real", per_call=True)
    pde_cells: int = setting(4096, type="int", per_call=True)

    def validate(self) -> None:
        self._set("M", check.integer("M", self.M, minimum=1, maximum=check.INT32_MAX))
        self._set("lam", check.real("lam", self.lam, positive=True))
        self._set("method", check.choice("method", self.method, METHODS))
        self._set(
            "regularisation", check.choice("regularisation", self.regularisation, REGULARISATIONS)
        )
        self._set("data", check.choice("data", self.data, DATA))
        self._set("N", check.integer("N", self.N, minimum=1, maximum=check.INT32_MAX))
        self._set("iterations", check.integer("iterations", self.iterations, minimum=1))
        snaps = _snapshots(self.snapshots, self.iterations)
        if not isinstance(self.snapshots, (int, np.integer)):
            self._set("snapshots", snaps)
        else:
            self._set("snapshots", int(self.snapshots))
        d = self.distances
        if isinstance(d, str) or not isinstance(d, (Sequence, np.ndarray)):
            raise TypeError(f"distances must be a sequence of names from {DISTANCES}")
        dist = tuple(check.choice("distances", x, DISTANCES) for x in d)
        self._set("distances", tuple(x for x in DISTANCES if x in dist))
        self._set("seed", check.seed("seed", self.seed))
        if self.init_seed is not None:
            self._set("init_seed", check.seed("init_seed", self.init_seed))
        self._set("dt", check.real("dt", self.dt, positive=True))
        self._set(
            "pde_cells",
            check.integer("pde_cells", self.pde_cells, minimum=3, maximum=check.INT32_MAX),
        )
        if self.data == "samples":
            guard.memory(f"N = {self.N} samples", 8 * 4 * self.N, fewer="samples")
        guard.memory(
            f"{len(snaps)} snapshots at M = {self.M}",
            guard.snapshot_bytes(len(snaps), 2 * self.M + 4),
        )

    @property
    def length(self) -> int:
        return self.iterations

    @property
    def record(self) -> tuple[int, ...]:
        """The recorded iterations."""
        return _snapshots(self.snapshots, self.iterations)

    @property
    def times(self) -> F64:
        """The recorded times i·dt."""
        return np.asarray(self.record, dtype=np.float64) * self.dt

    #: Settings every member of one ensemble shares (the core runs them in one call).
    SHARED: ClassVar[tuple[str, ...]] = (
        "regularisation",
        "iterations",
        "snapshots",
        "dt",
        "distances",
        "pde_cells",
    )

    def problem(self, teacher: Teacher) -> _core.CircleProblem:
        """The core's problem of this run: the teacher and, for samples, its data."""
        if self.data == "population":
            return _core.CircleProblem(teacher.angles)
        return _core.CircleProblem(
            teacher.angles, _core.circle_gaussian_inputs(self.N, self.seed, DATA_STREAM)
        )

    def theta0(self) -> F64:
        """The initial angles (uniform on the circle, seeded)."""
        s = self.seed if self.init_seed is None else self.init_seed
        return _core.circle_uniform_angles(self.M, s, INIT_STREAM)

    @classmethod
    def call(cls, runs: Sequence[Any], context: Any, threads: int, progress: Any) -> Sequence[Any]:
        teacher = _teacher(context)
        first = runs[0]
        for i, r in enumerate(runs):
            for f in cls.SHARED:
                if getattr(r, f) != getattr(first, f):
                    raise ValueError(
                        f"runs[{i}].{f} = {getattr(r, f)!r} differs from runs[0].{f} = "
                        f"{getattr(first, f)!r}: the runs of one ensemble share {list(cls.SHARED)}"
                    )
        density = None
        if "mmd_pde" in first.distances:
            density = _pde_density(teacher.gamma, first.pde_cells, tuple(first.times))
        return _core.circle_run_ensemble(
            [r.problem(teacher) for r in runs],
            [r.theta0() for r in runs],
            [r.lam for r in runs],
            [r.method for r in runs],
            first.regularisation == "biased",
            first.iterations,
            list(first.record),
            first.dt,
            density,
            threads,
            progress,
        )

    @classmethod
    def sweep_class(cls) -> type[Kind]:
        return CircleSweepRun

    @classmethod
    def wrap(cls, run: Any, raw: Any, context: Any) -> CircleResult:
        its = np.asarray(raw.iterations)
        want = run.distances
        return CircleResult(
            settings=run,
            iteration=its,
            t=its * run.dt,
            theta=np.asarray(raw.theta),
            u=np.asarray(raw.u),
            J=np.asarray(raw.criterion),
            risk=np.asarray(raw.risk),
            mmd_teacher=np.asarray(raw.mmd_teacher) if "mmd_teacher" in want else None,
            w1_teacher=np.asarray(raw.w1_teacher) if "w1_teacher" in want else None,
            mmd_pde=np.asarray(raw.mmd_density) if "mmd_pde" in want else None,
            cg_iterations=int(raw.cg_iterations),
        )


def _teacher(value: Any) -> Teacher:
    if not isinstance(value, Teacher):
        raise TypeError(f"teacher must be a ttnn.circle.Teacher, got {type(value).__name__}")
    return value


@functools.lru_cache(maxsize=4)
def _pde_density(gamma: float, cells: int, times: tuple[float, ...]) -> F64:
    # One PDE per (γ, grid, times): an ensemble and the figures that overlay the
    # same PDE share it. Read-only, since it is shared.
    f = np.asarray(_core.circle_pde(cells, gamma, list(times)).f)
    f.setflags(write=False)
    return f


# -- the "circle" kind of a sweep ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CircleSweepRun(CircleRun):
    """A :class:`CircleRun` as a ``"circle"`` sweep describes it: its settings, and the
    teacher's (``gamma``, ``particles``, ``teacher_seed``: one teacher for the sweep);
    each run's ``seed`` and ``init_seed`` are the sweep's (see docs/guide/sweeps.md).
    A stored run equals ``train(Teacher(gamma, particles, teacher_seed), run)`` of
    the same settings and seeds, bit for bit."""

    time_axis: ClassVar[str] = "iteration"
    integer_time: ClassVar[bool] = True
    sweep_unit: ClassVar[str] = "it"
    sweep_coord_vars: ClassVar[tuple[str, ...]] = ("iteration", "t")
    l2_doc: ClassVar[str] = "J: the criterion at the last snapshot; risk: the risk there"

    gamma: float = setting(100.0, type="real", per_call=True)
    particles: int = setting(4096, type="int", per_call=True)
    teacher_seed: int = setting(0, type="int", per_call=True)

    def validate(self) -> None:
        super().validate()
        self._set("gamma", check.real("gamma", self.gamma, nonneg=True))
        self._set(
            "particles",
            check.integer("particles", self.particles, minimum=1, maximum=check.INT32_MAX),
        )
        self._set("teacher_seed", check.seed("teacher_seed", self.teacher_seed))

    @property
    def sweep_cost(self) -> float:
        n = self.N if self.data == "samples" else 1
        return float(self.iterations) * self.M * n

    @classmethod
    def sweep_context(cls, settings: Any) -> Teacher:
        return Teacher(
            gamma=settings.get("gamma", 100.0),
            particles=settings.get("particles", 4096),
            seed=settings.get("teacher_seed", 0),
        )

    def sweep_build(self, init_seed: int, seed: int, context: Any) -> CircleRun:
        own = {f.name: getattr(self, f.name) for f in dataclasses.fields(CircleRun)}
        return CircleRun(**dict(own, seed=seed, init_seed=init_seed))

    @classmethod
    def sweep_call(cls, runs: Pairs, context: Any, threads: Threads, progress: Report) -> Outs:
        return train_ensemble(
            context,
            [run for _, run in runs],
            threads=threads,
            on_error="record",
            progress=progress or False,
        )

    @classmethod
    def sweep_record(cls, run: Any, built: Any, out: Any, context: Any) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "status": "ok",
            "message": "",
            "diverged_step": -1,
            "J": float(out.J[-1]),
            "risk": float(out.risk[-1]),
            "J_path": out.J,
            "risk_path": out.risk,
            "iteration": out.iteration,
            "t": out.t,
            "theta": out.theta[-1],
            "u": out.u[-1],
            "cg_iterations": out.cg_iterations,
        }
        for name in run.distances:
            rec[name] = float(getattr(out, name)[-1])
            rec[f"{name}_path"] = getattr(out, name)
        return rec

    @classmethod
    def sweep_sizes(cls, runs: Sequence[Any]) -> dict[str, int]:
        return {"neuron": max(r["M"] for r in runs)}

    @classmethod
    def sweep_variables(cls, spec: Any) -> list[tuple[str, Any, Any, str | None]]:
        # distances cannot be swept: every run records the same ones.
        distances = [d for d in DISTANCES if d in spec.runs[0].settings["distances"]]
        f64, nan = np.float64, np.nan
        return [
            ("J", nan, f64, None),
            ("risk", nan, f64, None),
            *((d, nan, f64, None) for d in distances),
            ("cg_iterations", -1, np.int64, None),
            ("J_path", nan, f64, "snapshot"),
            ("risk_path", nan, f64, "snapshot"),
            *((f"{d}_path", nan, f64, "snapshot") for d in distances),
            ("iteration", -1, np.int64, "snapshot"),
            ("t", nan, f64, "snapshot"),
            ("theta", nan, f64, "neuron"),
            ("u", nan, f64, "neuron"),
        ]


# -- results ----------------------------------------------------------------------


class State(NamedTuple):
    """The network at one snapshot: angles and outer weights."""

    theta: F64
    u: F64


@dataclasses.dataclass(frozen=True, eq=False)
class CircleResult:
    """One run's snapshots: ``iteration`` (K,), ``t = iteration·dt``, ``theta`` and
    ``u`` (K, M, in the initial order of the neurons), the criterion ``J``, the
    ``risk``, and the distances asked for (None otherwise), each (K,)."""

    settings: CircleRun
    iteration: NDArray[np.int64]
    t: F64
    theta: F64
    u: F64
    J: F64
    risk: F64
    mmd_teacher: F64 | None
    w1_teacher: F64 | None
    mmd_pde: F64 | None
    #: Conjugate-gradient iterations of the ridge solves, summed over the run (VarPro).
    cg_iterations: int

    @property
    def final(self) -> State:
        """The network at the last snapshot."""
        return State(self.theta[-1], self.u[-1])

    def to_xarray(self) -> xarray.Dataset:
        """A Dataset over ``iteration`` (with coordinate ``t``) and ``neuron``; the
        settings as attributes."""
        import xarray as xr

        data: dict[str, Any] = {
            "theta": (("iteration", "neuron"), self.theta),
            "u": (("iteration", "neuron"), self.u),
            "J": ("iteration", self.J),
            "risk": ("iteration", self.risk),
        }
        for name in DISTANCES:
            v = getattr(self, name)
            if v is not None:
                data[name] = ("iteration", v)
        attrs = {
            k: (list(v) if isinstance(v, tuple) else ("none" if v is None else v))
            for k, v in self.settings.settings().items()
        }
        return xr.Dataset(
            data,
            coords={"iteration": self.iteration, "t": ("iteration", self.t)},
            attrs=dict(attrs, kind="circle", cg_iterations=self.cg_iterations),
        )


# -- training ---------------------------------------------------------------------


def train_ensemble(
    teacher: Teacher,
    runs: Sequence[CircleRun],
    *,
    threads: int | None = None,
    on_error: str = "raise",
    progress: Any = False,
) -> list[CircleResult | BaseException]:
    """Train every run of ``runs`` (:class:`CircleRun`) against ``teacher`` in one
    core call, one run per thread (``threads``: None is OpenMP's default).

    The runs may differ in M, λ, method, data, N and seeds; they share the settings
    in ``CircleRun.SHARED`` (a ValueError names the one that differs). Results do not
    depend on ``threads``. A run that fails (diverges) does not stop the others:
    ``on_error="raise"`` raises the first failure with ``run i:`` in its message,
    ``"record"`` returns the exception in that run's place. With ``"mmd_pde"`` among
    the distances, the PDE is integrated once, to the snapshot times."""
    _teacher(teacher)
    return run_ensemble(
        CircleRun,
        runs,
        teacher,
        threads=threads,
        on_error=on_error,
        progress=progress,
        desc="circle runs",
    )


def train(
    teacher: Teacher,
    run: CircleRun | None = None,
    *,
    threads: int | None = None,
    progress: Any = False,
    **settings: Any,
) -> CircleResult:
    """Train one run against ``teacher``: a :class:`CircleRun`, or its settings as
    keyword arguments (``train(teacher, M=128, lam=1e-2, method="2ts")``). It is the
    one-run :func:`train_ensemble`, so its result equals that of the ensemble's
    member bit for bit. A failing run raises its own error (e.g.
    :class:`ttnn.DivergenceError`)."""
    if run is None:
        run = CircleRun.from_settings(settings)
    elif settings:
        raise TypeError(f"give either a CircleRun or settings, not both (got {sorted(settings)})")
    (out,) = train_ensemble(teacher, [run], threads=threads, on_error="record", progress=progress)
    if isinstance(out, BaseException):
        raise out.__cause__ if out.__cause__ is not None else out
    return out


# -- the PDE ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class PdeResult:
    """The limit PDE's density ``f`` (len(t), cells) at the times ``t``, on cells of
    centres ``theta``; ``mass`` (len(t),) its total mass (1 up to rounding); the
    integrator's accepted and rejected steps."""

    t: F64
    theta: F64
    f: F64
    mass: F64
    accepted: int
    rejected: int

    def to_xarray(self) -> xarray.Dataset:
        import xarray as xr

        return xr.Dataset(
            {"f": (("t", "theta"), self.f), "mass": ("t", self.mass)},
            coords={"t": self.t, "theta": self.theta},
            attrs=dict(accepted=self.accepted, rejected=self.rejected),
        )


def pde(
    times: Sequence[float],
    *,
    gamma: float = 100.0,
    cells: int = 4096,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int | None = None,
    progress: Any = False,
) -> PdeResult:
    """Integrate the limit PDE from the uniform density, with f* = ρ_γ, and return its
    density at ``times`` (nondecreasing, >= 0) on ``cells`` equal cells."""
    g = check.real("gamma", gamma, nonneg=True)
    n = check.integer("cells", cells, minimum=3, maximum=check.INT32_MAX)
    ts = check.vector("times", times) if not isinstance(times, (int, float)) else None
    if ts is None:
        raise TypeError("times must be a sequence of times")
    if ts.size == 0:
        raise ValueError("times must hold at least one time")
    if (ts < 0).any() or (np.diff(ts) < 0).any():
        raise ValueError("times must be >= 0 and nondecreasing")
    for t in ts:
        check.time_span("times", float(t))
    r, a = check.tolerances(rtol, atol)
    ms = check.max_steps(max_steps)
    guard.memory(f"{ts.size} times on {n} cells", guard.snapshot_bytes(int(ts.size), n))
    with reporter(progress, "circle PDE", "t") as report:
        out = _core.circle_pde(n, g, [float(t) for t in ts], r, a, ms, report)
    return PdeResult(
        t=np.asarray(out.t),
        theta=_core.circle_cell_centres(n),
        f=np.asarray(out.f),
        mass=np.asarray(out.mass),
        accepted=int(out.accepted),
        rejected=int(out.rejected),
    )


__all__ = [
    "CircleResult",
    "CircleRun",
    "PdeResult",
    "State",
    "Teacher",
    "cell_centres",
    "log_iterations",
    "pde",
    "train",
    "train_ensemble",
]
