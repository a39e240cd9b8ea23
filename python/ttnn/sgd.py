"""Online SGD in the two-timescale regime (DESIGN.md §2), run by the C++ core."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _validate as check
from ._ensemble import check_on_error, collect
from ._progress import reporter
from ._trajectory import Trajectory
from .network import Network
from .noise import Noise, UniformNoise, noise_spec
from .target import PiecewiseConstant

#: The paper's label noise, ξ ~ U[−1, 1].
PAPER_NOISE = UniformNoise(1.0)


@dataclass(frozen=True)
class SGDResult(Trajectory):
    """Snapshots of an SGD run.

    ``steps[k]`` steps had been taken at snapshot k; ``a[k]``, ``u[k]`` are the
    parameters then (neurons keep their input order even when they cross) and
    ``l2[k]`` the exact population loss (``None`` when replaying data without a
    target). ``t = steps · h`` is the flow time, ``tau = eps · t`` the slow time.
    """

    steps: NDArray[np.int64]
    a: NDArray[np.float64]
    u: NDArray[np.float64]
    l2: NDArray[np.float64] | None
    h: float
    eps: float
    eta: float
    activation: str

    @property
    def t(self) -> NDArray[np.float64]:
        return self.steps * self.h

    @property
    def tau(self) -> NDArray[np.float64]:
        return self.steps * (self.h * self.eps)


def sgd(
    net: Network,
    target: PiecewiseConstant | None = None,
    *,
    h: float,
    eps: float = 1.0,
    steps: int | None = None,
    noise: Noise = PAPER_NOISE,
    seed: int = 0,
    snapshots: int = 2,
    data: tuple[ArrayLike, ArrayLike] | None = None,
    progress: bool | Callable[[int, int], None] = False,
) -> SGDResult:
    """Run ``steps`` steps of online SGD from ``net`` (which is not modified).

    Step p draws x_p ~ U[0, 1) and y_p = f*(x_p) + ξ_p, sets
    r_p = 2(f(x_p) − y_p) and updates a_0 −= h r_p, a_j −= h r_p σ_η(x_p − u_j),
    u_j += eps h r_p a_j σ′_η(x_p − u_j), all from the pre-step values.

    With ``data=(x, y)`` the run replays the given stream instead (step p uses
    ``x[p], y[p]``; ``steps`` defaults to ``len(x)``); ``target`` is then only
    used for the loss at the snapshots. Snapshot k (k = 0..K−1) is taken after
    round(k·steps/(K−1)) steps, so the first is the initial state and the last
    the final one. The GIL is released during the run; Ctrl-C stops it with
    ``KeyboardInterrupt``. A run whose parameters become non-finite raises
    ``ttnn.DivergenceError`` with the step. ``progress=True`` shows a tqdm bar
    in steps; a callable is called as ``progress(done, total)`` (see
    docs/guide/errors.md for these and the memory guard).
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a ttnn.Network, got {type(net).__name__}")
    if target is not None and not isinstance(target, PiecewiseConstant):
        raise TypeError(f"target must be a ttnn.PiecewiseConstant, got {type(target).__name__}")
    h_f = check.real("h", h, positive=True)
    eps_f = check.real("eps", eps, nonneg=True)
    kind, scale = noise_spec(noise)
    seed_i = check.seed("seed", seed)

    x_arr = y_arr = None
    if data is not None:
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise TypeError("data must be a pair (x, y) of 1-D arrays")
        # Read-only in the core, so a float64 stream is not copied (it can be 10⁸ long).
        x_arr = check.vector("data x", data[0], copy=False)
        y_arr = check.data_values("data y", check.vector("data y", data[1], copy=False))
        if x_arr.shape != y_arr.shape:
            raise ValueError(
                f"data x and y must have the same length, got {x_arr.shape[0]} and {y_arr.shape[0]}"
            )
        n = x_arr.shape[0]
        p = n if steps is None else check.integer("steps", steps, minimum=0)
        if p > n:
            raise ValueError(f"steps ({p}) exceeds the length of the data ({n})")
    else:
        if target is None:
            raise ValueError("target is required unless data=(x, y) is given")
        if steps is None:
            raise TypeError("steps is required unless data=(x, y) is given")
        p = check.integer("steps", steps, minimum=0)
    k = check.integer("snapshots", snapshots)
    if k < 2 or k > p + 1:
        raise ValueError(f"snapshots must be in [2, steps + 1] = [2, {p + 1}], got {k}")
    check.memory(f"sgd with {k} snapshots", check.snapshot_bytes(k, 2 * net.m + 3))

    with reporter(progress, "sgd", "step") as report:
        out = _core.sgd(
            net._c,
            None if target is None else target._c,
            h_f,
            eps_f,
            p,
            k,
            kind,
            scale,
            seed_i,
            x_arr,
            y_arr,
            report,
        )
    l2 = out["l2"]
    return SGDResult(
        steps=np.asarray(out["steps"]),
        a=np.asarray(out["a"]),
        u=np.asarray(out["u"]),
        l2=None if l2 is None else np.asarray(l2),
        h=h_f,
        eps=eps_f,
        eta=net.eta,
        activation=net.activation,
    )


