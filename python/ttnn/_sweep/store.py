"""A sweep's zarr store: written as runs finish, resumed, extended and healed.

Layout: the Dataset ``ttnn.sweep`` returns, every variable chunked by grid cell
(one zarr chunk = all repeats of one cell), so that writing a cell replaces
whole chunk files. zarr's local store writes each file to a temporary name and
renames it, so a file is either old or new, never half-written. Finished runs
write their cells' data first and their ``status`` last: a run counts as
finished only once its status is, and a kill at any moment leaves it either
finished with all its data or "pending" (it is then run again).

Every chunk of every variable exists from the creation of the store on (empty
ones included), and each chunk carries a checksum (zstd's), so that on resume a
missing or corrupt chunk is told from a pending one: the runs of that cell are
run again. A store whose metadata cannot be read is refused with one line.

One sweep at a time works on a store: a lock file beside it (``.NAME.lock``,
removed when the sweep ends) makes a second sweep started on the same store
wait for the first (and then find its runs stored). See docs/guide/sweeps.md.
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

from .._io import lock, unlock
from .dataset import STATUSES, Table, require
from .spec import SCHEMA_VERSION, make_spec


def _js(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)


class SpecMismatch(ValueError):
    """The store holds another sweep."""


class StoreDamaged(ValueError):
    """The store's metadata cannot be read: it cannot be resumed."""


def _damaged(path: Path, what: str) -> StoreDamaged:
    return StoreDamaged(
        f"store {str(path)!r} is damaged ({what}); delete it or start again "
        "with fresh=True (ttnn sweep --fresh)"
    )


def _chunk_exists(path: Path, arr: Any, cell: tuple[int, ...]) -> bool:
    coords = (*cell, *([0] * (arr.ndim - len(cell))))
    return (path / arr.path / arr.metadata.encode_chunk_key(coords)).is_file()


def _load(path: Path, g: Any, table: Table) -> int:
    """Read the store's group ``g`` into ``table``; the cells with a missing, unreadable
    or inconsistent chunk are put back to pending. Returns their number of runs."""
    cells = sorted({r.index[:-1] for r in table.spec.runs})
    bad: set[tuple[int, ...]] = set()
    for name, (_dims, arr) in table.vars.items():
        try:
            src = g[name]
        except Exception as exc:  # noqa: BLE001
            raise _damaged(path, f"variable {name!r}: {type(exc).__name__}: {exc}") from None
        if tuple(src.shape) != arr.shape:
            raise _damaged(path, f"variable {name!r} has shape {src.shape}, not {arr.shape}")
        try:
            arr[...] = np.asarray(src[...]).astype(arr.dtype, copy=False)
        except Exception:  # noqa: BLE001 (a corrupt chunk: find which, cell by cell)
            for cell in cells:
                try:
                    arr[cell] = np.asarray(src[cell]).astype(arr.dtype, copy=False)
                except Exception:  # noqa: BLE001
                    bad.add(cell)
        bad.update(c for c in cells if not _chunk_exists(path, src, c))
    status = table.vars["status"][1]
    known = np.array([str(x) in STATUSES for x in status.ravel()], dtype=bool)
    known = known.reshape(status.shape)
    expected = np.zeros_like(table.vars["run_hash"][1])
    for r in table.spec.runs:
        expected[r.index] = r.run_hash
    wrong = ~known | (table.vars["run_hash"][1] != expected)
    bad.update(tuple(int(i) for i in idx[:-1]) for idx in np.argwhere(wrong))
    table.reset(bad)
    for r in table.spec.runs:  # the seeds and hashes are the spec's, whatever was read
        for name, value in (("init_seed", r.init_seed), ("seed", r.seed)):
            table.vars[name][1][r.index] = value
        table.vars["run_hash"][1][r.index] = r.run_hash
    return len(bad) * table.spec.repeats


