"""What an ensemble does with a failed run: raise naming it, or record it.

The core runs every member of an ensemble to its end and hands back, for a
failed run, the exception it raised in place of its result. ``on_error="raise"``
raises the first one (in run order) with the run's index in the message;
``on_error="record"`` returns it in the run's place in the list, so one
diverging run of a study never takes the others down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from . import _validate as check
from ._errors import DivergenceError

T = TypeVar("T")

ON_ERROR = ("raise", "record")


def networks(nets: Any, cls: type, name: str = "nets") -> list[Any]:
    """``nets`` of an ensemble as a list: one network alone (a common slip) and
    non-iterables are a TypeError naming ``nets``, not "object is not iterable"."""
    if isinstance(nets, cls):
        raise TypeError(
            f"{name} must be a sequence of ttnn.{cls.__name__} (one per run), got one "
            f"{cls.__name__}; pass [net] for a single run"
        )
    if isinstance(nets, (str, bytes)) or not isinstance(nets, Iterable):
        raise TypeError(
            f"{name} must be a sequence of ttnn.{cls.__name__}, got {type(nets).__name__}"
        )
    return list(nets)


def check_on_error(on_error: Any) -> str:
    return check.choice("on_error", on_error, ON_ERROR)


def run_error(run: int, exc: BaseException) -> BaseException:
    """``exc`` as raised by run ``run`` of an ensemble: same type, the index in the message
    and, for a :class:`ttnn.DivergenceError`, in ``run`` (the step is kept)."""
    msg = f"run {run}: {exc}"
    if isinstance(exc, DivergenceError):
        return DivergenceError(msg, exc.step, run=run)
    try:
        out = type(exc)(msg)
    except Exception:  # an exception type with another signature
        out = RuntimeError(msg)
    out.run = run  # type: ignore[attr-defined]
    return out


def collect(
    outs: Sequence[Any], on_error: str, build: Callable[[int, Any], T]
) -> list[T | BaseException]:
    """``build(i, out)`` for every successful run; failures raised or recorded."""
    results: list[T | BaseException] = []
    for i, out in enumerate(outs):
        if isinstance(out, BaseException):
            err = run_error(i, out)
            if on_error == "raise":
                raise err from out
            err.__cause__ = out  # the run's own error, without the index
            results.append(err)
        else:
            results.append(build(i, out))
    return results
