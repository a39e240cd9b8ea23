"""Files written whole or not at all.

Every file the package writes (figures, metrics, saved results, sweep manifests)
goes to a temporary name in the destination's directory and is renamed over the
destination only once complete, so a reader never sees a half-written file and
two writers into one directory each leave a complete file (the last one wins).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    The caller writes the whole file to the yielded path (any API that takes a
    file name: ``savefig``, ``np.savez``, ``open``). On an exception, including
    ``KeyboardInterrupt``, the temporary file is removed and ``path`` is left as
    it was. The rename is atomic on POSIX and Windows within one file system,
    which holds because the temporary name lives in the same directory.
    """
    dest = Path(path)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        # Flush the data to disk before the rename makes it visible, so that a
        # crash cannot leave a renamed but empty file.
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
