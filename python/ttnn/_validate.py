"""Argument checks shared by the public API: every message names the argument.

Also the bounds on time spans and tolerances described in docs/guide/errors.md, so
that a request the machine cannot serve fails at once with a ValueError instead of
running for hours. The memory guard is :mod:`ttnn._guard`.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._guard import BATCH_BYTES, ODE_NEURON_BYTES, memory, snapshot_bytes

#: The core's integer ranges: counts (steps, epochs, snapshots) are signed 64-bit,
#: a few (thread counts, the integrators' snapshots) 32-bit. Checked here so that
#: pybind11 never sees an out-of-range integer.
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
#: Largest accepted t_end / tau_end: at t = 1e12 the spacing of doubles is ~1e-4,
#: so an integrator's steps could no longer advance time reliably.
MAX_TIME = 1e12
#: Tightest accepted relative tolerance: a few ulps of double precision.
MIN_RTOL = 1e-13
#: Tightest accepted absolute tolerance: parameters are O(1), and below ~1e-15
#: the error test asks for more than double precision holds (atol = 1e-300 made
#: an integration run for half an hour).
MIN_ATOL = 1e-15
#: Largest |y| accepted in replayed or batch data: squared residuals of larger
#: values overflow the loss to inf.
MAX_DATA = 1e150


def _kind(value: Any) -> str | None:
    """Why ``value`` can never be a real input (None if it might be)."""
    if value is None:
        return "None"
    if isinstance(value, np.ma.MaskedArray):
        return "a masked array (its mask would be ignored)"
    if isinstance(value, (complex, np.complexfloating)) or (
        isinstance(value, np.ndarray) and np.iscomplexobj(value)
    ):
        return "complex (the imaginary part would be lost)"
    return None


def real(name: str, value: Any, *, positive: bool = False, nonneg: bool = False) -> float:
    """A finite real number, optionally > 0 or >= 0."""
    why = _kind(value)
    if why is not None:
        raise TypeError(f"{name} must be a real number, got {why}")
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        if isinstance(value, np.ndarray):
            raise TypeError(f"{name} must be a real number, got an array of shape {value.shape}")
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    if nonneg and not v >= 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


def integer(name: str, value: Any, *, minimum: int | None = None, maximum: int = INT64_MAX) -> int:
    """An integer (Python or NumPy; floats that are whole numbers, like 1e6, too)
    in [minimum, maximum]; ``maximum`` defaults to the core's 64-bit range."""
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
    if v > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {v}")
    return v


def run_snapshots(value: Any, count: int, count_name: str = "steps") -> int:
    """Snapshots K of a run of ``count`` steps (or epochs): 2 <= K <= count + 1.

    Snapshot 0 is the initial state and K − 1 the final one, so a run records at
    least 2 and needs at least 1 step; a run of 0 steps is reported as a problem
    of ``count_name`` (the step count), not of the snapshots.
    """
    k = integer("snapshots", value)
    if count < 1:
        raise ValueError(
            f"{count_name} must be >= 1 (a run records its first and last states), got {count}"
        )
    if k < 2 or k > count + 1:
        raise ValueError(f"snapshots must be in [2, {count_name} + 1] = [2, {count + 1}], got {k}")
    return k


def ode_snapshots(value: Any, m: int | None = None) -> int:
    """Snapshots of an integrator (flow, limit): 2 <= K < 2**31 and, given m, K
    snapshots of (a, u) must fit in memory."""
    k = integer("snapshots", value, maximum=INT32_MAX)
    if k < 2:
        raise ValueError(f"snapshots must be >= 2, got {k}")
    if m is not None:
        memory(f"{k} snapshots at m = {m}", snapshot_bytes(k, 2 * m + 3) + ODE_NEURON_BYTES * m)
    return k


#: Default ``max_steps`` of the ODE integrators (flow, finite-η limit, their sweeps):
#: a run that needs more steps stops with ``ttnn.StepLimitError`` instead of running
#: unbounded. At m = 20 a million Dormand–Prince steps take about a minute, at
#: m = 1000 about half an hour: far beyond any run of the paper (E1's flow at
#: m = 1000 to t = 1750, stability-limited, needs ~4·10⁵). ``max_steps=None`` lifts it.
DEFAULT_MAX_STEPS = 1_000_000


