"""The additive multi-D network of the paper's E4/E5 experiments (docs/maths/additive.md) and its
full-batch gradient descent, run by the C++ core.

    f(x) = [a_0] + Σ_{k=1..d} Σ_{j=1..m} a_jk σ_η(x_k − u_jk),
    C(a, u) = ‖f(X) − y‖₂ / n    (loss="norm", the default: the Euclidean norm, not
                                  squared, as in the authors' notebooks), or
    C(a, u) = ‖f(X) − y‖₂² / n   (loss="mse", the mean squared error most papers use;
                                  see docs/maths/additive.md#full-batch-criterion),
    a ← a − step_a ∇_a C,  u ← u − step_u ∇_u C   (simultaneously).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, cast, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _guard as guard
from . import _validate as check
from ._ensemble import check_on_error, collect, networks
from ._kind import Kind, Outs, Pairs, Report, Threads, register, setting
from ._progress import reporter
from ._result import Result
from ._sweep import records as rec
from .activation import check_activation
from .diagnostics import breaks_covered, neurons_outside


class AdditiveNetwork:
    """An immutable additive network on R^d with m neurons per dimension.

    ``a`` and ``u`` have shape (m, d): ``a[j, k]`` and ``u[j, k]`` are the outer weight
    and position of neuron j of dimension k; ``bias`` is a_0, or ``None`` for no bias
    (the paper's E4/E5 networks have none).
    """

    def __init__(
        self,
        a: ArrayLike,
        u: ArrayLike,
        eta: float,
        activation: str = "cubic",
        bias: float | None = None,
    ) -> None:
        a_arr = check.matrix("a", a)
        u_arr = check.matrix("u", u)
        if a_arr.shape != u_arr.shape:
            raise ValueError(
                f"a and u must have the same shape (m, d), got {a_arr.shape} and {u_arr.shape}"
            )
        eta_f = check.real("eta", eta, positive=True)
        act = check_activation(activation)
        bias_f = None if bias is None else check.real("bias", bias)
        a_arr.flags.writeable = False
        u_arr.flags.writeable = False
        self._a, self._u, self._eta, self._activation, self._bias = (
            a_arr,
            u_arr,
            eta_f,
            act,
            bias_f,
        )
        self._c = _core.AdditiveNetwork(a=a_arr, u=u_arr, eta=eta_f, activation=act, bias=bias_f)

    @classmethod
    def init_paper(
        cls, d: int, m: int = 10, eta: float = 1e-2, seed: int = 0, activation: str = "cubic"
    ) -> AdditiveNetwork:
        """The paper's E4 initialisation: u ~ U[0, 1), a ~ 3·U[0, 1), no bias.

        Drawn from ``numpy.random.default_rng(seed)``: first u (m, d), then a (m, d).
        """
        d_i = check.integer("d", d, minimum=1)
        m_i = check.integer("m", m, minimum=1)
        guard.memory(f"AdditiveNetwork.init_paper with m·d = {m_i * d_i}", 64 * m_i * d_i)
        rng = np.random.default_rng(check.seed("seed", seed))
        u = rng.random((m_i, d_i))
        a = 3.0 * rng.random((m_i, d_i))
        return cls(a, u, eta, activation)

    @property
    def a(self) -> NDArray[np.float64]:
        return self._a

    @property
    def u(self) -> NDArray[np.float64]:
        return self._u

    @property
    def bias(self) -> float | None:
        return self._bias

    @property
    def eta(self) -> float:
        return self._eta

    @property
    def activation(self) -> str:
        return self._activation

    @property
    def m(self) -> int:
        return int(self._a.shape[0])

    @property
    def d(self) -> int:
        return int(self._a.shape[1])

    def __call__(self, X: ArrayLike) -> NDArray[np.float64]:
        """f at the rows of X, shape (n, d) → (n,)."""
        X_arr = check.matrix("X", X, shape=(None, self.d))
        return np.asarray(self._c(X_arr))

    def criterion(self, X: ArrayLike, y: ArrayLike, loss: str = "norm") -> float:
        """C = ‖f(X) − y‖₂ / n (``loss="norm"``) or ‖f(X) − y‖₂² / n (``"mse"``)."""
        X_arr, y_arr = _data(self, X, y)
        return float(self._c.criterion_gradient(X=X_arr, y=y_arr, loss=check_loss(loss))[0])

    def criterion_gradient(
        self, X: ArrayLike, y: ArrayLike, loss: str = "norm"
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float | None]:
        """(∇_a C, ∇_u C, ∂C/∂a_0) with the first two of shape (m, d); the last is
        ``None`` without a bias. For the norm the gradient is 0 where f(X) = y exactly."""
        X_arr, y_arr = _data(self, X, y)
        _, ga, gu, gb = self._c.criterion_gradient(X=X_arr, y=y_arr, loss=check_loss(loss))
        return np.asarray(ga), np.asarray(gu), None if self._bias is None else float(gb)

    def __repr__(self) -> str:
        return (
            f"AdditiveNetwork(m={self.m}, d={self.d}, eta={self._eta}, "
            f"activation={self._activation!r}, bias={self._bias!r})"
        )

    def __eq__(self, other: object) -> bool:
        """Same parameters (exactly), bias, η and activation."""
        if not isinstance(other, AdditiveNetwork):
            return NotImplemented
        return (
            self._eta == other._eta
            and self._activation == other._activation
            and self._bias == other._bias
            and np.array_equal(self._a, other._a)
            and np.array_equal(self._u, other._u)
        )

    def __hash__(self) -> int:
        # Coarse but consistent with __eq__ (0.0 == -0.0, so no hashing of bytes).
        return hash((AdditiveNetwork, self._a.shape, self._eta, self._activation))

    def __reduce__(self) -> tuple[type[AdditiveNetwork], tuple[object, ...]]:
        # The compiled twin (self._c) cannot be pickled: rebuild it from the parameters.
        return (AdditiveNetwork, (self._a, self._u, self._eta, self._activation, self._bias))


#: The full-batch criteria: the paper's norm (default) and the mean squared error.
LOSSES = ("norm", "mse")


def check_loss(loss: Any) -> str:
    return check.choice("loss", loss, LOSSES)


def _data(net: AdditiveNetwork, X: ArrayLike, y: ArrayLike, name: str = "X"):
    X_arr = check.matrix(name, X, shape=(None, net.d))
    y_name = "y" if name == "X" else name.replace("X", "y")
    y_arr = check.data_vector(y_name, y)
    if y_arr.shape[0] != X_arr.shape[0]:
        raise ValueError(
            f"{y_name} must have one entry per row of {name} ({X_arr.shape[0]}), "
            f"got {y_arr.shape[0]}"
        )
    return X_arr, y_arr


@dataclass(frozen=True, eq=False, repr=False)
class GDResult(Result):
    """Snapshots of a full-batch GD run of an :class:`AdditiveNetwork`.

    ``epochs[k]`` epochs had been done at snapshot k (k = 0..K−1, as in
    ``ttnn.snapshot_steps``); ``a[k]``, ``u[k]`` (shape (m, d)) and ``bias[k]`` are the
    parameters then (``bias`` is ``None`` without a bias) and ``criterion[k]`` is
    C (``loss``: ‖f(X) − y‖₂ / n for "norm", ‖f(X) − y‖₂² / n for "mse").
    """

    time_fields: ClassVar[tuple[str, ...]] = ("epochs",)
    series_fields: ClassVar[tuple[str, ...]] = ("criterion",)

    epochs: NDArray[np.int64]
    a: NDArray[np.float64]
    u: NDArray[np.float64]
    bias: NDArray[np.float64] | None
    criterion: NDArray[np.float64]
    step_a: float
    step_u: float
    eta: float
    activation: str
    loss: str = "norm"

    @property
    def final(self) -> AdditiveNetwork:
        return self.network(-1)

    def network(self, k: int) -> AdditiveNetwork:
        """The network at snapshot k."""
        b = None if self.bias is None else float(self.bias[k])
        return AdditiveNetwork(self.a[k], self.u[k], self.eta, self.activation, b)

    def _xarray_vars(self, legacy: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
        dims = ("snapshot", "neuron", "dim")
        coords: dict[str, Any] = self._time_coords(legacy)
        data: dict[str, Any] = {
            "a": (dims, self.a),
            "u": (dims, self.u),
            "criterion": ("snapshot", self.criterion),
        }
        if self.bias is not None:
            data["bias"] = ("snapshot", self.bias)
        return data, coords


def _result(
    out: _core.GdResult, net: AdditiveNetwork, step_a: float, step_u: float, loss: str
) -> GDResult:
    shape = (-1, net.m, net.d)
    return GDResult(
        epochs=out.epochs,
        a=out.a.reshape(shape),
        u=out.u.reshape(shape),
        bias=None if net.bias is None else out.bias,
        criterion=out.criterion,
        step_a=step_a,
        step_u=step_u,
        eta=net.eta,
        activation=net.activation,
        loss=loss,
    )


def full_batch_gd(
    net: AdditiveNetwork,
    X: ArrayLike,
    y: ArrayLike,
    *,
    step_a: float,
    step_u: float,
    epochs: int,
    snapshots: int = 2,
    progress: bool | Callable[[int, int], None] = False,
    loss: str = "norm",
) -> GDResult:
    """Full-batch gradient descent of C on the fixed batch (X, y): the paper's
    C = ‖f(X) − y‖₂ / n (``loss="norm"``, default) or the mean squared error
    C = ‖f(X) − y‖₂² / n (``loss="mse"``).

    Each epoch: a ← a − step_a ∇_a C (the bias too), u ← u − step_u ∇_u C, both from
    the pre-epoch values. The paper's standard regime is step_a = step_u = 1 (300
    epochs), its two-timescale regime step_a = 1, step_u = 0.01 (5000 epochs).
    Per epoch the cost is O(n·d + window terms) for cubic and ramp (points and
    neurons are swept in sorted order), O(n·d·m) for relu. The GIL is released;
    Ctrl-C raises ``KeyboardInterrupt``; non-finite values raise
    ``ttnn.DivergenceError`` with the epoch. ``progress=True`` shows a tqdm bar in
    epochs, a callable is called as ``progress(done, total)`` (docs/guide/errors.md).
    """
    if not isinstance(net, AdditiveNetwork):
        raise TypeError(f"net must be a ttnn.AdditiveNetwork, got {type(net).__name__}")
    call = GDCall.check(
        [net],
        [_data(net, X, y)],
        single=True,
        step_a=step_a,
        step_u=step_u,
        epochs=epochs,
        snapshots=snapshots,
        threads=None,
        loss=loss,
        on_error="raise",
    )
    (out,) = call.run(progress)
    return out


@overload
def full_batch_gd_ensemble(
    nets: Sequence[AdditiveNetwork],
    X: ArrayLike | Sequence[ArrayLike],
    y: ArrayLike | Sequence[ArrayLike],
    *,
    step_a: float | Sequence[float],
    step_u: float | Sequence[float],
    epochs: int | Sequence[int],
    snapshots: int = ...,
    threads: int | None = ...,
    loss: str = ...,
    progress: bool | Callable[[int, int], None] = ...,
    on_error: Literal["raise"] = ...,
) -> list[GDResult]: ...
@overload
def full_batch_gd_ensemble(
    nets: Sequence[AdditiveNetwork],
    X: ArrayLike | Sequence[ArrayLike],
    y: ArrayLike | Sequence[ArrayLike],
    *,
    step_a: float | Sequence[float],
    step_u: float | Sequence[float],
    epochs: int | Sequence[int],
    snapshots: int = ...,
    threads: int | None = ...,
    loss: str = ...,
    progress: bool | Callable[[int, int], None] = ...,
    on_error: str,
) -> list[GDResult | BaseException]: ...
def full_batch_gd_ensemble(
    nets: Sequence[AdditiveNetwork],
    X: ArrayLike | Sequence[ArrayLike],
    y: ArrayLike | Sequence[ArrayLike],
    *,
    step_a: float | Sequence[float],
    step_u: float | Sequence[float],
    epochs: int | Sequence[int],
    snapshots: int = 2,
    threads: int | None = None,
    loss: str = "norm",
    progress: bool | Callable[[int, int], None] = False,
    on_error: str = "raise",
) -> list[GDResult] | list[GDResult | BaseException]:
    """R independent :func:`full_batch_gd` runs in one call, in parallel over runs.

    ``X``, ``y``: one batch for all runs, or a list of one batch per run.
    ``step_a``, ``step_u``, ``epochs``: scalars or one value per run; ``loss`` as in
    :func:`full_batch_gd`, for every run. Results are
    bit-identical to the single runs whatever the number of threads
    (``threads=None``: OpenMP's default). ``progress`` as in :func:`full_batch_gd`,
    counting the epochs of all runs. Ctrl-C stops every thread.

    Every run goes to its end even when others fail. ``on_error="raise"``
    (default) then raises the first failure in run order, its message starting
    with ``run i:``; ``on_error="record"`` returns that exception (a
    ``ttnn.DivergenceError`` with ``.step``, the epoch, and ``.run``) in place of
    the failed run's result.
    """
    nets = networks(nets, AdditiveNetwork)
    if not nets:
        raise ValueError("nets must hold at least one AdditiveNetwork")
    for i, n in enumerate(nets):
        if not isinstance(n, AdditiveNetwork):
            raise TypeError(f"nets[{i}] must be a ttnn.AdditiveNetwork, got {type(n).__name__}")
    R = len(nets)
    # A list of 2-D batches is one batch per run; anything else is one batch for all.
    batches = (
        list(X) if isinstance(X, (list, tuple)) and len(X) > 0 and np.ndim(X[0]) == 2 else None
    )
    if batches is not None:
        if not isinstance(y, (list, tuple)) or len(y) != len(batches):
            raise ValueError("y must be a list with one vector per batch of X")
        if len(batches) != R:
            raise ValueError(f"X must be one batch or a list of {R} batches, got {len(batches)}")
        data = [
            _data(n, Xi, yi, f"X[{i}]")
            for i, (n, Xi, yi) in enumerate(zip(nets, batches, y, strict=True))
        ]
    else:
        # Not a list of batches: one batch (any array-like; _data checks it).
        X_arr, y_arr = _data(nets[0], cast(ArrayLike, X), cast(ArrayLike, y))
        for i, n in enumerate(nets):
            if n.d != nets[0].d:
                raise ValueError(f"nets[{i}] has d = {n.d}, but X has {nets[0].d} columns")
        data = [(X_arr, y_arr)]

    return GDCall.check(
        nets,
        data,
        single=False,
        step_a=step_a,
        step_u=step_u,
        epochs=epochs,
        snapshots=snapshots,
        threads=threads,
        loss=loss,
        on_error=on_error,
    ).run(progress)


# -- the values of one run, each checked by one function (by GDCall.check for the
# public functions' arguments and by GDRun.validate for a sweep's settings) ------


def check_step(name: str, value: Any) -> float:
    """A step size (step_a, step_u): finite and >= 0."""
    return check.real(name, value, nonneg=True)


def check_epochs(name: str, value: Any) -> int:
    return check.integer(name, value, minimum=0)


@dataclass(frozen=True, eq=False)
class GDCall:
    """One validated full-batch GD ensemble call: the description
    :func:`full_batch_gd`, :func:`full_batch_gd_ensemble` and the ``"gd"`` sweep kind
    all run through :meth:`run`.

    Per run: its network, batch (X, y), step_a, step_u and epochs; shared: the
    snapshots and the loss. :meth:`check` builds it from the public functions'
    arguments (once their batches are checked), checking every one of them (naming
    it); a sweep builds it from settings that :meth:`GDRun.validate` has already
    checked with the same functions, so no value is checked twice. ``single``: the
    one-run case of :func:`full_batch_gd` (the core's single-run entry).
    """

    nets: tuple[AdditiveNetwork, ...]
    X: list[NDArray[np.float64]]
    y: list[NDArray[np.float64]]
    step_a: list[float]
    step_u: list[float]
    epochs: list[int]
    snapshots: int
    loss: str
    threads: int = 0
    on_error: str = "raise"
    single: bool = False

    @classmethod
    def check(
        cls,
        nets: list[AdditiveNetwork],
        data: list[tuple[NDArray[np.float64], NDArray[np.float64]]],
        *,
        single: bool,
        step_a: Any,
        step_u: Any,
        epochs: Any,
        snapshots: Any,
        threads: Any,
        loss: Any,
        on_error: Any,
    ) -> GDCall:
        """The call :func:`full_batch_gd` (``single``: its arguments scalars named as
        such) or :func:`full_batch_gd_ensemble` asks for, after their batches are
        checked: every other argument checked once, naming it."""
        R = len(nets)

        def per_run(name: str, value: Any, conv: Any) -> list[Any]:
            return [conv(name, value)] if single else check.per_run(name, value, R, conv)

        sas = per_run("step_a", step_a, check_step)
        sus = per_run("step_u", step_u, check_step)
        ps = per_run("epochs", epochs, check_epochs)
        k = (
            check.run_snapshots(snapshots, ps[0], "epochs")
            if single
            else check.run_snapshots(snapshots, min(ps), "min(epochs)")
        )
        mode = check_on_error(on_error)
        nthreads = 0 if single else check.threads(threads, runs=R)
        crit = check_loss(loss)
        return cls(
            nets=tuple(nets),
            X=[d[0] for d in data],
            y=[d[1] for d in data],
            step_a=sas,
            step_u=sus,
            epochs=ps,
            snapshots=k,
            loss=crit,
            threads=nthreads,
            on_error=mode,
            single=single,
        )

    def run(self, progress: Any = False) -> list[Any]:
        """The one core call: per run its :class:`GDResult`, a failed run's exception
        raised or recorded (``on_error``). The memory of the whole call (snapshots,
        the sorted copies of the batches) is checked first."""
        nets, k = self.nets, self.snapshots
        R = len(nets)
        if self.single:
            guard.memory(
                f"full_batch_gd with {k} snapshots and {self.X[0].shape[0]} points",
                guard.snapshot_bytes(k, 2 * nets[0].m * nets[0].d + 3)
                + guard.GD_POINT_BYTES * self.X[0].size,
                fewer="snapshots, neurons or points",
            )
        else:
            guard.memory(
                f"full_batch_gd_ensemble with {k} snapshots",
                sum(guard.snapshot_bytes(k, 2 * n.m * n.d + 3) for n in nets)
                # Every run builds its own sorted copies of its batch; at most one run
                # per thread at once.
                + guard.GD_POINT_BYTES
                * max(X.size for X in self.X)
                * min(R, self.threads or os.cpu_count() or 1),
                fewer="snapshots, neurons or points",
            )
        if self.single:
            with reporter(progress, "full_batch_gd", "epoch") as report:
                outs: list[Any] = [
                    _core.additive_gd(
                        net=nets[0]._c,
                        X=self.X[0],
                        y=self.y[0],
                        step_a=self.step_a[0],
                        step_u=self.step_u[0],
                        epochs=self.epochs[0],
                        snapshots=k,
                        loss=self.loss,
                        progress=report,
                    )
                ]
        else:
            with reporter(progress, "full_batch_gd_ensemble", "epoch") as report:
                outs = _core.additive_gd_ensemble(
                    nets=[n._c for n in nets],
                    X=self.X,
                    y=self.y,
                    step_a=self.step_a,
                    step_u=self.step_u,
                    epochs=self.epochs,
                    snapshots=k,
                    threads=self.threads,
                    loss=self.loss,
                    progress=report,
                )
        return collect(
            outs,
            self.on_error,
            lambda i, o: _result(o, nets[i], self.step_a[i], self.step_u[i], self.loss),
        )


# -- the paper's additive targets (E4 and E5; the "gd" sweep kind's ``target``) --------

#: The E4 staircase's thresholds, in every input dimension.
THRESHOLDS = (0.3, 0.5, 0.7)
#: The E5 teacher: f*(x) = Σ a*_j relu(x − u*_j) (d = 1, no bias).
TEACHER_U = (0.3, 0.5, 0.7)
TEACHER_A = (1.0, -2.0, 3.0)
#: The additive experiments' η (also the teacher's).
PAPER_ETA = 1e-2


def staircase(X: NDArray[np.float64]) -> NDArray[np.float64]:
    """The E4 target Σ_k Σ_{c ∈ {0.3, 0.5, 0.7}} 1[x_k > c] at the rows of X."""
    return (np.asarray(X)[:, :, None] > np.asarray(THRESHOLDS)).sum(axis=(1, 2)).astype(float)


def paper_teacher() -> AdditiveNetwork:
    """The E5 teacher network (d = 1, relu, three neurons, no bias)."""
    return AdditiveNetwork(
        np.array(TEACHER_A)[:, None], np.array(TEACHER_U)[:, None], PAPER_ETA, "relu"
    )


def gd_data(
    target: str, n: int, d: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The batch of a "gd" sweep run: X ~ U[0, 1)^(n×d) from ``default_rng(seed)``,
    y = f*(X) for the target ``"staircase"`` (E4) or ``"teacher"`` (E5, d = 1)."""
    X = np.random.default_rng(seed).random((n, d))
    if target == "staircase":
        return X, staircase(X)
    if target == "teacher":
        if d != 1:
            raise ValueError(f"target 'teacher' is 1-D: d must be 1, got {d}")
        return X, paper_teacher()(X)
    raise ValueError(f"target must be 'staircase' or 'teacher' for kind 'gd', got {target!r}")


def gd_kinks(target: str) -> tuple[float, ...]:
    """The kinks a "gd" sweep run should cover, per input dimension."""
    return TEACHER_U if target == "teacher" else THRESHOLDS


# -- the "gd" kind of a sweep -----------------------------------------------------


@register
@dataclass(frozen=True, kw_only=True)
class GDRun(Kind):
    """One full-batch GD run of a sweep (:func:`ttnn.sweep` ``"gd"``): an
    ``AdditiveNetwork.init_paper(d, m, eta, activation)`` from the run's init_seed on
    a fresh batch (:func:`gd_data` from its seed), validated when built."""

    name: ClassVar[str] = "gd"
    unit: ClassVar[str] = "epoch"
    time_axis: ClassVar[str] = "epoch"
    integer_time: ClassVar[bool] = True
    sweep_unit: ClassVar[str] = "epoch"
    cost_in_neuron_steps: ClassVar[bool] = True
    l2_doc: ClassVar[str] = (
        "final criterion on the run's batch: ||f(X) - y||_2 / n (loss 'norm'), "
        "||f(X) - y||_2^2 / n (loss 'mse')"
    )

    m: int = setting(10, type="int")
    eta: float = setting(1e-2, type="real")
    activation: str = setting("cubic", type="str")
    snapshots: int = setting(2, type="int", per_call=True)
    target: str = setting("staircase", type="str", per_call=True, fixed_only=True)
    d: int = setting(2, type="int")
    n: int = setting(1000, type="int")
    step_a: float = setting(1.0, type="real")
    step_u: float = setting(0.01, type="real")
    epochs: int | None = setting(None, type="int", length=True)
    loss: str = setting("norm", type="str", optional=True, per_call=True)

    def validate(self) -> None:
        self.shared_checks(self.settings())
        m = check.integer("m", self.m, minimum=1)
        check.real("eta", self.eta, positive=True)
        check_activation(self.activation)
        d = check.integer("d", self.d, minimum=1)
        n = check.integer("n", self.n, minimum=1)
        guard.memory(f"m = {m}, d = {d}", 64 * m * d, fewer="neurons")
        # X (n × d), y, their checked copies and the core's residuals.
        guard.memory(f"a batch of n = {n} at d = {d}", 8 * n * (2 * d + 4), fewer="samples")
        epochs = check_epochs("epochs", self.epochs)
        k = check.run_snapshots(self.snapshots, epochs, "epochs")
        guard.memory(f"{k} snapshots", guard.snapshot_bytes(k, 2 * m * d + 2))
        rec.bound_work("epochs", epochs, float(epochs) * n * m * d, "sample-neuron passes")
        self._set("run_step_a", check_step("step_a", self.step_a))
        self._set("run_step_u", check_step("step_u", self.step_u))
        self._set("run_epochs", epochs)

    # The run's values as validate() normalised them (what its GDCall is built from).
    run_step_a: float = field(init=False, default=0.0, repr=False, compare=False)
    run_step_u: float = field(init=False, default=0.0, repr=False, compare=False)
    run_epochs: int = field(init=False, default=0, repr=False, compare=False)

    @property
    def length(self) -> int:
        return int(self.epochs or 0)

    @property
    def sweep_cost(self) -> float:
        return float(self.length) * self.n * self.m * self.d

    @staticmethod
    def shared_checks(s: Mapping[str, Any]) -> None:
        check.integer("snapshots", s["snapshots"])
        if s["target"] not in ("staircase", "teacher"):
            raise ValueError(f"target must be 'staircase' or 'teacher', got {s['target']!r}")
        check_loss(s["loss"])

    @classmethod
    def sweep_context(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        s = {**cls.sweep_optional(), **settings}
        cls.shared_checks(s)
        return dict(
            k=check.integer("snapshots", s["snapshots"]),
            loss=s["loss"],
            kinks=np.asarray(gd_kinks(s["target"])),
        )

    def sweep_build(self, init_seed: int, seed: int, context: Any) -> dict[str, Any]:
        net = AdditiveNetwork.init_paper(
            self.d, self.m, self.eta, seed=init_seed, activation=self.activation
        )
        X, y = gd_data(self.target, self.n, self.d, seed)
        return dict(net=net, X=X, y=y)

    @classmethod
    def sweep_call(cls, runs: Pairs, context: Any, threads: Threads, progress: Report) -> Outs:
        # Every value was checked by validate() (with the functions GDCall.check uses)
        # and the per-call ones by sweep_context; the batches are gd_data's own
        # float64 arrays: the call is built as is.
        call = GDCall(
            nets=tuple(b["net"] for _, b in runs),
            X=[b["X"] for _, b in runs],
            y=[b["y"] for _, b in runs],
            step_a=[r.run_step_a for r, _ in runs],
            step_u=[r.run_step_u for r, _ in runs],
            epochs=[r.run_epochs for r, _ in runs],
            snapshots=context["k"],
            loss=context["loss"],
            threads=0 if threads is None else min(threads, max(len(runs), 1)),
            on_error="record",
        )
        return call.run(progress or False)

    @classmethod
    def sweep_record(cls, run: Any, built: Any, out: Any, context: Any) -> dict[str, Any]:
        # Breaks are (dimension, kink) pairs, dimension-major: b = k · len(kinks) + c.
        u_end = np.asarray(out.u[-1])
        tol = 2 * built["net"].eta
        kinks = context["kinks"]
        cov = np.concatenate(
            [breaks_covered(u_end[:, k], kinks, tol=tol) for k in range(u_end.shape[1])]
        )
        return {
            "status": "ok",
            "message": "",
            "diverged_step": -1,
            "l2": float(out.criterion[-1]),
            "l2_path": np.asarray(out.criterion, dtype=np.float64),
            "time": np.asarray(out.epochs),
            "covered": cov,
            "all_covered": bool(cov.all()),
            "n_outside": int(neurons_outside(u_end.ravel()).sum()),
            "a": np.asarray(out.a[-1]).ravel(),
            "u": u_end.ravel(),
        }

    @classmethod
    def sweep_sizes(cls, runs: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        nm = max(r["m"] * r["d"] for r in runs)
        nb = max(r["d"] for r in runs) * len(gd_kinks(runs[0]["target"]))
        return {"neuron": nm, "coef": nm, "break": nb}

    @classmethod
    def sweep_break_coord(cls, settings: Mapping[str, Any], size: int) -> NDArray[Any]:
        return np.arange(size, dtype=np.int64)  # (dimension, kink) pairs, dimension-major
