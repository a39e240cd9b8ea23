"""One object per kind of run: its settings described, validated and run in one place.

A *kind of run* (``"sgd"``, ``"flow"``, ``"limit"``, ``"gd"``, ``"circle"``) is a
frozen dataclass that subclasses :class:`Kind`. Its fields are the run's settings,
with their types and defaults, so the signature, the defaults a sweep reads and
the documentation are one thing. The subclass provides:

- ``validate()``: every check of the settings, in one place, each error naming the
  argument (through :mod:`ttnn._validate`), storing normalised values with
  :meth:`Kind._set`. It runs once, when the object is built, so an invalid
  description never exists;
- ``length``: the work units of one run (iterations, steps), for progress and for a
  sweep's cost estimate;
- ``call(runs, context, threads, progress)``: the one conversion of a list of runs
  (and the shared ``context``, e.g. the teacher) to the core's ensemble call; it
  returns, per run, the core's raw result or the exception that run raised;
- ``wrap(run, raw, context)``: the one wrapping of a raw result into the public
  result with named fields.

:func:`run_ensemble` is the circle's path from Python to the core: a single run is
the one-run ensemble. **Adding a kind** is one edit: write the subclass (in the kind's
own module) and decorate it with :func:`register`; :data:`KINDS` then lists it
with its settings, defaults and length for any caller (the sweep).

**What a sweep reads.** A setting declared with :func:`setting` (its type, and
whether it is optional-since-later, a length key, shared per call, fixed only) is a
setting of the kind's sweep; a setting without a default is required. The
``sweep_*`` methods are the rest of the kind's part in a sweep: its per-call
``sweep_context``, building a run from its seeds (``sweep_build``), the ensemble
call (``sweep_call``) and the flattening of a result into the store's record
(``sweep_record``), and the Dataset layout (the trajectory layout of a network on
[0, 1] unless the kind declares ``sweep_variables``). ``ttnn._sweep`` knows no kind
by name. The sgd, flow, limit and gd kinds describe a run as a sweep gives it (m,
η, activation, the run's own settings); their public functions (``ttnn.sgd`` …)
take networks and keep their own signatures. What the two share is the kind's *call*
object (``SGDCall``, ``GDCall``, ``FlowCall``, ``LimitCall``): one validated
ensemble call, run by its ``run`` (the one core call, every result wrapped once).
The public functions build it with its ``check`` (their arguments, named as they
spell them); a kind's ``sweep_call`` builds it directly from the values its
``validate`` has checked with the same per-value functions, so a sweep run is
checked once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np

from . import _validate as check
from ._ensemble import check_on_error, collect
from ._progress import reporter

K = TypeVar("K", bound="Kind")
R = TypeVar("R")

#: The arguments and result of ``Kind.sweep_call``: (run, built) pairs, the thread
#: count (None: OpenMP's), the core's progress(done, total), per run a result or error.
Pairs = Sequence[tuple[Any, Any]]
Threads = int | None
Report = Callable[[int, int], None] | None
Outs = Sequence[Any]

#: The types a sweep setting can have (its canonical JSON form: see ``_sweep.spec``).
SETTING_TYPES = ("int", "real", "str", "strs", "bool", "target", "noise")


def setting(
    default: Any = dataclasses.MISSING,
    *,
    type: str,
    optional: bool = False,
    length: bool = False,
    per_call: bool = False,
    fixed_only: bool = False,
) -> Any:
    """A setting of a kind, as a dataclass field with what a sweep needs to know of it.

    ``type`` is one of :data:`SETTING_TYPES`; ``optional``: added after the first
    stores were written, so its default is not put into a run's settings (nor its
    hash) unless given; ``length``: one of the keys that set a run's length (exactly
    one of them is given); ``per_call``: shared by every run of one ensemble call;
    ``fixed_only``: cannot be swept. A setting without a default is required.
    """
    if type not in SETTING_TYPES:
        raise ValueError(f"setting type must be one of {SETTING_TYPES}, got {type!r}")
    meta = dict(
        type=type, optional=optional, length=length, per_call=per_call, fixed_only=fixed_only
    )
    if isinstance(default, (dict, list)):  # a fresh copy for every instance
        frozen = default
        return dataclasses.field(default_factory=lambda: _copy(frozen), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class Kind:
    """Base of the run descriptions (see the module docstring)."""

    #: The registry name (``"circle"``).
    name: ClassVar[str] = ""
    #: What one work unit of ``length`` is called (progress bars).
    unit: ClassVar[str] = "it"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every setting (naming it) and normalise it with :meth:`_set`."""
        raise NotImplementedError

    def _set(self, field: str, value: Any) -> None:
        # The dataclass is frozen for its users; validation stores the normalised
        # value once, while the object is being built.
        object.__setattr__(self, field, value)

    @property
    def length(self) -> int:
        """Work units of one run (iterations or steps)."""
        raise NotImplementedError

    @classmethod
    def setting_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.init)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Each setting that has a default, with it."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            if f.default is not dataclasses.MISSING:
                out[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                out[f.name] = f.default_factory()
        return out

    @classmethod
    def required(cls) -> tuple[str, ...]:
        """The settings without a default."""
        d = cls.defaults()
        return tuple(n for n in cls.setting_names() if n not in d)

    @classmethod
    def from_settings(cls: type[K], settings: Mapping[str, Any]) -> K:
        """Build from a mapping (a sweep's settings): unknown keys are a TypeError
        naming them, missing required ones a TypeError naming them."""
        if not isinstance(settings, Mapping):
            raise TypeError(f"settings must be a mapping, got {type(settings).__name__}")
        names = cls.setting_names()
        unknown = sorted(str(k) for k in settings if k not in names)
        if unknown:
            raise TypeError(
                f"unknown setting(s) {unknown} for a {cls.name!r} run; its settings are "
                f"{list(names)}"
            )
        missing = [n for n in cls.required() if n not in settings]
        if missing:
            raise TypeError(f"missing setting(s) {missing} for a {cls.name!r} run")
        return cls(**settings)

    def settings(self) -> dict[str, Any]:
        """The settings as a dict (``from_settings`` of it gives an equal object)."""
        return {n: getattr(self, n) for n in self.setting_names()}

    def replace(self: K, **changes: Any) -> K:
        """A copy with some settings changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # -- what a sweep reads (settings declared with :func:`setting`) -------------

    #: Name of the time axis of a run's snapshots in a sweep's Dataset, and whether it
    #: is an integer (steps, epochs) or a time.
    time_axis: ClassVar[str] = "time"
    integer_time: ClassVar[bool] = False
    #: The sweep's progress unit, and whether a run's ``cost`` is in neuron-steps
    #: (about a nanosecond each: the first chunk is sized from that guess).
    sweep_unit: ClassVar[str] = "time"
    cost_in_neuron_steps: ClassVar[bool] = False

    @classmethod
    def sweep_class(cls) -> type[Kind]:
        """The class a sweep of this kind builds its runs with: the kind itself, or a
        subclass adding the settings of what its runs share (the circle's teacher)."""
        return cls

    @classmethod
    def _sweep_fields(cls) -> list[dataclasses.Field[Any]]:
        return [f for f in dataclasses.fields(cls) if "type" in f.metadata]

    @classmethod
    def sweep_types(cls) -> dict[str, str]:
        """Every setting a sweep may give, with its type."""
        return {f.name: f.metadata["type"] for f in cls._sweep_fields()}

    @classmethod
    def sweep_defaults(cls) -> dict[str, Any]:
        """The defaults a sweep puts into every run's settings (and hash)."""
        d = cls.defaults()
        return {
            f.name: d[f.name]
            for f in cls._sweep_fields()
            if f.name in d and not f.metadata["optional"] and not f.metadata["length"]
        }

    @classmethod
    def sweep_optional(cls) -> dict[str, Any]:
        """Settings added later, with their defaults (not put into a run's settings)."""
        d = cls.defaults()
        return {f.name: d[f.name] for f in cls._sweep_fields() if f.metadata["optional"]}

    @classmethod
    def sweep_length(cls) -> tuple[str, ...]:
        """The keys that set a run's length: exactly one is given, fixed or swept."""
        return tuple(f.name for f in cls._sweep_fields() if f.metadata["length"])

    @classmethod
    def sweep_required(cls) -> tuple[str, ...]:
        d = cls.defaults()
        return tuple(f.name for f in cls._sweep_fields() if f.name not in d)

    @classmethod
    def sweep_per_call(cls) -> tuple[str, ...]:
        """Settings every run of one ensemble call shares."""
        return tuple(f.name for f in cls._sweep_fields() if f.metadata["per_call"])

    @classmethod
    def sweep_fixed_only(cls) -> tuple[str, ...]:
        return tuple(f.name for f in cls._sweep_fields() if f.metadata["fixed_only"])

    @classmethod
    def from_sweep(cls: type[K], settings: Mapping[str, Any]) -> K:
        """The run a sweep's settings describe (its seeds aside), validated."""
        return cls(**{k: v for k, v in settings.items() if k in cls.sweep_types()})

    @property
    def sweep_work(self) -> float:
        """Work units of the run for the sweep's progress (steps, epochs, time)."""
        return float(self.length)

    @property
    def sweep_cost(self) -> float:
        """An estimate of the run's time, in units shared by its kind."""
        return self.sweep_work

    @classmethod
    def sweep_context(cls, settings: Mapping[str, Any]) -> Any:
        """What the runs of one ensemble call share, from the settings of one of them
        (checks the per-call settings: a ValueError/TypeError refuses every run)."""
        return None

    def sweep_build(self, init_seed: int, seed: int, context: Any) -> Any:
        """What the run needs besides its settings, from its seeds (its network, data)."""
        return None

    def sweep_always(self) -> dict[str, Any]:
        """Record entries kept whatever the outcome of the run."""
        return {}

    @classmethod
    def sweep_call(cls, runs: Pairs, context: Any, threads: Threads, progress: Report) -> Outs:
        """Run (run, built) pairs in one call: per run, its result or its exception."""
        raise NotImplementedError

    @classmethod
    def sweep_record(cls, run: Any, built: Any, out: Any, context: Any) -> dict[str, Any]:
        """The store's record of one run's result (a successful one)."""
        raise NotImplementedError

    # How the sweep's Dataset lays the records out: the trajectory layout of a
    # network on [0, 1] (l2, its path along the snapshots, the breaks covered, the
    # final a and u) unless a kind declares its own variables.

    #: The slow time along the snapshots: "" (none), the time axis itself ("="), or
    #: the name of a coordinate ``sweep_slow_scale(settings) · time``.
    slow_time: ClassVar[str] = ""
    #: The attribute describing ``l2``.
    l2_doc: ClassVar[str] = "final exact L2 error, integral over [0, 1] of (f* - f)^2"

    @classmethod
    def sweep_slow_scale(cls, settings: Mapping[str, Any]) -> float:
        raise NotImplementedError

    @classmethod
    def sweep_sizes(cls, runs: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """Sizes of the trailing dimensions neuron, coef and break over the runs."""
        s = runs[0]
        return {
            "neuron": max(r["m"] for r in runs),
            "coef": max(r["m"] for r in runs) + 1,
            "break": len(cls.sweep_breaks(s)),
        }

    @classmethod
    def sweep_breaks(cls, settings: Mapping[str, Any]) -> np.ndarray:
        """The ``break`` coordinate."""
        raise NotImplementedError

    @classmethod
    def sweep_break_coord(cls, settings: Mapping[str, Any], size: int) -> np.ndarray:
        """The ``break`` coordinate (``size`` long)."""
        return cls.sweep_breaks(settings)

    @classmethod
    def sweep_extra(cls, grid: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
        """Per-run scalar variables of the kind beyond the common ones (name, fill, dtype)."""
        return []

    @classmethod
    def sweep_variables(cls, spec: Any) -> list[tuple[str, Any, Any, str | None]] | None:
        """A kind's own Dataset variables (name, fill, dtype, trailing dim or None), or None
        for the trajectory layout. A trailing dim is ``"snapshot"`` (sized by the
        ``snapshots`` setting) or one that :meth:`sweep_sizes` sizes; its coordinate is
        an index. A run's record fills the variables of its keys."""
        return None

    #: Which of :meth:`sweep_variables` the Dataset carries as coordinates.
    sweep_coord_vars: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def work(cls, runs: Sequence[Kind]) -> int:
        """Work units of an ensemble (what its progress counts to)."""
        return sum(r.length for r in runs)

    @classmethod
    def call(cls, runs: Sequence[Any], context: Any, threads: int, progress: Any) -> Sequence[Any]:
        """The core's ensemble call: per run, its raw result or its exception."""
        raise NotImplementedError

    @classmethod
    def wrap(cls, run: Any, raw: Any, context: Any) -> Any:
        """The public result of one run from its raw core result."""
        raise NotImplementedError


#: The kinds of run by name (what a sweep can ask for).
KINDS: dict[str, type[Kind]] = {}


def register(cls: type[K]) -> type[K]:
    """Class decorator: add a kind to :data:`KINDS` under its ``name``."""
    if not cls.name or cls.name in KINDS:
        raise ValueError(f"kind name {cls.name!r} is empty or already registered")
    KINDS[cls.name] = cls
    return cls


def kind(name: Any) -> type[Kind]:
    """The kind registered as ``name`` (ValueError listing the kinds otherwise)."""
    return KINDS[check.choice("kind", name, tuple(KINDS))]


def _members(cls: type[K], runs: Any) -> list[K]:
    """``runs`` as a list, every member a ``cls`` (the bad index named otherwise)."""
    if isinstance(runs, (str, bytes, Mapping)) or not isinstance(runs, Sequence):
        raise TypeError(f"runs must be a sequence of {cls.__name__}, got {type(runs).__name__}")
    out = list(runs)
    if not out:
        raise ValueError("runs must hold at least one run")
    for i, r in enumerate(out):
        if not isinstance(r, cls):
            raise TypeError(f"runs[{i}] must be a {cls.__name__}, got {type(r).__name__}")
    return out


def run_ensemble(
    cls: type[K],
    runs: Any,
    context: Any,
    *,
    threads: Any = None,
    on_error: Any = "raise",
    progress: Any = False,
    desc: str | None = None,
    wrap: Callable[[K, Any, Any], R] | None = None,
) -> list[Any]:
    """Run ``runs`` (descriptions of kind ``cls``) in one core call; the results in
    order, a failed run's exception raised (``on_error="raise"``, naming the run) or
    returned in its place (``"record"``). All arguments are checked before any work."""
    members = _members(cls, runs)
    mode = check_on_error(on_error)
    n_threads = check.threads(threads)
    check.progress(progress)
    build = wrap if wrap is not None else cls.wrap
    with reporter(progress, desc or cls.name, cls.unit) as report:
        outs = cls.call(members, context, n_threads, report)
    return collect(outs, mode, lambda i, raw: build(members[i], raw, context))


__all__ = [
    "KINDS",
    "SETTING_TYPES",
    "Outs",
    "Pairs",
    "Report",
    "Threads",
    "Kind",
    "kind",
    "register",
    "run_ensemble",
    "setting",
]
