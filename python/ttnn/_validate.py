"""Argument checks shared by the public API: every message names the argument."""

from __future__ import annotations

import numbers
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


def vector(name: str, value: Any, *, length: int | None = None) -> NDArray[np.float64]:
    """A finite 1-D float64 array (always a fresh copy: inputs are never modified)."""
    try:
        arr = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a 1-D array of real numbers") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (it contains NaN or inf)")
    return arr


def seed(name: str, value: Any) -> int:
    """A seed: an integer in [0, 2**64)."""
    v = integer(name, value, minimum=0)
    if v >= 2**64:
        raise ValueError(f"{name} must be < 2**64, got {v}")
    return v
