"""Online and mini-batch SGD in the two-timescale regime, run by the C++ core
(see docs/maths/dynamics.md)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _guard as guard
from . import _validate as check
from ._ensemble import check_on_error, collect, networks
from ._kind import Kind, Outs, Pairs, Report, Threads, register, setting
from ._progress import reporter
from ._sweep import records as rec
from ._sweep.spec import PAPER_TARGET, make_noise, make_target, target_breaks
from ._trajectory import Trajectory
from .network import Network
from .noise import Noise, UniformNoise, noise_spec
from .target import Target, check_target, core_target

#: The paper's label noise, ξ ~ U[−1, 1].
PAPER_NOISE = UniformNoise(1.0)


@dataclass(frozen=True, eq=False, repr=False)
class SGDResult(Trajectory):
    """Snapshots of an SGD run.

    ``steps[k]`` steps had been taken at snapshot k; ``a[k]``, ``u[k]`` are the
    parameters then (neurons keep their input order even when they cross) and
    ``l2[k]`` the exact population loss (``None`` when replaying data without a
    target). ``t = steps · h`` is the flow time, ``tau = eps · t`` the slow time;
    each step used ``batch`` samples.
    """

    time_fields: ClassVar[tuple[str, ...]] = ("steps", "t", "tau")
    series_fields: ClassVar[tuple[str, ...]] = ("l2",)

    steps: NDArray[np.int64]
    a: NDArray[np.float64]
    u: NDArray[np.float64]
    l2: NDArray[np.float64] | None
    h: float
    eps: float
    eta: float
    activation: str
    batch: int = 1

    @property
    def t(self) -> NDArray[np.float64]:
        return np.asarray(self.steps * self.h, dtype=np.float64)

    @property
    def tau(self) -> NDArray[np.float64]:
        return np.asarray(self.steps * (self.h * self.eps), dtype=np.float64)


def shuffle_order(n: int, draws: int, seed: int, stream: int = 0) -> NDArray[np.int64]:
    """The sample order of shuffled epochs: draw p of a run reads sample ``order[p]``.

    Epoch e (e = 0, 1, …) visits the n samples in the order of the e-th call of
    ``rng.permutation(n)`` on one ``rng = numpy.random.default_rng([seed, stream])``
    (stream 0 for ``sgd``, run i's index in an ensemble); the order is the
    concatenation of the epochs, cut after ``draws`` entries (see
    docs/maths/dynamics.md, "Finite datasets").
    """
    n = check.integer("n", n, minimum=0)
    draws = check.integer("draws", draws, minimum=0)
    rng = np.random.default_rng([check.seed("seed", seed), check.seed("stream", stream)])
    if draws and not n:
        raise ValueError(f"draws ({draws}) needs samples to draw from: n must be >= 1")
    # The epochs' permutations (n each) and the order cut from them.
    guard.memory(f"shuffle_order of {draws} draws", 16 * (draws + n), fewer="steps or epochs")
    epochs = -(-draws // n) if n else 0
    # Filled epoch by epoch (not one concatenate of the epochs' arrays, a single
    # C call of many seconds at 10⁷ epochs that Ctrl-C could not stop); the last
    # epoch is drawn whole, as before, so that the generator's state is the same.
    order = np.empty(draws, dtype=np.int64)
    for e in range(epochs):
        lo = e * n
        order[lo : min(lo + n, draws)] = rng.permutation(n)[: draws - lo]
    return order


def sample_stream(
    target: Target, draws: int, *, noise: Noise = PAPER_NOISE, seed: int = 0, stream: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The first ``draws`` samples (x, y) that ``sgd(..., target, noise=noise, seed=seed)``
    consumes (run ``stream`` of an ensemble), in order: a run of ``steps`` steps with
    ``batch=B`` consumes steps·B of them, and replaying them with ``data=`` reproduces it."""
    check_target(target)
    n = check.integer("draws", draws, minimum=0)
    guard.memory(f"sample_stream with {n} draws", 2 * 8 * n, fewer="draws")
    kind, scale = noise_spec(noise)
    x, y = _core.sample_stream(
        target=core_target(target),
        noise=kind,
        noise_scale=scale,
        seed=check.seed("seed", seed),
        stream=check.seed("stream", stream),
        draws=n,
    )
    return np.asarray(x), np.asarray(y)


def _run_threads(threads: Any) -> int:
    """The core's thread count for one run: ``threads`` checked, or for ``None`` OpenMP's
    count (0) unless the machine's cores are already busy (1-minute load average at or
    above the CPU count). Split steps synchronise their threads several times per step,
    and on a busy machine each synchronisation waits for a scheduler slice: measured up
    to 30× slower than one thread (bench/RESULTS.md, "Threads inside one SGD run"). The
    result has the same bits either way."""
    if threads is not None:
        return check.threads(threads)
    try:
        busy = os.getloadavg()[0] >= (os.cpu_count() or 1)
    except (AttributeError, OSError):  # no load average on this platform
        busy = False
    return 1 if busy else 0


def _check_data(name: str, data: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be a pair (x, y) of 1-D arrays")
    # Read-only in the core, so a float64 stream is not copied (it can be 10⁸ long).
    x_arr = check.vector(f"{name} x", data[0], copy=False)
    y_arr = check.data_vector(f"{name} y", data[1], copy=False)
    if x_arr.shape != y_arr.shape:
        raise ValueError(
            f"{name} x and y must have the same length, got {x_arr.shape[0]} and {y_arr.shape[0]}"
        )
    return x_arr, y_arr


def _replay_steps(steps: Any, n: int, batch: int, epochs: int, name: str = "steps") -> int:
    """The steps of a replayed run: given, or every full batch of ``epochs`` passes."""
    check.replay_draws(epochs, n)
    available = epochs * n
    if steps is None:
        return available // batch
    p = check_steps(name, steps)
    check_available(name, p, batch, epochs, n, "len(data)")
    return p


def _check_sampling_args(
    data_given: bool, noise: Noise, seed: Any, epochs: Any, shuffle: Any
) -> tuple[str, float, int, int, bool]:
    """(noise kind, noise scale, seed, epochs, shuffle) after the rules of a run's stream.

    Sampling: ``seed`` defaults to 0; ``epochs`` and ``shuffle`` need data.
    Replaying: any ``noise`` but the default has no effect (an error), and ``seed``
    only drives ``shuffle=True`` (an error otherwise): nothing given is ignored.
    """
    epochs_i = check.integer("epochs", epochs, minimum=1)
    shuffle_b = check.flag("shuffle", shuffle)
    if not data_given:
        if epochs_i != 1 or shuffle_b:
            raise ValueError("epochs and shuffle need data=(x, y): a sampled run has no epochs")
        kind, scale = noise_spec(noise)
        return kind, scale, check.seed("seed", 0 if seed is None else seed), 1, False
    if noise is not PAPER_NOISE:  # the default object itself: not passed
        raise ValueError(
            "noise has no effect with data=(x, y) (the labels y are used as given); drop it"
        )
    if seed is not None and not shuffle_b:
        raise ValueError("seed has no effect with data=(x, y) unless shuffle=True; drop it")
    return "none", 0.0, check.seed("seed", 0 if seed is None else seed), epochs_i, shuffle_b


def sgd(
    net: Network,
    target: Target | None = None,
    *,
    h: float,
    eps: float = 1.0,
    steps: int | None = None,
    noise: Noise = PAPER_NOISE,
    seed: int | None = None,
    snapshots: int = 2,
    data: tuple[ArrayLike, ArrayLike] | None = None,
    progress: bool | Callable[[int, int], None] = False,
    batch: int = 1,
    epochs: int = 1,
    shuffle: bool = False,
    threads: int | None = None,
) -> SGDResult:
    """Run ``steps`` steps of SGD from ``net`` (which is not modified).

    Step p draws x_p ~ U[0, 1) and y_p = f*(x_p) + ξ_p (``noise``, default the
    paper's U[−1, 1]; ``None``: no noise; ``seed`` default 0), sets
    r_p = 2(f(x_p) − y_p) and updates a_0 −= h r_p, a_j −= h r_p σ_η(x_p − u_j),
    u_j += eps h r_p a_j σ′_η(x_p − u_j),
    all from the pre-step values. ``target`` is a PiecewiseConstant or a teacher
    Network (its values plus noise are the labels).

    ``batch=B`` averages the B per-sample updates of each step, all at the
    pre-step parameters (h unchanged); step p consumes draws pB … pB + B − 1 of
    the stream, the same draws as B online steps, so ``batch=1`` is online SGD
    bit for bit and a sampled run replays exactly with ``data=`` of length steps·B.

    With ``data=(x, y)`` the run replays the given samples instead: draw q reads
    sample q (``steps`` defaults to every full batch of the data); ``epochs=E``
    passes E times over them, in order, or reshuffled per epoch with
    ``shuffle=True`` from ``seed`` (see :func:`shuffle_order`). ``target`` is then
    only used for the loss at the snapshots; ``noise`` (no effect) is an error, as
    is ``seed`` without ``shuffle``.

    Snapshot k (k = 0..K−1) is taken after round(k·steps/(K−1)) steps, so the
    first is the initial state and the last the final one. The GIL is released
    during the run; Ctrl-C stops it with ``KeyboardInterrupt``. A run whose
    parameters become non-finite raises ``ttnn.DivergenceError`` with the step.
    ``progress=True`` shows a tqdm bar in steps; a callable is called as
    ``progress(done, total)`` (see docs/guide/errors.md for these and the memory guard).

    ``threads`` caps the threads the run may use (default ``None``: OpenMP's count, or
    one while the machine's cores are already busy); mini-batch steps use them only when
    a step's work pays for it, and the result is the same bits for any ``threads`` (see
    docs/guide/threads.md).
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a ttnn.Network, got {type(net).__name__}")
    call = SGDCall.check(
        [net],
        target,
        single=True,
        h=h,
        eps=eps,
        steps=steps,
        noise=noise,
        seed=seed,
        snapshots=snapshots,
        threads=threads,
        batch=batch,
        data=None if data is None else [data],
        epochs=epochs,
        shuffle=shuffle,
        on_error="raise",
    )
    (out,) = call.run(progress)
    return out


def snapshot_steps(steps: int, snapshots: int) -> NDArray[np.int64]:
    """The steps at which ``sgd`` records: round(k·steps/(K−1)), k = 0..K−1."""
    p = check.integer("steps", steps, minimum=0)
    k = check.run_snapshots(snapshots, p)
    guard.memory(f"snapshot_steps with {k} snapshots", 2 * 8 * k)
    return np.asarray(_core.snapshot_steps(steps=p, snapshots=k), dtype=np.int64)


def _same(name: str, value: Any) -> Any:
    return value


@overload
def sgd_ensemble(
    nets: Sequence[Network],
    target: Target | None,
    *,
    h: float | Sequence[float],
    eps: float | Sequence[float] = ...,
    steps: int | Sequence[int] | None = ...,
    noise: Noise = ...,
    seed: int | Sequence[int] | None = ...,
    snapshots: int = ...,
    threads: int | None = ...,
    batch: int | Sequence[int] = ...,
    data: Sequence[tuple[ArrayLike, ArrayLike]] | None = ...,
    epochs: int = ...,
    shuffle: bool = ...,
    progress: bool | Callable[[int, int], None] = ...,
    on_error: Literal["raise"] = ...,
) -> list[SGDResult]: ...
@overload
def sgd_ensemble(
    nets: Sequence[Network],
    target: Target | None,
    *,
    h: float | Sequence[float],
    eps: float | Sequence[float] = ...,
    steps: int | Sequence[int] | None = ...,
    noise: Noise = ...,
    seed: int | Sequence[int] | None = ...,
    snapshots: int = ...,
    threads: int | None = ...,
    batch: int | Sequence[int] = ...,
    data: Sequence[tuple[ArrayLike, ArrayLike]] | None = ...,
    epochs: int = ...,
    shuffle: bool = ...,
    progress: bool | Callable[[int, int], None] = ...,
    on_error: str,
) -> list[SGDResult | BaseException]: ...
def sgd_ensemble(
    nets: Sequence[Network],
    target: Target | None,
    *,
    h: float | Sequence[float],
    eps: float | Sequence[float] = 1.0,
    steps: int | Sequence[int] | None = None,
    noise: Noise = PAPER_NOISE,
    seed: int | Sequence[int] | None = None,
    snapshots: int = 2,
    threads: int | None = None,
    batch: int | Sequence[int] = 1,
    data: Sequence[tuple[ArrayLike, ArrayLike]] | None = None,
    epochs: int = 1,
    shuffle: bool = False,
    progress: bool | Callable[[int, int], None] = False,
    on_error: str = "raise",
) -> list[SGDResult] | list[SGDResult | BaseException]:
    """Independent SGD runs in one call, in parallel over runs (OpenMP).

    ``h``, ``eps``, ``steps`` and ``batch`` are scalars or one value per network,
    so one call can sweep seeds × ε × h × m × B. With a scalar ``seed`` run i
    samples from its own stream (``seed``, i), and run 0 equals
    ``sgd(nets[0], target, ..., seed=seed)``; with one seed per network run i
    equals ``sgd(nets[i], target, ..., seed=seed[i])`` exactly. Either way the
    results are bit-identical whatever the number of threads (``threads=None``:
    OpenMP's default, e.g. ``OMP_NUM_THREADS``).

    ``data`` holds one ``(x, y)`` per network (finite datasets, as in :func:`sgd`,
    with ``epochs`` and ``shuffle``; run i shuffles with its stream, see
    :func:`shuffle_order`); ``target`` may then be ``None`` (no loss).

    Every run goes to its end even when others fail. ``on_error="raise"``
    (default) then raises the first failure in run order, its message starting
    with ``run i:``; ``on_error="record"`` returns that exception (a
    ``ttnn.DivergenceError`` with ``.step`` and ``.run``, or the ``ValueError``
    of rejected arguments, with ``.run``) in place of the failed run's result.
    ``progress`` as in :func:`sgd`, counting the steps of all runs; Ctrl-C
    stops every thread. See docs/guide/errors.md.
    """
    nets = networks(nets, Network)
    if not nets:
        raise ValueError("nets must hold at least one Network")
    for i, n in enumerate(nets):
        if not isinstance(n, Network):
            raise TypeError(f"nets[{i}] must be a ttnn.Network, got {type(n).__name__}")
    return SGDCall.check(
        nets,
        target,
        single=False,
        h=h,
        eps=eps,
        steps=steps,
        noise=noise,
        seed=seed,
        snapshots=snapshots,
        threads=threads,
        batch=batch,
        data=data,
        epochs=epochs,
        shuffle=shuffle,
        on_error=on_error,
    ).run(progress)


# -- the values of one run, each checked by one function -------------------------
#
# Each check below is stated once and used by both ways into an SGD call: the
# public functions' arguments (SGDCall.check, naming h, h[i] ...) and a sweep's
# settings (SGDRun.validate, before anything runs).


def check_h(name: str, value: Any) -> float:
    return check.real(name, value, positive=True)


def check_eps(name: str, value: Any) -> float:
    return check.real(name, value, nonneg=True)


def check_steps(name: str, value: Any) -> int:
    return check.integer(name, value, minimum=0)


def check_available(name: str, steps: int, batch: int, epochs: int, n: int, n_name: str) -> None:
    """A finite dataset of n samples passed over ``epochs`` times holds epochs × n
    draws: ``steps`` steps of ``batch`` must not need more (``n_name``: how the
    caller calls n)."""
    if steps * batch > epochs * n:
        raise ValueError(
            f"{name} ({steps}) × batch ({batch}) exceeds the {epochs * n} draws of "
            f"epochs ({epochs}) × {n_name} ({n})"
        )


@dataclass(frozen=True, eq=False)
class SGDCall:
    """One validated SGD ensemble call: the description :func:`sgd`, :func:`sgd_ensemble`
    and the ``"sgd"`` sweep kind all run through :meth:`run`.

    Per run: its network, h, ε, steps, batch, seed and stream, and when replaying its
    samples x, y and sample order; shared by the runs: the target, the noise, the
    snapshots and the epochs. :meth:`check` builds it from the public functions'
    arguments, checking and normalising every one of them (naming it); a sweep builds
    it from settings that :meth:`SGDRun.validate` has already checked with the same
    functions, so no value is checked twice. ``single``: the one-run case of
    :func:`sgd` (its core entry may use threads inside the run).
    """

    nets: tuple[Network, ...]
    target: Target | None
    h: list[float]
    eps: list[float]
    steps: list[int]
    batch: list[int]
    seeds: list[int]
    streams: list[int]
    snapshots: int
    threads: int
    on_error: str = "raise"
    noise: str = "none"
    noise_scale: float = 0.0
    x: list[Any] = field(default_factory=list)
    y: list[Any] = field(default_factory=list)
    order: list[Any] = field(default_factory=list)
    epochs: int = 1
    single: bool = False

    @classmethod
    def check(
        cls,
        nets: list[Network],
        target: Target | None,
        *,
        single: bool,
        h: Any,
        eps: Any,
        steps: Any,
        noise: Noise,
        seed: Any,
        snapshots: Any,
        threads: Any,
        batch: Any,
        data: Any,
        epochs: Any,
        shuffle: Any,
        on_error: Any,
    ) -> SGDCall:
        """The call :func:`sgd` (``single``: its arguments scalars named as such) or
        :func:`sgd_ensemble` asks for: every argument checked once, naming it."""
        runs = len(nets)

        def per_run(name: str, value: Any, conv: Callable[[str, Any], Any]) -> list[Any]:
            return [conv(name, value)] if single else check.per_run(name, value, runs, conv)

        def at(name: str, i: int) -> str:
            return name if single else f"{name}[{i}]"

        given = "data=(x, y)" if single else "data"
        if target is None:
            if data is None and not single:
                raise ValueError(f"target is required unless {given} is given")
        else:
            check_target(target)
        hs = per_run("h", h, check_h)
        epss = per_run("eps", eps, check_eps)
        bs = per_run("batch", batch, check.batch)
        nthreads = _run_threads(threads) if single else None
        seeds: list[int] | None = None
        if not single and isinstance(seed, (list, tuple, np.ndarray)):
            seeds = check.per_run("seed", seed, runs, check.seed)
        kind, scale, seed_i, epochs_i, shuffle_b = _check_sampling_args(
            data is not None, noise, seed if seeds is None else seeds[0], epochs, shuffle
        )
        if seeds is None:
            seeds, streams = [seed_i] * runs, list(range(runs))
        else:
            streams = [0] * runs  # stream 0: exactly the stream of sgd(..., seed=seed[i])
        xs: list[Any] = []
        ys: list[Any] = []
        orders: list[Any] = []
        if data is None:
            if single and target is None:
                raise ValueError(f"target is required unless {given} is given")
            if steps is None:
                raise TypeError(f"steps is required unless {given} is given")
            ps = per_run("steps", steps, check_steps)
            for i in range(runs):
                check.draws(at("steps", i), ps[i], bs[i])
        else:
            if not isinstance(data, (list, tuple)) or len(data) != runs:
                raise ValueError(f"data must hold one (x, y) pair per network ({runs})")
            pairs = [_check_data(at("data", i), d) for i, d in enumerate(data)]
            want = (
                [steps]
                if single
                else ([None] * runs if steps is None else per_run("steps", steps, _same))
            )
            ps = [
                _replay_steps(want[i], pairs[i][0].shape[0], bs[i], epochs_i, at("steps", i))
                for i in range(runs)
            ]
            xs = [x for x, _ in pairs]
            ys = [y for _, y in pairs]
            orders = [
                shuffle_order(xs[i].shape[0], ps[i] * bs[i], seeds[i], streams[i])
                if shuffle_b
                else None
                for i in range(runs)
            ]
        k = (
            check.run_snapshots(snapshots, ps[0])
            if single
            else check.run_snapshots(snapshots, min(ps), "min(steps)")
        )
        mode = check_on_error(on_error)
        if nthreads is None:
            nthreads = check.threads(threads, runs=runs)
        return cls(
            nets=tuple(nets),
            target=target,
            h=hs,
            eps=epss,
            steps=ps,
            batch=bs,
            seeds=seeds,
            streams=streams,
            snapshots=k,
            threads=nthreads,
            on_error=mode,
            noise=kind,
            noise_scale=scale,
            x=xs,
            y=ys,
            order=orders,
            epochs=epochs_i,
            single=single,
        )

    def run(self, progress: Any = False) -> list[Any]:
        """The one core call: per run its :class:`SGDResult`, a failed run's exception
        raised or recorded (``on_error``). The memory of every run's snapshots is
        checked first, for the whole call."""
        nets = self.nets
        what = "sgd" if self.single else "sgd_ensemble"
        guard.memory(
            f"{what} with {self.snapshots} snapshots",
            sum(
                guard.snapshot_bytes(self.snapshots, 2 * n.m + 3) + guard.SGD_NEURON_BYTES * n.m
                for n in nets
            ),
        )
        target = None if self.target is None else core_target(self.target)
        with reporter(progress, what, "step") as report:
            if self.single:
                # One run: the core's single-run entry, whose mini-batch steps may use
                # threads inside the run (an ensemble gives each run one thread).
                outs: list[Any] = [
                    _core.sgd(
                        net=nets[0]._c,
                        target=target,
                        h=self.h[0],
                        eps=self.eps[0],
                        steps=self.steps[0],
                        snapshots=self.snapshots,
                        noise=self.noise,
                        noise_scale=self.noise_scale,
                        seed=self.seeds[0],
                        x=self.x[0] if self.x else None,
                        y=self.y[0] if self.y else None,
                        batch=self.batch[0],
                        epochs=self.epochs,
                        order=self.order[0] if self.order else None,
                        progress=report,
                        threads=self.threads,
                    )
                ]
            else:
                outs = _core.sgd_ensemble(
                    nets=[n._c for n in nets],
                    target=target,
                    h=self.h,
                    eps=self.eps,
                    steps=self.steps,
                    snapshots=self.snapshots,
                    noise=self.noise,
                    noise_scale=self.noise_scale,
                    seeds=self.seeds,
                    streams=self.streams,
                    threads=self.threads,
                    batch=self.batch,
                    x=self.x,
                    y=self.y,
                    epochs=[self.epochs] * len(nets) if self.x else [],
                    order=self.order,
                    progress=report,
                )
        return collect(
            outs,
            self.on_error,
            lambda i, o: SGDResult(
                steps=o.steps,
                a=o.a,
                u=o.u,
                l2=o.l2,
                h=self.h[i],
                eps=self.eps[i],
                eta=nets[i].eta,
                activation=nets[i].activation,
                batch=self.batch[i],
            ),
        )


# -- the "sgd" kind of a sweep ----------------------------------------------------


@register
@dataclass(frozen=True, kw_only=True)
class SGDRun(Kind):
    """One SGD run of a sweep (:func:`ttnn.sweep` ``"sgd"``): ``Network.init(m, eta,
    activation)`` from the run's init_seed, :func:`sgd_ensemble` from its seed; with
    ``n`` a finite dataset of n samples drawn as the run's sampled stream would
    (``sample_stream(target, n, noise, seed)``), passed over ``epochs`` times,
    reshuffled from the run's seed with ``shuffle``. ``tau`` sets the length in slow
    time: steps = round(tau / (eps h)). Validated when built, naming the setting."""

    name: ClassVar[str] = "sgd"
    unit: ClassVar[str] = "step"
    time_axis: ClassVar[str] = "step"
    integer_time: ClassVar[bool] = True
    sweep_unit: ClassVar[str] = "step"
    cost_in_neuron_steps: ClassVar[bool] = True
    slow_time: ClassVar[str] = "tau"

    m: int = setting(20, type="int")
    eta: float = setting(4e-3, type="real")
    activation: str = setting("cubic", type="str")
    snapshots: int = setting(2, type="int", per_call=True)
    target: dict[str, Any] = setting(PAPER_TARGET, type="target", fixed_only=True)
    h: float = setting(type="real")
    eps: float = setting(1.0, type="real")
    steps: int | None = setting(None, type="int", length=True)
    tau: float | None = setting(None, type="real", length=True)
    noise: dict[str, Any] = setting({"kind": "uniform", "scale": 1.0}, type="noise", per_call=True)
    batch: int = setting(1, type="int", optional=True)
    #: None: online sampling; n: a finite dataset of n samples per run.
    n: int | None = setting(None, type="int", optional=True)
    #: None: not given (1); epochs and shuffle need n.
    epochs: int | None = setting(None, type="int", optional=True, per_call=True)
    shuffle: bool | None = setting(None, type="bool", optional=True, per_call=True)

    def validate(self) -> None:
        # The checks shared by one ensemble call first, then the run's own: the
        # first failing one names its setting (the order of the messages is kept).
        s = self.settings()
        self.shared_checks(s)
        m = rec.check_network(s)
        batch = check.batch("batch", self.batch)
        h = check_h("h", self.h)
        eps = check_eps("eps", self.eps)
        if self.steps is not None:
            steps = check_steps("steps", self.steps)
            rec.bound_work("steps", steps, float(steps) * batch * m, "neuron-steps")
        else:
            raw = rec.slow_length(s, "steps", eps * h)
            rec.bound_work(
                "tau", self.tau, raw * batch * m, f"neuron-steps (tau / (eps h) = {raw:.3g})"
            )
            steps = int(round(raw))
        k = check.run_snapshots(self.snapshots, steps)
        guard.memory(f"{k} snapshots at m = {m}", guard.snapshot_bytes(k, 2 * m + 2))
        check.draws("steps", steps, batch)
        if self.n is not None:
            n = check.integer("n", self.n, minimum=1)
            epochs = 1 if self.epochs is None else self.epochs
            guard.memory(f"n = {n} samples", 48 * n, fewer="samples")
            check_available("steps", steps, batch, epochs, n, "n")
        self._set("run_steps", steps)
        self._set("run_h", h)
        self._set("run_eps", eps)
        self._set("run_batch", batch)

    # The run's values as validate() normalised them (what its SGDCall is built from).
    run_steps: int = field(init=False, default=0, repr=False, compare=False)
    run_h: float = field(init=False, default=0.0, repr=False, compare=False)
    run_eps: float = field(init=False, default=0.0, repr=False, compare=False)
    run_batch: int = field(init=False, default=1, repr=False, compare=False)

    @property
    def length(self) -> int:
        return self.run_steps

    @property
    def sweep_cost(self) -> float:
        return float(self.run_steps) * self.batch * (self.m + 4)

    @staticmethod
    def shared_checks(s: Mapping[str, Any]) -> None:
        check.integer("snapshots", s["snapshots"])
        make_target(s["target"])
        check.integer("epochs", 1 if s.get("epochs") is None else s["epochs"], minimum=1)
        check.flag("shuffle", False if s.get("shuffle") is None else s["shuffle"])
        if s.get("n") is None and (s.get("epochs") is not None or s.get("shuffle") is not None):
            raise ValueError("epochs and shuffle need n (a finite dataset of n samples per run)")

    @classmethod
    def sweep_context(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        s = {**cls.sweep_optional(), **settings}
        cls.shared_checks(s)
        return dict(
            target=make_target(s["target"]),
            breaks=target_breaks(s["target"]),
            k=check.integer("snapshots", s["snapshots"]),
            noise=make_noise(s["noise"]),
            finite=s["n"] is not None,
            epochs=check.integer("epochs", 1 if s["epochs"] is None else s["epochs"], minimum=1),
            shuffle=check.flag("shuffle", bool(s["shuffle"])),
        )

    def sweep_build(self, init_seed: int, seed: int, context: Any) -> dict[str, Any]:
        net = rec.init_net(self.settings(), init_seed)
        built: dict[str, Any] = dict(net=net, seed=seed)
        if context["finite"]:
            built["data"] = sample_stream(
                context["target"], int(self.n or 0), noise=context["noise"], seed=seed
            )
        return built

    @classmethod
    def sweep_call(cls, runs: Pairs, context: Any, threads: Threads, progress: Report) -> Outs:
        # Every value was checked by validate() (with the functions SGDCall.check
        # uses) and the per-call ones by sweep_context: the call is built as is.
        built = [b for _, b in runs]
        n = len(built)
        finite, shuffle = context["finite"], context["shuffle"]
        steps = [r.run_steps for r, _ in runs]
        batch = [r.run_batch for r, _ in runs]
        seeds = [b["seed"] for b in built]
        x = [b["data"][0] for b in built] if finite else []
        # A shuffled replay and a sampled run use the run's seed on stream 0, an
        # unshuffled replay no seed (seed 0, stream i, as sgd_ensemble(seed=None)).
        own_seed = shuffle or not finite
        kind, scale = ("none", 0.0) if finite else noise_spec(context["noise"])
        call = SGDCall(
            nets=tuple(b["net"] for b in built),
            target=context["target"],
            h=[r.run_h for r, _ in runs],
            eps=[r.run_eps for r, _ in runs],
            steps=steps,
            batch=batch,
            seeds=seeds if own_seed else [0] * n,
            streams=[0] * n if own_seed else list(range(n)),
            snapshots=context["k"],
            threads=0 if threads is None else min(threads, max(n, 1)),
            on_error="record",
            noise=kind,
            noise_scale=scale,
            x=x,
            y=[b["data"][1] for b in built] if finite else [],
            order=[
                shuffle_order(len(x[i]), steps[i] * batch[i], seeds[i]) if shuffle else None
                for i in range(n)
            ]
            if finite
            else [],
            epochs=context["epochs"] if finite else 1,
        )
        return call.run(progress or False)

    @classmethod
    def sweep_record(cls, run: Any, built: Any, out: Any, context: Any) -> dict[str, Any]:
        return rec.trajectory(
            out.u, out.a, np.asarray(out.l2), out.steps, context["breaks"], 2 * built["net"].eta
        )

    def sweep_always(self) -> dict[str, Any]:
        return {"steps": self.run_steps}  # kept even if the run fails

    @classmethod
    def sweep_slow_scale(cls, settings: Mapping[str, Any]) -> float:
        return float(settings["eps"] * settings["h"])

    @classmethod
    def sweep_breaks(cls, settings: Mapping[str, Any]) -> NDArray[np.float64]:
        return target_breaks(settings["target"])

    @classmethod
    def sweep_extra(cls, grid: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
        # The steps of each run, unless swept (then the coordinate itself).
        return [] if "steps" in grid else [("steps", -1, np.int64)]
