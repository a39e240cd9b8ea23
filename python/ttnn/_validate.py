"""Argument checks shared by the public API: every message names the argument."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray


def real(name: str, value: Any, *, positive: bool = False, nonneg: bool = False) -> float:
    """A finite real number, optionally > 0 or >= 0."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    if nonneg and not v >= 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


def integer(name: str, value: Any, *, minimum: int | None = None) -> int:
    """An integer (Python or NumPy; floats that are whole numbers, like 1e6, too)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got bool")
    if isinstance(value, (numbers.Integral, np.integer)):
        v = int(value)
    elif isinstance(value, (float, np.floating)) and float(value).is_integer():
        v = int(value)  # e.g. steps=1.75e6
    else:
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return v


def flag(name: str, value: Any) -> bool:
    """A boolean (Python or NumPy bool; not 0/1, which usually means a mistake)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _array(name: str, value: Any, ndim: int, *, copy: bool = True) -> NDArray[np.float64]:
    """A C-contiguous float64 array of ``ndim`` dimensions; a fresh copy unless ``copy=False``,
    which reuses a float64 contiguous input as is (for long read-only streams)."""
    try:
        if copy:
            arr = np.array(value, dtype=np.float64, copy=True)
        else:
            arr = np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a {ndim}-D array of real numbers") from exc
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    return arr


def _finite(name: str, arr: NDArray[np.float64]) -> NDArray[np.float64]:
    # A finite sum proves every entry finite (NaN and ±inf propagate), without the
    # n-byte temporary of isfinite(); only a non-finite sum needs the full test.
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(arr, axis=None)
    if not np.isfinite(total) and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (it contains NaN or inf)")
    return arr


def vector(
    name: str, value: Any, *, length: int | None = None, copy: bool = True
) -> NDArray[np.float64]:
    """A finite 1-D float64 array (a fresh copy unless ``copy=False``)."""
    arr = _array(name, value, 1, copy=copy)
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {arr.shape[0]}")
    return _finite(name, arr)


def matrix(
    name: str, value: Any, *, shape: tuple[int | None, int | None] = (None, None)
) -> NDArray[np.float64]:
    """A finite, non-empty 2-D float64 array (a fresh copy); ``None`` in ``shape``: any size."""
    arr = _array(name, value, 2)
    for axis, want in enumerate(shape):
        if want is not None and arr.shape[axis] != want:
            raise ValueError(f"{name} must have shape {shape} (None: any), got {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return _finite(name, arr)


def per_run(name: str, value: Any, runs: int, conv: Callable[[str, Any], Any]) -> list[Any]:
    """An ensemble argument: a scalar for every run, or one value per run, each checked."""
    vals = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value] * runs
    if len(vals) != runs:
        raise ValueError(f"{name} must be a scalar or have one entry per network")
    return [conv(f"{name}[{i}]", v) for i, v in enumerate(vals)]


def seed(name: str, value: Any) -> int:
    """A seed: an integer in [0, 2**64)."""
    v = integer(name, value, minimum=0)
    if v >= 2**64:
        raise ValueError(f"{name} must be < 2**64, got {v}")
    return v
