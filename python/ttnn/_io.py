"""Files written whole or not at all.

Every file the package writes (figures, metrics, saved results, sweep manifests)
goes to a temporary name in the destination's directory and is renamed over the
destination only once complete, so a reader never sees a half-written file and
two writers into one directory each leave a complete file (the last one wins).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


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
    # Hidden, unique per writer, and ending in the destination's suffix, so that
    # writers choosing a format from the name (savefig, Pillow) still can.
    tmp = dest.with_name(f".{dest.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{dest.suffix}")
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


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=1) + "\n")


def save_figure(fig: Any, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """``fig.savefig(path, **kwargs)`` (Matplotlib), atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, **kwargs)


def save_animation(anim: Any, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """``anim.save(path, **kwargs)`` (a Matplotlib animation), atomically."""
    with atomic_path(path) as tmp:
        anim.save(tmp, **kwargs)


def lock(path: str | os.PathLike[str], waiting: str) -> Any:
    """Hold an exclusive advisory lock on the (empty) file ``path``, created if needed;
    when another process holds it, print ``waiting`` on stderr and wait. Returns the
    open file, for :func:`unlock` (the process ending, however, releases it too). No
    lock where ``fcntl`` is missing (Windows): returns None."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover
        return None
    said = False
    while True:
        f = open(path, "a+b")  # noqa: SIM115 (held until unlock)
        try:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                if not said:
                    print(waiting, file=sys.stderr, flush=True)
                    said = True
                fcntl.flock(f, fcntl.LOCK_EX)
            # The holder before us removes the file as it lets go: a lock on a file
            # no longer at ``path`` locks nothing, so take the one there now.
            try:
                same = os.stat(path).st_ino == os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                same = False
        except BaseException:
            f.close()
            raise
        if same:
            return f
        f.close()


def unlock(f: Any, path: str | os.PathLike[str]) -> None:
    """Release a :func:`lock`, removing its file (no lock file is left behind)."""
    if f is None:
        return
    try:
        Path(path).unlink(missing_ok=True)  # still locked: no one else removes it
    finally:
        f.close()
