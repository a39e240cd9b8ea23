"""One object per kind of run: its settings described, validated and run in one place.

A *kind of run* (``"circle"`` today; sgd, flow, limit and gd are to follow) is a
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

:func:`run_ensemble` is the only path from Python to the core: a single run is the
one-run ensemble. **Adding a kind** is one edit: write the subclass (in the kind's
own module) and decorate it with :func:`register`; :data:`KINDS` then lists it
with its settings, defaults and length for any caller (the sweep).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from . import _validate as check
from ._ensemble import check_on_error, collect
from ._progress import reporter

K = TypeVar("K", bound="Kind")
R = TypeVar("R")


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
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Each setting that has a default, with it."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
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


__all__ = ["KINDS", "Kind", "kind", "register", "run_ensemble"]
