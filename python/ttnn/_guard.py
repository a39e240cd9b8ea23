"""The memory guard: a request whose estimate exceeds the memory available fails at
once with a ValueError naming what to ask less of, before anything is allocated
(docs/guide/errors.md), instead of the process being killed.

The estimates count what the core allocates per unit (the *_BYTES constants, each
measured); :func:`memory` compares a request with :func:`memory_limit`.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Requests up to this many bytes are never refused for memory: reading
#: /proc/meminfo and the cgroup files takes ~0.1 ms, more than a short SGD run
#: costs per 10⁴ steps, and no machine Python runs on lacks 16 MiB.
#: TTNN_MEMORY_LIMIT_GIB, when set, still applies to every request.
SMALL_REQUEST = 16 * 2**20


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def _cgroup_available() -> int | None:
    # A container's limit (cgroup v2), which /proc/meminfo does not show.
    try:
        root = Path("/sys/fs/cgroup")
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return int(limit) - int((root / "memory.current").read_text())
    except (OSError, ValueError):
        return None


def memory_limit() -> int | None:
    """Bytes one call may allocate: the memory available now (the smaller of the
    system's MemAvailable and a cgroup limit), or ``TTNN_MEMORY_LIMIT_GIB`` when set.
    None when it cannot be found (no check then)."""
    env = os.environ.get("TTNN_MEMORY_LIMIT_GIB")
    if env:
        try:
            return int(float(env) * 2**30)
        except ValueError:
            raise ValueError(
                f"TTNN_MEMORY_LIMIT_GIB must be a number of GiB, got {env!r}"
            ) from None
    found = [v for v in (_meminfo_available(), _cgroup_available()) if v is not None]
    return min(found) if found else None


def memory(what: str, nbytes: int, fewer: str = "snapshots or neurons") -> None:
    """Refuse, before allocating, a request whose estimate exceeds memory_limit()
    (without looking up the memory available for requests up to SMALL_REQUEST)."""
    if nbytes <= SMALL_REQUEST and not os.environ.get("TTNN_MEMORY_LIMIT_GIB"):
        return
    limit = memory_limit()
    if limit is not None and nbytes > limit:
        raise ValueError(
            f"{what} needs about {nbytes / 2**30:.3g} GiB, more than the "
            f"{max(limit, 0) / 2**30:.3g} GiB available; ask for fewer {fewer} "
            "(TTNN_MEMORY_LIMIT_GIB overrides the bound)"
        )


# What the core allocates, per unit, measured as the slope of the peak RSS
# between two sizes (tools/measure_memory.py; the numbers below are its output,
# rounded up). The guards count these, not a guess: the mini-batch guard assumed
# 32 bytes per sample, so batch = 4.5e7 passed a 1.5 GiB limit and peaked at
# 2.49 GiB (issue 23).

#: Bytes per sample of a mini-batch run (measured 53 at m = 20: the batch's x
#: and y, and the per-sample scratch of the kernel's batched step).
BATCH_BYTES = 56
#: Bytes per neuron of a run's working set beyond its snapshots: SGD's kernel
#: state (a, u, σ, σ′, the prefix sums) and the ODE integrators' stages
#: (Dormand–Prince: 7 stages of 2m + 1 doubles, plus the error estimate and the
#: projected network). Measured with 2 snapshots at m·η = 4: 276 for SGD and 421
#: for the rk45 flow, of which the snapshots (snapshot_bytes) are 64. Counted for
#: every run, so that m = 10⁸ (≥ 22 GB for SGD) is refused where it cannot fit;
#: before, only the snapshots were (6.4 GB).
SGD_NEURON_BYTES = 240
ODE_NEURON_BYTES = 400
#: Bytes per point and dimension of full-batch GD (measured 54.5: the batch's
#: float64 copies, the per-dimension sorted copies and row indices, residuals).
GD_POINT_BYTES = 56
#: Dense (n × n) matrices held at once by the full Rosenbrock methods: the
#: Jacobian, the iteration matrix and its LU factor (measured 100 bytes per
#: neuron² for the flow, whose n = 2m + 1: 3.1 matrices). Every a*(u) is banded
#: (docs/maths/local_basis.md), so no other path holds an m × m matrix.
ROSENBROCK_MATRICES = 4


def dense(what: str, n: int, matrices: int) -> None:
    """Refuse a dense solve of ``matrices`` n × n doubles that cannot fit (before
    the core allocates them: a relu limit at m = 30 000 was a bare MemoryError)."""
    memory(f"{what} (dense {n} × {n} matrices)", matrices * 8 * n * n, fewer="neurons")


def snapshot_bytes(snapshots: int, per_snapshot: int) -> int:
    """Peak bytes of K snapshots of ``per_snapshot`` doubles each: the core's
    arrays plus the NumPy copies handed to Python."""
    return 2 * 8 * snapshots * per_snapshot
