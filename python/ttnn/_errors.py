"""Exceptions raised by ttnn."""

from __future__ import annotations


class DivergenceError(FloatingPointError):
    """A run whose parameters became non-finite; ``step`` is where it happened.

    In an ensemble, ``run`` is the index of the failing run (``None`` for a
    single run).
    """

    def __init__(self, message: str, step: int, run: int | None = None) -> None:
        super().__init__(message)
        self.step = int(step)
        self.run = None if run is None else int(run)


class StepLimitError(RuntimeError):
    """An integration that needed more than ``max_steps`` steps; ``t`` is the
    time it reached (flow time t, or slow time τ for a limit)."""

    def __init__(self, message: str, steps: int, t: float) -> None:
        super().__init__(message)
        self.steps = int(steps)
        self.t = float(t)


class IllConditionedWarning(RuntimeWarning):
    """a*(u) = argmin_a L(a, u) is ill-posed: its normal equations have a large
    condition number (near-coincident neurons), so a*(u) is sensitive to
    rounding; see the ``ridge`` argument of ``ttnn.two_timescale_limit`` and
    docs/maths/local_basis.md."""
