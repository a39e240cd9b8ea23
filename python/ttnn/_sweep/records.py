"""A sweep run's record: the plain dict a chunk hands back for each run.

Shared by the kinds (each flattens its own result with these helpers, see
:meth:`ttnn._kind.Kind.sweep_record`) and the chunk runner; it imports no kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import _guard as guard
from .. import _validate as check
from .._errors import DivergenceError, StepLimitError
from ..activation import check_activation
from ..network import Network

Record = dict[str, Any]
#: progress(fraction) with the fraction of the chunk's work done, in [0, 1].
ChunkProgress = Callable[[float], None]


def core_progress(progress: ChunkProgress | None) -> Callable[[int, int], None] | None:
    """The ensembles' progress(done, total) (steps, epochs or outputs) as a fraction of
    the chunk; None without a chunk progress."""
    if progress is None:
        return None
    return lambda done, total: progress(done / total if total else 1.0)


def failed(status: str, message: str, step: int = -1) -> Record:
    return {"status": status, "message": message, "diverged_step": step}


def refused(exc: BaseException) -> Record:
    return failed("refused", f"{type(exc).__name__}: {exc}")


def from_error(exc: BaseException) -> Record:
    # An ensemble names the run by its index in the call: keep the run's own
    # message, which does not depend on the chunk it ran in.
    exc = exc.__cause__ or exc
    if isinstance(exc, DivergenceError):
        return failed("diverged", str(exc), exc.step)
    if isinstance(exc, StepLimitError):
        return failed("step_limit", str(exc))
    return refused(exc)


def check_network(s: Mapping[str, Any]) -> int:
    """Check a run's network settings (m, eta, activation, the memory of m neurons);
    returns m."""
    m = check.integer("m", s["m"], minimum=1)
    check.real("eta", s["eta"], positive=True)
    check_activation(s["activation"])
    guard.memory(f"m = {m}", 64 * m, fewer="neurons")
    return m


def init_net(s: Mapping[str, Any], init_seed: int) -> Network:
    """A run's initial network (``Network.init`` from its settings and init_seed)."""
    return Network.init(s["m"], s["eta"], seed=init_seed, activation=s["activation"])


def slow_length(s: Mapping[str, Any], name: str, scale: float) -> float:
    """A length given directly (``name``) or as slow time τ over ``scale`` (ε h or ε)."""
    if s.get(name) is not None:
        return check.real(name, s[name], nonneg=True)
    tau = check.real("tau", s["tau"], nonneg=True)
    if not scale > 0:
        raise ValueError(f"tau sets no finite {name} when eps = 0; give {name} instead")
    return tau / scale


def trajectory(
    u: np.ndarray,
    a: np.ndarray,
    l2_path: np.ndarray,
    time_axis: np.ndarray,
    breaks: np.ndarray,
    tol: float,
) -> Record:
    """The record of a successful run of a network on [0, 1]: its final loss and path,
    the breaks covered (within ``tol``), neurons outside, final a and u."""
    u_end = np.asarray(u[-1], dtype=np.float64).ravel()
    # breaks_covered and neurons_outside, without their argument checks (m >= 1 here):
    # this runs once per run, and a sweep's runs can take a millisecond.
    cov = np.abs(u_end[:, None] - breaks[None, :]).min(axis=0) <= tol
    return {
        "status": "ok",
        "message": "",
        "diverged_step": -1,
        "l2": float(l2_path[-1]),
        "l2_path": np.asarray(l2_path, dtype=np.float64),
        "time": np.asarray(time_axis),
        "covered": cov,
        "all_covered": bool(cov.all()),
        "n_outside": int(((u_end < 0.0) | (u_end > 1.0)).sum()),
        "a": np.asarray(a[-1], dtype=np.float64).ravel(),
        "u": u_end,
    }


#: Most work one run may ask for, in neuron-steps (steps × batch × m for SGD, epochs
#: × n × m·d for GD): ~10⁵ s at the core's ~1 ns per neuron-step. Beyond it a value is
#: a typo (tau = 1e20), refused before anything runs.
MAX_WORK = 1e14


def bound_work(name: str, value: Any, amount: float, what: str) -> None:
    if not amount <= MAX_WORK:
        raise ValueError(
            f"{name} = {value!r} asks for {amount:.3g} {what}, more than the {MAX_WORK:g} "
            "one run may take"
        )