def snapshot_steps(steps: int, snapshots: int) -> NDArray[np.int64]:
    """The steps at which ``sgd`` records: round(k·steps/(K−1)), k = 0..K−1."""
    p = check.integer("steps", steps, minimum=0)
    k = check.integer("snapshots", snapshots)
    if k < 2 or k > p + 1:
        raise ValueError(f"snapshots must be in [2, steps + 1] = [2, {p + 1}], got {k}")
    check.memory(f"snapshot_steps with {k} snapshots", 2 * 8 * k)
    return np.asarray(_core.snapshot_steps(p, k), dtype=np.int64)


@overload
def sgd_ensemble(
    nets: Sequence[Network],
    target: PiecewiseConstant,
    *,
    h: float | Sequence[float],
    eps: float | Sequence[float] = ...,
    steps: int | Sequence[int],
    noise: Noise = ...,
    seed: int | Sequence[int] = ...,
    snapshots: int = ...,
    threads: int | None = ...,
    progress: bool | Callable[[int, int], None] = ...,
    on_error: Literal["raise"] = ...,
) -> list[SGDResult]: ...
@overload
def sgd_ensemble(
    nets: Sequence[Network],
    target: PiecewiseConstant,
    *,
    h: float | Sequence[float],
    eps: float | Sequence[float] = ...,
    steps: int | Sequence[int],
    noise: Noise = ...,
    seed: int | Sequence[int] = ...,
    snapshots: int = ...,
    threads: int | None = ...,
    progress: bool | Callable[[int, int], None] = ...,
    on_error: str,
) -> list[SGDResult | BaseException]: ...
def sgd_ensemble(
    nets: Sequence[Network],
    target: PiecewiseConstant,
    *,
    h: float | Sequence[float],
    eps: float | Sequence[float] = 1.0,
    steps: int | Sequence[int],
    noise: Noise = PAPER_NOISE,
    seed: int | Sequence[int] = 0,
    snapshots: int = 2,
    threads: int | None = None,
    on_error: str = "raise",
    progress: bool | Callable[[int, int], None] = False,
) -> list[SGDResult] | list[SGDResult | BaseException]:
    """Independent SGD runs in one call, in parallel over runs (OpenMP).

    ``h``, ``eps`` and ``steps`` are scalars or one value per network, so one
    call can sweep seeds × ε × h × m. With a scalar ``seed`` run i samples from
    its own stream (``seed``, i), and run 0 equals
    ``sgd(nets[0], target, ..., seed=seed)``; with one seed per network run i
    equals ``sgd(nets[i], target, ..., seed=seed[i])`` exactly. Either way the
    results are bit-identical whatever the number of threads (``threads=None``:
    OpenMP's default, e.g. ``OMP_NUM_THREADS``).

    Every run goes to its end even when others fail. ``on_error="raise"``
    (default) then raises the first failure in run order, its message starting
    with ``run i:``; ``on_error="record"`` returns that exception (a
    ``ttnn.DivergenceError`` with ``.step`` and ``.run``, or the ``ValueError``
    of rejected arguments, with ``.run``) in place of the failed run's result.
    ``progress`` as in :func:`sgd`, counting the steps of all runs; Ctrl-C
    stops every thread. See docs/guide/errors.md.
    """
    nets = list(nets)
    if not nets:
        raise ValueError("nets must hold at least one Network")
    for i, n in enumerate(nets):
        if not isinstance(n, Network):
            raise TypeError(f"nets[{i}] must be a ttnn.Network, got {type(n).__name__}")
    if not isinstance(target, PiecewiseConstant):
        raise TypeError(f"target must be a ttnn.PiecewiseConstant, got {type(target).__name__}")

    hs = check.per_run("h", h, len(nets), lambda n, v: check.real(n, v, positive=True))
    epss = check.per_run("eps", eps, len(nets), lambda n, v: check.real(n, v, nonneg=True))
    ps = check.per_run("steps", steps, len(nets), lambda n, v: check.integer(n, v, minimum=0))
    k = check.integer("snapshots", snapshots)
    if k < 2 or k > min(ps) + 1:
        raise ValueError(f"snapshots must be in [2, min(steps) + 1] = [2, {min(ps) + 1}], got {k}")
    kind, scale = noise_spec(noise)
    if isinstance(seed, (list, tuple, np.ndarray)):
        seeds = check.per_run("seed", seed, len(nets), check.seed)
        streams = [0] * len(nets)  # stream 0: exactly the stream of sgd(..., seed=seed[i])
    else:
        seeds = [check.seed("seed", seed)] * len(nets)
        streams = list(range(len(nets)))
    mode = check_on_error(on_error)
    nthreads = check.threads(threads)
    check.memory(
        f"sgd_ensemble with {k} snapshots",
        sum(check.snapshot_bytes(k, 2 * n.m + 3) for n in nets),
    )
    with reporter(progress, "sgd_ensemble", "step") as report:
        outs = _core.sgd_ensemble(
            [n._c for n in nets],
            target._c,
            hs,
            epss,
            ps,
            k,
            kind,
            scale,
            seeds,
            streams,
            nthreads,
            report,
        )
    return collect(
        outs,
        mode,
        lambda i, o: SGDResult(
            steps=np.asarray(o["steps"]),
            a=np.asarray(o["a"]),
            u=np.asarray(o["u"]),
            l2=np.asarray(o["l2"]),
            h=hs[i],
            eps=epss[i],
            eta=nets[i].eta,
            activation=nets[i].activation,
        ),
    )
