"""Exceptions raised by ttnn."""

from __future__ import annotations


class DivergenceError(FloatingPointError):
    """A run whose parameters became non-finite; ``step`` is where it happened."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = int(step)
