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

    def __reduce__(self) -> tuple[type[DivergenceError], tuple[str, int, int | None]]:
        # The default pickles only ``args`` (the message) and would call __init__
        # without ``step``: a Dask worker's recorded failure could not come back.
        return (type(self), (str(self), self.step, self.run))

    def __eq__(self, other: object) -> bool:
        """Same type, message, step and run (a recorded failure compares by content)."""
        if not isinstance(other, DivergenceError):
            return NotImplemented
        return (type(self), str(self), self.step, self.run) == (
            type(other),
            str(other),
            other.step,
            other.run,
        )

    def __hash__(self) -> int:
        return hash((type(self), str(self), self.step, self.run))

    def __repr__(self) -> str:
        return f"DivergenceError({str(self)!r}, step={self.step}, run={self.run})"