def _stored_spec(path: Path, attrs: dict[str, Any]) -> Any:
    """The spec a store's attributes describe (checked against its spec_hash)."""
    try:
        spec = make_spec(
            attrs["kind"],
            attrs["grid"],
            attrs["repeats"],
            attrs["sweep_seed"],
            attrs["settings"],
            attrs["paired"],
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise _damaged(path, f"its attributes: {type(exc).__name__}: {exc}") from None
    if spec.spec_hash() != attrs.get("spec_hash"):
        raise _damaged(path, "its attributes do not match its spec_hash")
    return spec


def read(path: str | os.PathLike[str]) -> tuple[Any, int]:
    """The Dataset of the store at ``path``, read into memory and checked as a resume
    checks it: runs in missing or corrupt chunks read as "pending" (their values NaN),
    never "ok". Returns (dataset, number of such runs); StoreDamaged (one line) when
    the store's metadata cannot be read. For readers such as ``ttnn plot``."""
    zarr = require("zarr")
    p = Path(path)
    try:
        g = zarr.open_group(str(p), mode="r")
        attrs = dict(g.attrs)
    except Exception as exc:  # noqa: BLE001 (any reader error: one line)
        raise _damaged(p, f"{type(exc).__name__}: {exc}") from None
    if attrs.get("schema") != SCHEMA_VERSION:
        raise ValueError(
            f"store {str(p)!r} was written under sweep schema {attrs.get('schema')}, "
            f"this ttnn reads schema {SCHEMA_VERSION}"
        )
    table = Table(_stored_spec(p, attrs))
    damaged = _load(p, g, table)
    return table.to_dataset(str(attrs.get("ttnn_version", ""))), damaged


_SPEC_KEYS = ("kind", "settings", "grid", "repeats", "sweep_seed", "paired", "schema")


class Store:
    """The zarr store at ``path`` for the sweep of ``table`` (created, resumed or
    extended); ``fresh=True`` deletes a zarr store found there first. Holds the
    store's lock until :meth:`close`."""

    def __init__(
        self, path: str | os.PathLike[str], table: Table, version: str, fresh: bool = False
    ) -> None:
        self.zarr = require("zarr")
        self.path = Path(path)
        self.table = table
        self.version = version
        #: Runs found in missing or corrupt chunks (put back to pending).
        self.damaged = 0
        #: Runs taken over from the store's previous, smaller sweep.
        self.reused = 0
        self._lock: Any = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._acquire()
        try:
            self._open(fresh)
        except BaseException:
            self.close()
            raise

    # -- lock and leftovers -------------------------------------------------------

    def _acquire(self) -> None:
        self._lock = lock(
            self._lock_path(),
            f"waiting for the other sweep working on {str(self.path)!r} to finish",
        )

    def _lock_path(self) -> Path:
        return self.path.with_name(f".{self.path.name}.lock")

    def close(self) -> None:
        """Release the store's lock (also done by the system when the process dies)."""
        if self._lock is not None:
            unlock(self._lock, self._lock_path())
            self._lock = None

    def _tidy(self) -> None:
        """Under the lock no other sweep is building this store: its temporary
        directories are leftovers of a killed one. A store killed between the two
        renames of an extension is put back."""
        prev = self.path.with_name(f".{self.path.name}.prev")
        if prev.exists() and not self.path.exists():
            os.replace(prev, self.path)
        for tmp in [*self.path.parent.glob(f".{self.path.name}.*.tmp"), prev]:
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)

    def _open(self, fresh: bool) -> None:
        self._tidy()
        is_zarr = (self.path / "zarr.json").exists()
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"store {str(self.path)!r} exists and is not a directory")
        if not is_zarr and self.path.exists() and any(self.path.iterdir()):
            raise ValueError(f"store {str(self.path)!r} exists and is not a zarr store")
        if fresh and is_zarr:
            shutil.rmtree(self.path)
            is_zarr = False
        if is_zarr:
            self._resume()
        else:
            self._create()
        self.group = self.zarr.open_group(str(self.path), mode="r+")
        self.arrays = {
            name: self.group[name].with_config({"write_empty_chunks": True})
            for name in self.table.vars
        }

    # -- creating -----------------------------------------------------------------

    def _create(self) -> None:
        """Write the table as a new store, built aside and renamed into place (over
        an older store, which is kept aside until the new one is in place)."""
        zarr = self.zarr
        ds = self.table.to_dataset(self.version)
        run_ndim = len(self.table.run_dims)
        encoding: dict[str, dict[str, Any]] = {}
        for name in (*self.table.vars, *(c for c in ds.coords if c not in ds.dims)):
            var = ds[name]
            chunks = tuple(
                1 if i < run_ndim - 1 else n for i, n in enumerate(var.shape)
            )  # one cell (all repeats, all trailing entries) per chunk
            encoding[name] = {"chunks": chunks}
            if var.dtype.kind in "fiub":  # numbers: zstd with its content checksum
                encoding[name]["compressors"] = [zarr.codecs.ZstdCodec(checksum=True)]
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            # Consolidated metadata (written once: runs only ever rewrite chunks) lets
            # a plain xarray.open_zarr(path) read the store without a warning; zarr
            # warns that v3 has no standard for it yet, which is not the user's concern.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Consolidated metadata")
                ds.to_zarr(
                    str(tmp),
                    mode="w-",
                    consolidated=True,
                    encoding=encoding,
                    write_empty_chunks=True,
                )
            prev = self.path.with_name(f".{self.path.name}.prev")
            if self.path.exists():
                if (self.path / "zarr.json").exists():
                    os.replace(self.path, prev)
                else:
                    self.path.rmdir()  # an empty directory given as the destination
            os.replace(tmp, self.path)
            shutil.rmtree(prev, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    # -- resuming -----------------------------------------------------------------

    def _resume(self) -> None:
        try:
            g = self.zarr.open_group(str(self.path), mode="r")
            attrs = dict(g.attrs)
        except Exception as exc:  # noqa: BLE001 (any reader error: one line)
            raise _damaged(self.path, f"{type(exc).__name__}: {exc}") from None
        want = self.table.attrs(self.version)
        self.version = str(attrs.get("ttnn_version", self.version))
        if attrs.get("spec_hash") == want["spec_hash"]:
            self.damaged = _load(self.path, g, self.table)
            return
        old = self._previous(attrs, want)
        old_table = Table(old)
        self.damaged = _load(self.path, g, old_table)
        # Identical content hash, identical run: the stored runs keep their results.
        where = {r.run_hash: r.index for r in self.table.spec.runs}
        for r in old.runs:
            if not old_table.finished(r.index):
                continue
            new = where[r.run_hash]
            for name, (_dims, arr) in self.table.vars.items():
                src = old_table.vars[name][1][r.index]
                if np.ndim(src) == 0:
                    arr[new] = src
                else:
                    arr[new][: src.shape[0]] = src
            self.reused += 1
        self._create()

    def _previous(self, attrs: dict[str, Any], want: dict[str, Any]) -> Any:
        """The spec of the store's sweep when the new one extends it (same study, more
        repeats or grid values); SpecMismatch naming what differs otherwise."""
        diff = []
        for k in _SPEC_KEYS:
            old, new = attrs.get(k), want[k]
            if isinstance(old, dict) and isinstance(new, dict):
                diff += [
                    f"{k}.{s}"
                    for s in sorted(set(old) | set(new))
                    if _js(old.get(s)) != _js(new.get(s))
                ]
            elif _js(old) != _js(new):
                diff.append(k)
        grows = {"repeats", *(f"grid.{k}" for k in want["grid"])}
        old_grid, new_grid = attrs.get("grid") or {}, want["grid"]
        extends = (
            bool(diff)
            and set(diff) <= grows
            and list(old_grid) == list(new_grid)
            and int(attrs.get("repeats", 0)) <= want["repeats"]
            and all(
                {_js(v) for v in old_grid[k]} <= {_js(v) for v in new_grid[k]} for k in new_grid
            )
        )
        if not extends:
            grown = " (a store grows only by repeats or grid values, keeping every stored one)"
            raise SpecMismatch(
                f"store {str(self.path)!r} holds another sweep (differs in: "
                f"{', '.join(diff) or 'spec_hash'}){grown if diff else ''}; write to another "
                "store, or start again with fresh=True (ttnn sweep --fresh)"
            )
        return _stored_spec(self.path, attrs)

    def write(self, indices: list[tuple[int, ...]]) -> None:
        """Write the cells holding the runs ``indices``: data first, status last."""
        cells = self.table.cells(indices)
        names = [n for n in self.table.vars if n != "status"]
        for name in [*names, "status"]:
            arr = self.table.vars[name][1]
            target = self.arrays[name]
            for cell in cells:
                target[cell] = arr[cell]
