"""The sweep's results as arrays over the grid, and the xarray.Dataset made from them.

A :class:`Table` holds one NumPy array per variable, shaped (grid…, repeat[,
trailing]), filled with the "pending" values until a run's record arrives. The
same table is what the store writes cell by cell, so the Dataset ``ttnn.sweep``
returns and the one ``xarray.open_zarr`` reads are built from the same arrays.
The schema is described in docs/guide/sweeps.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _guard as guard
from .records import Record
from .spec import Spec, kind_class, noise_label

try:  # NumPy ≥ 2: the variable-width strings zarr v3 reads back
    STR: Any = np.dtypes.StringDType()
except AttributeError:  # pragma: no cover (NumPy 1.x)
    STR = object

PENDING = "pending"
STATUSES = ("ok", "diverged", "step_limit", "refused", PENDING)


def require(module: str) -> Any:
    """Import an optional dependency of the sweeps, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f'ttnn.sweep needs {module.split(".")[0]}: pip install ".[sweep]" (from ttnn\'s source)'
        ) from exc


def _sizes(spec: Spec) -> dict[str, int]:
    """Sizes of the trailing dimensions: the largest over the runs (ragged ones padded)."""
    sizes = kind_class(spec.kind).sweep_sizes([r.settings for r in spec.runs])
    return {**sizes, "snapshot": max(r.settings["snapshots"] for r in spec.runs)}


def _bytes_per_run(sizes: dict[str, int], paths: bool) -> int:
    """Bytes one run takes in the table: scalars, the two strings (object headers and a
    short text), the trailing arrays."""
    per = 12 * 8 + 2 * 64 + sizes["break"] + 8 * (sizes["coef"] + sizes["neuron"])
    return per + (3 * 8 * sizes["snapshot"] if paths else 0)


