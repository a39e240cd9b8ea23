"""What every run result is as a Python value: frozen, comparable, printable, storable.

SGD, the gradient flow, the limits and full-batch GD return frozen dataclasses
built on :class:`Result`. Their arrays are read-only views (a result never
changes once returned), ``==`` compares every field (arrays elementwise, by
value and shape), ``repr`` is a few lines whatever the number of snapshots,
``to_xarray()`` gives a Dataset over (snapshot, neuron) and ``save(path)`` /
:func:`ttnn.load` store one in a ``.npz`` file with the settings as attributes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from . import _validate as check
from ._errors import DivergenceError
from ._io import atomic_path

#: The kind of file ``save`` writes; ``load`` refuses any other.
FORMAT = "ttnn.result/1"

#: Every result class by its ``result_name``: filled by the classes themselves as they
#: are defined (``Result.__init_subclass__``), read by :func:`load`.
RESULTS: dict[str, type[Result]] = {}


def _frozen(value: Any) -> Any:
    """A read-only view of an array field (the caller's array keeps its own flags)."""
    if isinstance(value, np.ndarray):
        view = value.view()
        view.flags.writeable = False
        return view
    return value


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)):
            return False
        # Bit-for-bit results are the point: equal shapes and values (NaN equal to NaN).
        nan_ok = x.dtype.kind == "f" and y.dtype.kind == "f"
        return x.shape == y.shape and bool(np.array_equal(x, y, equal_nan=nan_ok))
    return bool(x == y)


def _summary(x: np.ndarray) -> str:
    """``first → last`` of a per-snapshot series, in 4 significant digits."""
    if x.size == 0:
        return "[]"
    fmt = "d" if x.dtype.kind in "iu" else ".4g"
    if x.size == 1:
        return f"{x[0]:{fmt}}"
    return f"{x[0]:{fmt}} → {x[-1]:{fmt}}"


