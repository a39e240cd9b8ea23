"""A sweep's zarr store: written as runs finish, resumed after an interruption.

Layout: the Dataset ``ttnn.sweep`` returns, every variable chunked by grid cell
(one zarr chunk = all repeats of one cell), so that writing a cell replaces
whole chunk files. zarr's local store writes each file to a temporary name and
renames it, so a file is either old or new, never half-written. A finished
chunk of runs writes its cells' data first and their ``status`` last: a run
counts as finished only once its status is, and a kill at any moment leaves it
either finished with all its data or "pending" (its other values are then
meaningless and it is run again). See docs/guide/sweeps.md.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import Table, require


def _js(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)


class SpecMismatch(ValueError):
    """The store holds another sweep."""


class Store:
    """The zarr store at ``path`` for the sweep of ``table`` (created or resumed)."""

    def __init__(self, path: str | os.PathLike[str], table: Table, version: str) -> None:
        zarr = require("zarr")
        self.path = Path(path)
        self.table = table
        self.version = version
        if (self.path / "zarr.json").exists():
            self._resume(zarr)
        elif self.path.exists() and any(self.path.iterdir()):
            raise ValueError(f"store {str(self.path)!r} exists and is not a zarr store")
        else:
            self._create()
        self.group = zarr.open_group(str(self.path), mode="r+")

    def _create(self) -> None:
        ds = self.table.to_dataset(self.version)
        run_ndim = len(self.table.run_dims)
        encoding = {}
        for name in (*self.table.vars, *(c for c in ds.coords if c not in ds.dims)):
            var = ds[name]
            chunks = tuple(
                1 if i < run_ndim - 1 else n for i, n in enumerate(var.shape)
            )  # one cell (all repeats, all trailing entries) per chunk
            encoding[name] = {"chunks": chunks}
        # Built aside and renamed: a store directory is complete from the start.
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            # Consolidated metadata (written once: runs only ever rewrite chunks) lets
            # a plain xarray.open_zarr(path) read the store without a warning; zarr
            # warns that v3 has no standard for it yet, which is not the user's concern.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Consolidated metadata")
                ds.to_zarr(str(tmp), mode="w-", consolidated=True, encoding=encoding)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                self.path.rmdir()  # an empty directory given as the destination
            os.replace(tmp, self.path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _resume(self, zarr: Any) -> None:
        g = zarr.open_group(str(self.path), mode="r")
        attrs = dict(g.attrs)
        want = self.table.attrs(self.version)
        if attrs.get("spec_hash") != want["spec_hash"]:
            diff = []
            for k in ("kind", "settings", "grid", "repeats", "sweep_seed", "paired", "schema"):
                old, new = attrs.get(k), want[k]
                if isinstance(old, dict) and isinstance(new, dict):
                    diff += [
                        f"{k}.{s}"
                        for s in sorted(set(old) | set(new))
                        if _js(old.get(s)) != _js(new.get(s))
                    ]
                elif _js(old) != _js(new):
                    diff.append(k)
            raise SpecMismatch(
                f"store {str(self.path)!r} holds another sweep (differs in: "
                f"{', '.join(diff) or 'spec_hash'}); write to another store or delete it"
            )
        self.version = str(attrs.get("ttnn_version", self.version))
        for name, (_dims, arr) in self.table.vars.items():
            arr[...] = np.asarray(g[name][...]).astype(arr.dtype, copy=False)
        # A run is trusted only under its own content hash.
        expected = np.zeros_like(self.table.vars["run_hash"][1])
        for r in self.table.spec.runs:
            expected[r.index] = r.run_hash
        stale = self.table.vars["run_hash"][1] != expected
        if np.any(stale):
            raise SpecMismatch(
                f"store {str(self.path)!r}: {int(stale.sum())} runs carry another content "
                "hash; write to another store or delete it"
            )

    def write(self, indices: list[tuple[int, ...]]) -> None:
        """Write the cells holding the runs ``indices``: data first, status last."""
        cells = self.table.cells(indices)
        names = [n for n in self.table.vars if n != "status"]
        for name in [*names, "status"]:
            arr = self.table.vars[name][1]
            target = self.group[name]
            for cell in cells:
                target[cell] = arr[cell]