class Table:
    """Every variable of a sweep as a NumPy array over (grid…, repeat[, trailing])."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.run_dims = (*spec.grid, "repeat")
        self.cls = cls = kind_class(spec.kind)
        self.sizes = _sizes(spec)
        #: The kind's own variables (None: the trajectory layout below).
        self.layout = cls.sweep_variables(spec)
        self.paths = self.layout is not None or self.sizes["snapshot"] > 2
        shape = spec.shape
        # The table, the Dataset's copy of it and a store's read buffers: checked before
        # anything is allocated (grid={"m": [20, 10**10]} or snapshots=10**9 would
        # otherwise end in numpy's MemoryError).
        per_run = (
            _bytes_per_run(self.sizes, self.paths)
            if self.layout is None
            else 12 * 8 + 2 * 64 + sum(8 * self.sizes.get(t or "", 1) for *_, t in self.layout)
        )
        guard.memory(
            f"the results of {len(spec.runs)} runs",
            3 * len(spec.runs) * per_run,
            fewer="repeats, grid values, neurons or snapshots",
        )
        self.vars: dict[str, tuple[tuple[str, ...], NDArray[Any]]] = {}
        self.fills: dict[str, Any] = {}
        #: Variables that the Dataset carries as coordinates (along snapshot).
        self.coord_vars: list[str] = []
        # A grid key names its own dimension: a variable of the same name is renamed.
        self.time_axis = self._free(cls.time_axis)
        self.slow_time: str | None = None

        def add(name: str, fill: Any, dtype: Any, trailing: str | None = None) -> None:
            dims = self.run_dims if trailing is None else (*self.run_dims, trailing)
            full = shape if trailing is None else (*shape, self.sizes[trailing])
            self.vars[name] = (dims, np.full(full, fill, dtype=dtype))
            self.fills[name] = fill

        self.extra: list[str] = []
        if self.layout is not None:
            for name, fill, dtype, trailing in self.layout:
                add(name, fill, dtype, trailing)
            self.coord_vars.extend(cls.sweep_coord_vars)
            for name, fill, dtype in (
                ("status", PENDING, STR),
                ("diverged_step", -1, np.int64),
                ("wall_time", np.nan, np.float64),
                ("init_seed", 0, np.uint64),
                ("seed", 0, np.uint64),
                ("message", "", STR),
                ("run_hash", 0, np.uint64),
            ):
                add(name, fill, dtype)
            self._seeds()
            return
        add("l2", np.nan, np.float64)
        if self.paths:
            add("l2_path", np.nan, np.float64, "snapshot")
            integer_axis = cls.integer_time
            add(
                self.time_axis,
                -1 if integer_axis else np.nan,
                np.int64 if integer_axis else np.float64,
                "snapshot",
            )
            self.coord_vars.append(self.time_axis)
            if cls.slow_time == "=":
                self.slow_time = self.time_axis
            elif cls.slow_time:
                # Slow time along the path: tau = eps h step (SGD), eps t (flow).
                self.slow_time = self._free(cls.slow_time)
                add(self.slow_time, np.nan, np.float64, "snapshot")
                self.coord_vars.append(self.slow_time)
        add("covered", False, bool, "break")
        add("all_covered", False, bool)
        add("n_outside", -1, np.int64)
        add("status", PENDING, STR)
        add("diverged_step", -1, np.int64)
        add("wall_time", np.nan, np.float64)
        add("a", np.nan, np.float64, "coef")
        add("u", np.nan, np.float64, "neuron")
        add("init_seed", 0, np.uint64)
        add("seed", 0, np.uint64)
        self.extra = [name for name, _, _ in cls.sweep_extra(spec.grid)]
        for name, fill, dtype in cls.sweep_extra(spec.grid):
            add(name, fill, dtype)
        add("message", "", STR)
        add("run_hash", 0, np.uint64)
        self._seeds()

    def _seeds(self) -> None:
        for r in self.spec.runs:
            self.vars["init_seed"][1][r.index] = r.init_seed
            self.vars["seed"][1][r.index] = r.seed
            self.vars["run_hash"][1][r.index] = r.run_hash

    def _free(self, name: str) -> str:
        """``name``, or ``name + "_path"`` when a grid key (a dimension) holds it."""
        return name if name not in self.spec.grid else f"{name}_path"

    def reset(self, cells: Iterable[tuple[int, ...]]) -> None:
        """Put the runs of ``cells`` back to pending (their data found damaged)."""
        keep = ("init_seed", "seed", "run_hash")
        for cell in cells:
            for name, (_dims, arr) in self.vars.items():
                if name not in keep:
                    arr[cell] = self.fills[name]

    def coords(self) -> dict[str, Any]:
        spec = self.spec
        out: dict[str, Any] = {}
        for k, values in spec.grid.items():
            if k == "noise":
                out[k] = np.array([noise_label(v) for v in values], dtype=STR)
            elif isinstance(values[0], str):
                out[k] = np.array(values, dtype=STR)
            else:
                out[k] = np.array(values)
        out["repeat"] = np.arange(spec.repeats, dtype=np.int64)
        if self.layout is not None:
            for dim in dict.fromkeys(t for *_, t in self.layout if t is not None):
                out[dim] = np.arange(self.sizes[dim], dtype=np.int64)
            return out
        out["break"] = self.cls.sweep_break_coord(spec.runs[0].settings, self.sizes["break"])
        if self.paths:
            out["snapshot"] = np.arange(self.sizes["snapshot"], dtype=np.int64)
        out["neuron"] = np.arange(self.sizes["neuron"], dtype=np.int64)
        out["coef"] = np.arange(self.sizes["coef"], dtype=np.int64)
        return out

    def fill(self, index: tuple[int, ...], rec: Record) -> None:
        """Store a run's record (a failed run keeps the pending values of what it lacks)."""
        v = self.vars
        if self.layout is not None:
            for name, (dims, arr) in v.items():
                if name in rec:
                    if len(dims) > len(self.run_dims):
                        arr[index][: len(rec[name])] = rec[name]
                    else:
                        arr[index] = rec[name]
            v["message"][1][index] = rec.get("message", "")
            return
        for name in ("l2", "all_covered", "n_outside", "status", "diverged_step", "wall_time"):
            if name in rec:
                v[name][1][index] = rec[name]
        v["message"][1][index] = rec.get("message", "")
        for name in self.extra:
            if name in rec:
                v[name][1][index] = rec[name]
        for name, key in (("covered", "covered"), ("a", "a"), ("u", "u")):
            if key in rec:
                v[name][1][index][: len(rec[key])] = rec[key]
        if self.paths and "l2_path" in rec:
            k = len(rec["l2_path"])
            v["l2_path"][1][index][:k] = rec["l2_path"]
            v[self.time_axis][1][index][:k] = rec["time"]
            if self.slow_time is not None and self.slow_time != self.time_axis:
                s = self.spec.runs[int(np.ravel_multi_index(index, self.spec.shape))].settings
                scale = self.cls.sweep_slow_scale(s)
                v[self.slow_time][1][index][:k] = scale * np.asarray(rec["time"], np.float64)

    def finished(self, index: tuple[int, ...]) -> bool:
        return str(self.vars["status"][1][index]) != PENDING

    def counts(self) -> dict[str, int]:
        st = self.vars["status"][1]
        return {s: int((st == s).sum()) for s in STATUSES}

    def attrs(self, version: str) -> dict[str, Any]:
        desc = self.spec.description()
        return {
            "kind": desc["kind"],
            "settings": desc["settings"],
            "grid": desc["grid"],
            "repeats": desc["repeats"],
            "sweep_seed": desc["seed"],
            "paired": desc["paired"],
            "schema": desc["schema"],
            "spec_hash": self.spec.spec_hash(),
            "ttnn_version": version,
            # The coordinate of slow time along the snapshots (none without paths).
            "slow_time": self.slow_time or "",
            "l2": self.cls.l2_doc,
        }

    def to_dataset(self, version: str) -> Any:
        xr = require("xarray")
        data = {
            k: (dims, arr.copy())
            for k, (dims, arr) in self.vars.items()
            if k not in self.coord_vars
        }
        coords: dict[str, tuple[Any, ...]] = {k: (k, v) for k, v in self.coords().items()}
        for name in self.coord_vars:
            dims, arr = self.vars[name]
            coords[name] = (dims, arr.copy())
        return xr.Dataset(data, coords=coords, attrs=self.attrs(version))

    def cells(self, indices: Iterable[tuple[int, ...]]) -> list[tuple[int, ...]]:
        """The grid cells (indices without the repeat) holding these runs, sorted."""
        return sorted({idx[:-1] for idx in indices})