def max_steps(value: Any) -> int:
    """``max_steps`` of an integrator: None (no limit, passed on as 0) or an integer >= 1."""
    if value is None:
        return 0
    return integer("max_steps", value, minimum=1)


#: Most threads any call accepts (the core clamps to the same bound,
#: cpp/include/ttnn/parallel.hpp kMaxThreads). OpenMP allocates a stack and its
#: bookkeeping per requested thread before any work: threads=2**31 − 1 made
#: libgomp exit the interpreter and 10**6 crashed it under a 4 GB address space.
#: No machine Python runs on has more cores than this.
MAX_THREADS = 1024


def threads(value: Any, *, runs: int | None = None) -> int:
    """A thread count for the core: None → 0 (OpenMP's default), else an integer in
    [1, MAX_THREADS]; given ``runs`` (an ensemble), capped at the number of runs,
    since a thread without a run of its own only costs."""
    if value is None:
        return 0
    t = integer("threads", value, minimum=1, maximum=MAX_THREADS)
    if runs is not None:
        t = min(t, max(int(runs), 1))
    return t


def draws(name: str, steps: int, batch: int) -> None:
    """A sampled run draws steps × batch samples, counted in signed 64 bits by the core."""
    if steps * batch > INT64_MAX:
        raise ValueError(
            f"{name} ({steps}) × batch ({batch}) exceeds the core's 64-bit draw count "
            f"({INT64_MAX}); ask for fewer steps"
        )


def replay_draws(epochs: int, n: int) -> None:
    """A replayed run reads epochs × len(data) samples, counted in signed 64 bits."""
    if epochs * n > INT64_MAX:
        raise ValueError(
            f"epochs ({epochs}) × len(data) ({n}) exceeds the core's 64-bit draw count "
            f"({INT64_MAX}); ask for fewer epochs"
        )


def time_span(name: str, value: Any) -> float:
    """An integration horizon (t_end, tau_end): finite, >= 0 and <= MAX_TIME."""
    v = real(name, value, nonneg=True)
    if v > MAX_TIME:
        raise ValueError(f"{name} must be <= {MAX_TIME:g}, got {v:g}")
    return v


def tolerances(rtol: Any, atol: Any) -> tuple[float, float]:
    """An integrator's (rtol, atol): rtol in [MIN_RTOL, 1), atol in [MIN_ATOL, 1]."""
    r = real("rtol", rtol, positive=True)
    a = real("atol", atol, positive=True)
    if not MIN_RTOL <= r < 1.0:
        raise ValueError(f"rtol must be in [{MIN_RTOL:g}, 1), got {r:g}")
    if not MIN_ATOL <= a <= 1.0:
        raise ValueError(f"atol must be in [{MIN_ATOL:g}, 1], got {a:g}")
    return r, a


FLOW_METHODS = ("rk45", "rosenbrock", "rosenbrock_w", "auto")
LIMIT_METHODS = ("rk45", "rosenbrock", "auto")


def flow_method(method: Any) -> str:
    """``method=`` of ``gradient_flow``: one of FLOW_METHODS."""
    return str(choice("method", method, FLOW_METHODS))


def limit_method(method: Any) -> str:
    """``method=`` of the finite-η ``two_timescale_limit``: one of LIMIT_METHODS."""
    return str(choice("method", method, LIMIT_METHODS))


