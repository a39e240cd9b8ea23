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
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from ._io import atomic_path

#: The kind of file ``save`` writes; ``load`` refuses any other.
FORMAT = "ttnn.result/1"


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
    # Set by @dataclass on every subclass; declared so that the mixin is a dataclass type.
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                object.__setattr__(self, f.name, _frozen(value))
            elif isinstance(value, dict):
                # A frozen result holds no mutable mapping either (the integrator's counts).
                object.__setattr__(self, f.name, MappingProxyType(dict(value)))

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

    def to_xarray(self) -> Any:
        """The result as an ``xarray.Dataset`` over (snapshot, neuron[, dim]).

        The time axes are coordinates along ``snapshot``; a univariate network's
        outer layer is split into ``a0`` (the bias, per snapshot) and ``a``
        (snapshot, neuron), so that ``a`` and ``u`` share their dims. The
        settings (and the integrator's counts, if any) are attributes. Needs the
        optional dependency xarray (``pip install ".[sweep]"`` from the ttnn source directory).
        """
        try:
            import xarray as xr
        except ImportError as exc:  # an optional extra
            raise ImportError(
                "to_xarray needs xarray: pip install xarray (or, from the ttnn source directory, "
                'pip install ".[sweep]")'
            ) from exc
        data_vars, coords = self._xarray_vars()
        attrs: dict[str, Any] = {"ttnn_result": type(self).__name__}
        attrs.update(self.settings())
        stats = self._values().get("stats")
        if stats:
            attrs.update({f"stats_{k}": int(v) for k, v in stats.items()})
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)

    def _xarray_vars(self) -> tuple[dict[str, Any], dict[str, Any]]:
        values = self._values()
        coords = {name: ("snapshot", getattr(self, name)) for name in self.time_fields}
        coords["snapshot"] = ("snapshot", np.arange(len(getattr(self, self.time_fields[0]))))
        data: dict[str, Any] = {
            "a0": ("snapshot", values["a"][:, 0]),
            "a": (("snapshot", "neuron"), values["a"][:, 1:]),
            "u": (("snapshot", "neuron"), values["u"]),
        }
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
            "class": type(self).__name__,
            "fields": {k: _plain(v) for k, v in values.items() if not isinstance(v, np.ndarray)},
        }
        payload: dict[str, Any] = {"__attrs__": np.array(json.dumps(attrs)), **arrays}
        with atomic_path(dest) as tmp:  # tmp keeps the .npz suffix: savez adds none
            np.savez(tmp, **payload)


def _is_setting(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str)) and not isinstance(value, np.ndarray)


def _plain(value: Any) -> Any:
    """A field as plain Python data (a read-only mapping as a dict)."""
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _rebuild(cls: type[Result], values: dict[str, Any]) -> Result:
    return cls(**values)


def _result_classes() -> dict[str, type[Result]]:
    # Imported here: the result modules import this one.
    from .additive import GDResult
    from .flow import FlowResult
    from .limits import LimitResult
    from .sgd import SGDResult

    return {c.__name__: c for c in (SGDResult, FlowResult, LimitResult, GDResult)}


def load(path: str | os.PathLike[str]) -> Result:
    """Read a result written by ``save`` (an SGDResult, FlowResult, LimitResult or GDResult)."""
    with np.load(Path(path), allow_pickle=False) as z:
        if "__attrs__" not in z.files:
            raise ValueError(f"{str(path)!r} is not a saved ttnn result (no __attrs__)")
        attrs = json.loads(str(z["__attrs__"]))
        arrays = {k: z[k] for k in z.files if k != "__attrs__"}
    if attrs.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} has format {attrs.get('format')!r}, expected {FORMAT!r}")
    classes = _result_classes()
    name = attrs.get("class")
    if name not in classes:
        raise ValueError(f"{str(path)!r} holds an unknown result class {name!r}")
    return classes[name](**arrays, **attrs["fields"])
