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