def progress(value: Any) -> bool | Callable[[int, int], None]:
    """``progress=``: a bool (True: a tqdm bar) or a callable (done, total)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None:
        return False
    if callable(value):
        _takes_two("progress", value)
        return value  # type: ignore[no-any-return]
    raise TypeError(
        f"progress must be a bool or a callable (done, total), got {type(value).__name__}"
    )


def _takes_two(name: str, fn: Callable[..., Any]) -> None:
    """A callback the core calls as fn(done, total): refuse, before any work, one that
    cannot take two positional arguments (it failed at the first report with
    Python's bare "takes 1 positional argument")."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have no signature: let them through
        return
    try:
        sig.bind(0, 0)
    except TypeError:
        raise TypeError(
            f"{name} must be a callable taking (done, total), got one with signature {sig}"
        ) from None


def choice(name: str, value: Any, options: Iterable[str], what: str | None = None) -> str:
    """``value`` if it is among ``options`` (an activation, a loss, a mode, a dimension):
    TypeError for a non-string, ValueError naming ``name`` and listing the options.
    ``what`` introduces the list ("a swept dimension:"); by default "X or Y" for
    two options and "one of (...)" for more."""
    opts = tuple(options)
    if what is None:
        listed = " or ".join(map(repr, opts)) if len(opts) == 2 else f"one of {opts}"
    else:
        listed = f"{what} {', '.join(repr(o) for o in opts) or '(none)'}"
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, {listed}, got {type(value).__name__}")
    if value not in opts:
        raise ValueError(f"{name} must be {listed}, got {value!r}")
    return value


def flag(name: str, value: Any) -> bool:
    """A boolean (Python or NumPy bool; not 0/1, which usually means a mistake)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _array(name: str, value: Any, ndim: int, *, copy: bool = True) -> NDArray[np.float64]:
    """A C-contiguous float64 array of ``ndim`` dimensions; a fresh copy unless ``copy=False``,
    which reuses a float64 contiguous input as is (for long read-only streams)."""
    why = _kind(value)
    if why is not None:
        raise TypeError(f"{name} must be a {ndim}-D array of real numbers, got {why}")
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a {ndim}-D array of real numbers") from exc
        why = _kind(value)
        if why is not None:
            raise TypeError(f"{name} must be a {ndim}-D array of real numbers, got {why}")
    if value.dtype.kind not in "biuf":
        # Objects (None inside a list), strings, dates: never silently cast.
        raise TypeError(f"{name} must be a {ndim}-D array of real numbers, got dtype {value.dtype}")
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


def points(name: str, value: Any) -> NDArray[np.float64]:
    """Evaluation points: a finite real scalar or array of any shape, as float64."""
    why = _kind(value)
    if why is not None:
        raise TypeError(f"{name} must be real numbers, got {why}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # a ragged list: NumPy's message names no argument
        raise TypeError(
            f"{name} must be real numbers (a scalar or a rectangular array), got {exc}"
        ) from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers, got dtype {arr.dtype}")
    return _finite(name, arr.astype(np.float64))


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


def data_vector(name: str, value: Any, *, copy: bool = True) -> NDArray[np.float64]:
    """Data targets: a finite 1-D float64 array (as :func:`vector`) whose squares cannot
    overflow the loss (|y| <= MAX_DATA).

    Checked by its minimum and maximum (NaN and ±inf propagate to them): two passes
    without temporaries, where ``vector`` then ``max(abs(y))`` made three and an
    n-element copy (a tenth of a 10⁷-step replay at m = 20, bench/sgd.py).
    """
    arr = _array(name, value, 1, copy=copy)
    if arr.size:
        lo, hi = float(np.min(arr)), float(np.max(arr))
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError(f"{name} must be finite (it contains NaN or inf)")
        if max(-lo, hi) > MAX_DATA:
            raise ValueError(
                f"{name} has values beyond ±{MAX_DATA:g}, whose squares overflow the loss"
            )
    return arr


def per_run(name: str, value: Any, runs: int, conv: Callable[[str, Any], Any]) -> list[Any]:
    """An ensemble argument: a scalar for every run, or one value per run, each checked."""
    why = _kind(value)
    if why is not None and value is not None:
        raise TypeError(f"{name} must be a scalar or one value per network, got {why}")
    if isinstance(value, np.ndarray) and value.ndim != 1:
        raise ValueError(
            f"{name} must be a scalar or a 1-D sequence with one value per network, "
            f"got an array of shape {value.shape}"
        )
    vals = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value] * runs
    if len(vals) != runs:
        raise ValueError(f"{name} must be a scalar or have one entry per network")
    return [conv(f"{name}[{i}]", v) for i, v in enumerate(vals)]


def seed(name: str, value: Any) -> int:
    """A seed: an integer in [0, 2**64) (the core's seeds are unsigned 64-bit)."""
    return integer(name, value, minimum=0, maximum=2**64 - 1)


def batch(name: str, value: Any) -> int:
    """A mini-batch size: an integer in [1, 2**31 − 1] whose per-step buffers
    (BATCH_BYTES per sample in the core) fit in memory."""
    b = integer(name, value, minimum=1, maximum=INT32_MAX)
    memory(f"{name} = {b}", BATCH_BYTES * b, fewer="samples per batch")
    return b
