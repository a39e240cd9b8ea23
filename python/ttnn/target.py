"""Targets f*: piecewise-constant f*(x) = f*_0 + Σ_i Δ_i 1[x > v_i], or a teacher
network (see docs/maths/model.md, "Target" and "Teacher networks")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _validate as check
from .network import Network

#: The breaks of the paper's 1-D experiments (E1–E3).
PAPER_BREAKS = (0.2, 0.35, 0.5, 0.65, 0.8)
#: Values used by the authors' released code: the default preset.
CODE_VALUES = (1.0, 5.0, 1.0, 3.0, 1.0, 5.0)
#: Values quoted in the paper's appendix text ("f = 1 on [0, 0.2], …, 2 on
#: [0.5, 0.65] and 4 elsewhere"); the figures were made with the code's values.
TEXT_VALUES = (1.0, 4.0, 1.0, 2.0, 1.0, 4.0)


class PiecewiseConstant:
    """A step function on [0, 1] with strictly increasing breaks in (0, 1).

    ``values[i]`` holds on (v_i, v_{i+1}]; at a break the left value is taken.
    """

    def __init__(self, breaks: Sequence[float] | ArrayLike, values: Sequence[float] | ArrayLike):
        b = check.vector("breaks", breaks)
        v = check.vector("values", values)
        if v.shape[0] != b.shape[0] + 1:
            raise ValueError(
                f"values must have len(breaks) + 1 = {b.shape[0] + 1} entries, got {v.shape[0]}"
            )
        if b.size and not (b[0] > 0 and b[-1] < 1):
            raise ValueError("breaks must lie strictly inside (0, 1)")
        if np.any(np.diff(b) <= 0):
            raise ValueError("breaks must be strictly increasing (sorted, no duplicates)")
        b.flags.writeable = False
        v.flags.writeable = False
        self._breaks, self._values = b, v
        self._c = _core.PiecewiseConstant(breaks=b.tolist(), values=v.tolist())

    @classmethod
    def paper(cls, values: str = "code") -> PiecewiseConstant:
        """The target of E1–E3: ``values="code"`` (default, the authors' released
        code, which made the figures) or ``"text"`` (the appendix's wording)."""
        presets = {"code": CODE_VALUES, "text": TEXT_VALUES}
        if values not in presets:
            raise ValueError(f"values must be 'code' or 'text', got {values!r}")
        return cls(PAPER_BREAKS, presets[values])

    @property
    def breaks(self) -> NDArray[np.float64]:
        return self._breaks

    @property
    def values(self) -> NDArray[np.float64]:
        return self._values

    @property
    def jumps(self) -> NDArray[np.float64]:
        """Δ_i = f*_i − f*_{i−1}, one per break."""
        return np.diff(self._values)

    def __call__(self, x: ArrayLike) -> NDArray[np.float64]:
        arr = check.points("x", x)
        return np.asarray(self._c(arr.ravel())).reshape(arr.shape)

    def __repr__(self) -> str:
        return f"PiecewiseConstant(breaks={self._breaks.tolist()}, values={self._values.tolist()})"

    def __eq__(self, other: object) -> bool:
        """Same breaks and values (exactly)."""
        if not isinstance(other, PiecewiseConstant):
            return NotImplemented
        return np.array_equal(self._breaks, other._breaks) and np.array_equal(
            self._values, other._values
        )

    def __hash__(self) -> int:
        # Consistent with __eq__ (0.0 == -0.0, so no hashing of bytes).
        return hash((PiecewiseConstant, self._breaks.shape[0]))

    def __reduce__(self) -> tuple[type[PiecewiseConstant], tuple[object, ...]]:
        # Rebuilt from its arrays: the compiled twin and its cached core target cannot be
        # pickled.
        return (PiecewiseConstant, (self._breaks, self._values))


#: What every function taking a target accepts: a step function, or a teacher
#: ``Network`` (any activation, its own m and η). The loss stays exact for both.
Target = PiecewiseConstant | Network


def check_target(target: Any, name: str = "target") -> Target:
    """``target`` itself if it is a PiecewiseConstant or a Network, else a TypeError naming it."""
    if not isinstance(target, (PiecewiseConstant, Network)):
        raise TypeError(
            f"{name} must be a ttnn.PiecewiseConstant or a teacher ttnn.Network, "
            f"got {type(target).__name__}"
        )
    return target


def core_target(target: Target) -> _core.Target:
    """The compiled core's view of ``target`` (built once per object: both kinds are immutable)."""
    cached = getattr(target, "_core_target", None)
    if cached is None:
        cached = _core.Target(target._c)
        object.__setattr__(target, "_core_target", cached)
    return cached


def target_points(target: Target) -> NDArray[np.float64]:
    """The target's kinks/steps inside [0, 1]: the breaks, or a teacher's neuron positions."""
    if isinstance(target, PiecewiseConstant):
        return np.asarray(target.breaks)
    u = np.asarray(target.u)
    return np.sort(u[(u >= 0.0) & (u <= 1.0)])
