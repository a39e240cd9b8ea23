"""``progress=`` of the long-running functions: nothing, a tqdm bar, or a callable.

The core calls ``progress(done, total)`` from the calling thread, with the GIL
held, every ~50 ms while a run goes on and once at the end with ``done == total``.
Work is counted in the function's own units (SGD steps, GD epochs; summed over
the runs of an ensemble). See docs/guide/errors.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import _validate as check

Progress = Callable[[int, int], None]


@contextmanager
def reporter(progress: Any, desc: str, unit: str) -> Iterator[Progress | None]:
    """The callable to hand to the core for ``progress`` (None: report nothing).

    ``True`` gives a tqdm bar on stderr, closed when the block ends (also on an
    error or Ctrl-C); a callable is passed through as is.
    """
    choice = check.progress(progress)
    if choice is False:
        yield None
        return
    if choice is True:
        from tqdm import tqdm

        bar = tqdm(desc=desc, unit=unit, unit_scale=True, leave=False)
        try:
            yield tqdm_updater(bar)
        finally:
            bar.close()
        return
    yield choice


def tqdm_updater(bar: Any) -> Progress:
    """A ``progress`` callable that moves the tqdm ``bar`` to ``done`` of ``total``."""

    def update(done: int, total: int) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    return update