class Result:
    """Mixin of the run results (frozen dataclasses with ``eq=False``).

    A subclass names its per-snapshot time axis in ``time_fields`` (the first
    is used for the repr) and its per-snapshot series in ``series_fields``.
    """

    time_fields: ClassVar[tuple[str, ...]] = ()
    series_fields: ClassVar[tuple[str, ...]] = ()
    #: The name ``save`` writes and ``load`` looks up (the class's name by default).
    result_name: ClassVar[str] = ""
    #: Former field names → current ones: a file or pickle written before a rename
    #: is read under the new names.
    renamed: ClassVar[Mapping[str, str]] = {}
    # Set by @dataclass on every subclass; declared so that the mixin is a dataclass type.
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def __init_subclass__(cls, *, register: bool = True, **kwargs: Any) -> None:
        # Each result class registers itself, so that ``load`` needs no list of the
        # result modules (which import this one). Mixins pass ``register=False``.
        super().__init_subclass__(**kwargs)
        if register:
            name = cls.__dict__.get("result_name") or cls.__name__
            if name in RESULTS and RESULTS[name].__qualname__ != cls.__qualname__:
                raise TypeError(f"result name {name!r} is already taken by {RESULTS[name]}")
            cls.result_name = name
            RESULTS[name] = cls

    def __post_init__(self) -> None:
        self._check_values()
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                object.__setattr__(self, f.name, _frozen(value))
            elif isinstance(value, dict):
                # A frozen result holds no mutable mapping either (the integrator's counts).
                object.__setattr__(self, f.name, MappingProxyType(dict(value)))

    # -- the one finiteness check every result passes -------------------------

    #: Fields holding the parameters at each snapshot: finite in every result.
    parameter_fields: ClassVar[tuple[str, ...]] = ("a", "u", "bias")

    def _check_values(self) -> None:
        """Every result is checked here, when built, before anyone sees it: the
        parameters and times finite, the loss series free of NaN (+inf is the
        documented overflow of a loss whose true value exceeds the double range),
        one entry per snapshot, and the settings of their kind. A run whose
        parameters are not finite raises DivergenceError (the core should have
        already); a wrong field (a tampered or foreign file, see :func:`load`)
        raises ValueError or TypeError naming it."""
        names = {f.name: f for f in dataclasses.fields(self)}
        k: int | None = None
        for name in (*self.time_fields, *self.parameter_fields, *self.series_fields):
            if name not in names:
                continue  # a time axis derived from another (SGDResult.t)
            value = getattr(self, name)
            if value is None and name != "a" and name != "u":
                continue
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
                raise TypeError(f"result field {name} must be a real array, got {value!r:.80}")
            if value.ndim == 0:
                raise ValueError(f"result field {name} must have one entry per snapshot")
            if k is None:
                k = value.shape[0]
            elif value.shape[0] != k:
                raise ValueError(
                    f"result field {name} has {value.shape[0]} snapshots, expected {k}"
                )
            if name in self.series_fields:
                if value.ndim != 1:
                    raise ValueError(f"result field {name} must be 1-D, got shape {value.shape}")
                if np.isnan(value).any() or (value == -np.inf).any():
                    raise ValueError(f"result field {name} holds NaN or -inf")
            elif not _all_finite(value):
                where = np.flatnonzero(~np.isfinite(value).reshape(k, -1).all(axis=1))
                snap = int(where[0])
                if name in self.parameter_fields:
                    times = getattr(self, self.time_fields[0], None) if self.time_fields else None
                    step = (
                        int(times[snap]) if times is not None and times.dtype.kind in "iu" else snap
                    )
                    raise DivergenceError(
                        f"result field {name} is not finite at snapshot {snap}", step
                    )
                raise ValueError(f"result field {name} is not finite at snapshot {snap}")
        for name, f in names.items():
            value = getattr(self, name)
            if f.type == "float":
                # Settings: η > 0, step sizes ≥ 0, all finite (check.real's messages).
                check.real(name, value, positive=name == "eta", nonneg=name != "eta")
            elif f.type == "str" and not isinstance(value, str):
                raise TypeError(f"result field {name} must be a string, got {value!r:.80}")
            elif f.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError(f"result field {name} must be an integer, got {value!r:.80}")

    # -- value semantics -----------------------------------------------------

    def _values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result) or type(other) is not type(self):
            return NotImplemented
        mine, theirs = self._values(), other._values()
        return all(_same(mine[k], theirs[k]) for k in mine)

    def __hash__(self) -> int:
        # Results compare by value and hold arrays, as lists do: unhashable.
        raise TypeError(f"unhashable type: {type(self).__name__!r}")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Through the constructor, so an unpickled (or deep-copied) result has
        # read-only arrays again: pickle does not keep an array's flags.
        values = self._values()
        return (_rebuild, (type(self), {k: _plain(v) for k, v in values.items()}))

    def __repr__(self) -> str:
        values = self._values()
        first = getattr(self, self.time_fields[0]) if self.time_fields else None
        k = 0 if first is None else len(first)
        shape = "×".join(str(s) for s in np.shape(values["u"])[1:])
        head = f"{type(self).__name__}({k} snapshots, u: {shape or '0'} per snapshot"
        settings = ", ".join(f"{name}={v!r}" for name, v in values.items() if _is_setting(v))
        lines = [head + ","]
        if settings:
            lines.append(f"  {settings},")
        series = [
            f"{name}: {_summary(np.asarray(getattr(self, name)))}"
            for name in (*self.time_fields[:1], *self.series_fields)
            if getattr(self, name) is not None
        ]
        lines.append("  " + "; ".join(series) + ")")
        return "\n".join(lines)

    # -- conversions ---------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """The scalar settings of the run (step sizes, η, activation, …)."""
        return {k: v for k, v in self._values().items() if _is_setting(v)}

    def to_xarray(self, *, legacy: bool = False) -> Any:
        """The result as an ``xarray.Dataset`` over (snapshot, neuron[, dim]), with the
        names of a sweep's Dataset (docs/guide/sweeps.md).

        The time axes are coordinates along ``snapshot``, named as in a sweep: ``step``
        (SGD), ``epoch`` (GD), ``t``, ``tau``. A univariate network's outer layer is
        ``a`` over (snapshot, coef), whole as in a sweep: coef 0 is the bias a_0 and
        coef j the weight of neuron j − 1. The settings (and the integrator's counts,
        if any) are attributes. ``legacy=True`` (deprecated) gives the former names:
        ``steps``/``epochs``, and ``a`` split into ``a0`` and ``a`` over neuron. Needs
        the optional dependency xarray (``pip install ".[sweep]"`` from the ttnn source
        directory).
        """
        if legacy:
            warnings.warn(
                "to_xarray(legacy=True) is deprecated: the time axes are now named step and "
                "epoch, and the outer layer is a over coef (bias first), as in a sweep",
                DeprecationWarning,
                stacklevel=2,
            )
        try:
            import xarray as xr
        except ImportError as exc:  # an optional extra
            raise ImportError(
                "to_xarray needs xarray: pip install xarray (or, from the ttnn source directory, "
                'pip install ".[sweep]")'
            ) from exc
        data_vars, coords = self._xarray_vars(legacy)
        attrs: dict[str, Any] = {"ttnn_result": type(self).__name__}
        attrs.update(self.settings())
        stats = self._values().get("stats")
        if stats:
            attrs.update({f"stats_{k}": int(v) for k, v in stats.items()})
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)

    #: The name of each time field in a Dataset (a sweep's singular names).
    time_names: ClassVar[Mapping[str, str]] = {"steps": "step", "epochs": "epoch"}

    def _time_coords(self, legacy: bool) -> dict[str, Any]:
        coords = {
            (name if legacy else self.time_names.get(name, name)): ("snapshot", getattr(self, name))
            for name in self.time_fields
        }
        coords["snapshot"] = ("snapshot", np.arange(len(getattr(self, self.time_fields[0]))))
        return coords

    def _xarray_vars(self, legacy: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
        values = self._values()
        coords = self._time_coords(legacy)
        data: dict[str, Any] = {}
        if legacy:
            data["a0"] = ("snapshot", values["a"][:, 0])
            data["a"] = (("snapshot", "neuron"), values["a"][:, 1:])
        else:
            data["a"] = (("snapshot", "coef"), values["a"])
            coords["coef"] = ("coef", np.arange(values["a"].shape[1]))
        data["u"] = (("snapshot", "neuron"), values["u"])
        for name in self.series_fields:
            if values.get(name) is not None:
                data[name] = ("snapshot", values[name])
        return data, coords

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the result to ``path`` (a ``.npz`` file; read back with :func:`ttnn.load`).

        Arrays are stored as arrays, the settings as a JSON attribute; the file is
        written atomically (complete or not at all) and loads without pickle.
        """
        dest = Path(path)
        if dest.suffix != ".npz":
            raise ValueError(f"path must end in .npz, got {str(path)!r}")
        values = self._values()
        arrays = {k: v for k, v in values.items() if isinstance(v, np.ndarray)}
        attrs = {
            "format": FORMAT,
            "class": self.result_name,
            "fields": {k: _plain(v) for k, v in values.items() if not isinstance(v, np.ndarray)},
        }
        payload: dict[str, Any] = {"__attrs__": np.array(json.dumps(attrs)), **arrays}
        with atomic_path(dest) as tmp:  # tmp keeps the .npz suffix: savez adds none
            np.savez(tmp, **payload)


def _all_finite(arr: np.ndarray) -> bool:
    if arr.dtype.kind in "biu":
        return True
    # A finite sum proves every entry finite (NaN and ±inf propagate); only an
    # overflowing sum needs the entrywise test.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(arr, axis=None)):
            return True
    return bool(np.isfinite(arr).all())


def _is_setting(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str)) and not isinstance(value, np.ndarray)


def _plain(value: Any) -> Any:
    """A field as plain Python data (a read-only mapping as a dict)."""
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _rebuild(cls: type[Result], values: dict[str, Any]) -> Result:
    return cls(**_current(cls, values))


def _current(cls: type[Result], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with former field names (``cls.renamed``) replaced by current ones."""
    return {cls.renamed.get(k, k): v for k, v in values.items()}


def load(path: str | os.PathLike[str]) -> Result:
    """Read a result written by ``save`` (an SGDResult, FlowResult, LimitResult or GDResult)."""
    with np.load(Path(path), allow_pickle=False) as z:
        if "__attrs__" not in z.files:
            raise ValueError(f"{str(path)!r} is not a saved ttnn result (no __attrs__)")
        attrs = json.loads(str(z["__attrs__"]))
        arrays = {k: z[k] for k in z.files if k != "__attrs__"}
    if attrs.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} has format {attrs.get('format')!r}, expected {FORMAT!r}")
    classes = RESULTS
    name = attrs.get("class")
    if not isinstance(name, str) or name not in classes:
        raise ValueError(f"{str(path)!r} holds an unknown result class {name!r}")
    fields = attrs.get("fields")
    if not isinstance(fields, dict):
        raise ValueError(f"{str(path)!r} has no settings (fields) for its {name}")
    # Every value is checked as the result is built (Result._check_values): a file
    # with NaN, mismatched shapes or a string η is refused, naming the field.
    try:
        return classes[name](**_current(classes[name], {**arrays, **fields}))
    except TypeError as exc:
        raise TypeError(f"{str(path)!r} is not a valid {name}: {exc}") from None
    except (ValueError, DivergenceError) as exc:
        raise ValueError(f"{str(path)!r} is not a valid {name}: {exc}") from None
