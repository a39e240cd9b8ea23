"""Running one chunk of a sweep: the unit of work, in-process or on a Dask worker.

A chunk is a list of runs that share one ensemble call (same kind and per-call
settings). Each run is first built and checked on its own; a run whose
arguments are rejected is *refused* (recorded with the message) and left out
of the call, so it cannot take the others down. The rest go to one C++
ensemble call in "record" mode: a run that diverges is recorded with its step.
Everything here takes and returns plain picklable data (dicts, NumPy arrays).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import _core
from .. import _guard as guard
from .. import _validate as check
from .._errors import DivergenceError, StepLimitError
from ..activation import check_activation
from ..additive import (
    TEACHER_U,
    THRESHOLDS,
    AdditiveNetwork,
    check_loss,
    full_batch_gd_ensemble,
    paper_teacher,
    staircase,
)
from ..diagnostics import breaks_covered, neurons_outside
from ..limits import two_timescale_limit
from ..network import Network
from ..sgd import sample_stream, sgd_ensemble
from ..target import Target, core_target
from .spec import make_noise, make_target, setting, target_breaks

#: One run as sent to a worker: (settings, init_seed, seed).
RunPayload = tuple[Mapping[str, Any], int, int]
Record = dict[str, Any]
#: progress(fraction) with the fraction of the chunk's work done, in [0, 1].
ChunkProgress = Callable[[float], None]


def _core_progress(progress: ChunkProgress | None) -> Callable[[int, int], None] | None:
    """The ensembles' progress(done, total) (steps, epochs or outputs) as a fraction of
    the chunk; None without a chunk progress."""
    if progress is None:
        return None
    return lambda done, total: progress(done / total if total else 1.0)


#: Name of the time axis of the snapshots, per kind.
TIME_AXIS = {"sgd": "step", "flow": "t", "limit": "tau", "gd": "epoch"}


def _failed(status: str, message: str, step: int = -1) -> Record:
    return {"status": status, "message": message, "diverged_step": step}


def _refused(exc: BaseException) -> Record:
    return _failed("refused", f"{type(exc).__name__}: {exc}")


def _from_error(exc: BaseException) -> Record:
    # An ensemble names the run by its index in the call: keep the run's own
    # message, which does not depend on the chunk it ran in.
    exc = exc.__cause__ or exc
    if isinstance(exc, DivergenceError):
        return _failed("diverged", str(exc), exc.step)
    if isinstance(exc, StepLimitError):
        return _failed("step_limit", str(exc))
    return _refused(exc)


def _target(settings: Mapping[str, Any]) -> Target:
    return make_target(settings["target"])


def _net(s: Mapping[str, Any], init_seed: int) -> Network:
    return Network.init(s["m"], s["eta"], seed=init_seed, activation=s["activation"])


def _slow_length(s: Mapping[str, Any], name: str, scale: float) -> float:
    """A length given directly (``name``) or as slow time τ over ``scale`` (ε h or ε)."""
    if name in s:
        return check.real(name, s[name], nonneg=True)
    tau = check.real("tau", s["tau"], nonneg=True)
    if not scale > 0:
        raise ValueError(f"tau sets no finite {name} when eps = 0; give {name} instead")
    return tau / scale


def _ok(
    u: np.ndarray,
    a: np.ndarray,
    l2_path: np.ndarray,
    time_axis: np.ndarray,
    breaks: np.ndarray,
    tol: float,
) -> Record:
    u_end = np.asarray(u[-1], dtype=np.float64).ravel()
    # breaks_covered and neurons_outside, without their argument checks (m >= 1 here):
    # this runs once per run, and a sweep's runs can take a millisecond.
    cov = np.abs(u_end[:, None] - breaks[None, :]).min(axis=0) <= tol
    return {
        "status": "ok",
        "message": "",
        "diverged_step": -1,
        "l2": float(l2_path[-1]),
        "l2_path": np.asarray(l2_path, dtype=np.float64),
        "time": np.asarray(time_axis),
        "covered": cov,
        "all_covered": bool(cov.all()),
        "n_outside": int(((u_end < 0.0) | (u_end > 1.0)).sum()),
        "a": np.asarray(a[-1], dtype=np.float64).ravel(),
        "u": u_end,
    }


def _checker(kind: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """check_run with a memory: the runs of one grid cell share one settings dict
    (also after pickling to a worker: one payload is one pickle), checked once."""
    memo: dict[int, dict[str, Any] | Exception] = {}

    def checked(s: Mapping[str, Any]) -> dict[str, Any]:
        if id(s) not in memo:
            try:
                memo[id(s)] = check_run(kind, s)
            except (ValueError, TypeError) as exc:
                memo[id(s)] = exc
        out = memo[id(s)]
        if isinstance(out, Exception):
            raise out
        return out

    return checked


def _prepare(
    payload: Sequence[RunPayload], build: Callable[[Mapping[str, Any], int, int], Any]
) -> tuple[list[Record | None], list[int], list[Any]]:
    """build() every run; a rejected one is recorded as refused and left out."""
    records: list[Record | None] = [None] * len(payload)
    todo: list[int] = []
    built: list[Any] = []
    for i, (s, init_seed, seed) in enumerate(payload):
        try:
            built.append(build(s, init_seed, seed))
            todo.append(i)
        except (ValueError, TypeError) as exc:
            records[i] = _refused(exc)
    return records, todo, built


def _sgd(
    payload: Sequence[RunPayload], threads: int | None, progress: ChunkProgress | None
) -> list[Record]:
    """Online SGD, or with ``n`` a finite dataset per run: n samples drawn as the run's
    sampled stream would (``sample_stream(target, n, noise, seed)``), passed over
    ``epochs`` times, reshuffled from the run's seed with ``shuffle``."""
    s0 = payload[0][0]
    target = _target(s0)
    breaks = target_breaks(s0["target"])
    k = check.integer("snapshots", s0["snapshots"])
    noise = make_noise(s0["noise"])
    finite = setting(s0, "sgd", "n") is not None
    epochs = check.integer("epochs", setting(s0, "sgd", "epochs"), minimum=1)
    shuffle = check.flag("shuffle", setting(s0, "sgd", "shuffle"))

    checked = _checker("sgd")

    def build(s: Mapping[str, Any], init_seed: int, seed: int) -> dict[str, Any]:
        c = checked(s)
        net = _net(s, init_seed)
        run = dict(net=net, h=c["h"], eps=c["eps"], steps=c["steps"], seed=seed, batch=c["batch"])
        if finite:
            run["data"] = sample_stream(target, c["n"], noise=noise, seed=seed)
        return run

    records, todo, built = _prepare(payload, build)
    for i, b in zip(todo, built, strict=True):
        records[i] = {"steps": b["steps"]}  # kept even if the run fails
    if todo:
        sampling: dict[str, Any] = (
            dict(
                data=[b["data"] for b in built],
                epochs=epochs,
                shuffle=shuffle,
                seed=[b["seed"] for b in built] if shuffle else None,
            )
            if finite
            else dict(noise=noise, seed=[b["seed"] for b in built])
        )
        outs = sgd_ensemble(
            [b["net"] for b in built],
            target,
            h=[b["h"] for b in built],
            eps=[b["eps"] for b in built],
            steps=[b["steps"] for b in built],
            batch=[b["batch"] for b in built],
            snapshots=k,
            threads=threads,
            on_error="record",
            progress=_core_progress(progress) or False,
            **sampling,
        )
        for i, b, res in zip(todo, built, outs, strict=True):
            rec = (
                _from_error(res)
                if isinstance(res, BaseException)
                else _ok(res.u, res.a, np.asarray(res.l2), res.steps, breaks, 2 * b["net"].eta)
            )
            rec["steps"] = b["steps"]
            records[i] = rec
    return [r if r is not None else _failed("refused", "not run") for r in records]


def _ode(
    kind: str, payload: Sequence[RunPayload], threads: int | None, progress: ChunkProgress | None
) -> list[Record]:
    """The gradient flow and the finite-η limit: one C++ ensemble call."""
    s0 = payload[0][0]
    target = core_target(_target(s0))
    breaks = target_breaks(s0["target"])
    k = check.ode_snapshots(s0["snapshots"])
    rtol, atol = check.tolerances(s0["rtol"], s0["atol"])
    max_steps = check.max_steps(setting(s0, kind, "max_steps"))
    method = setting(s0, kind, "method")

    checked = _checker(kind)

    def build(s: Mapping[str, Any], init_seed: int, seed: int) -> dict[str, Any]:
        c = checked(s)
        return dict(net=_net(s, init_seed), eps=c.get("eps"), end=c["end"])

    records, todo, built = _prepare(payload, build)
    if not todo:
        return [r for r in records if r is not None]
    nets = [b["net"]._c for b in built]
    ends = [b["end"] for b in built]
    # What the two ensemble calls share; the per-run lengths and kind-specific settings differ.
    shared: dict[str, Any] = dict(
        nets=nets,
        target=target,
        snapshots=k,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        threads=0 if threads is None else threads,
        progress=_core_progress(progress),
        method=method,
    )
    if kind == "flow":
        eps = [b["eps"] for b in built]
        outs: list[Any] = _core.gradient_flow_ensemble(eps=eps, t_end=ends, **shared)
        axis = "t"
    else:
        ridge = check.real("ridge", s0["ridge"], nonneg=True)
        outs = _core.finite_eta_limit_ensemble(tau_end=ends, ridge=ridge, **shared)
        axis = "tau"
    for i, b, out in zip(todo, built, outs, strict=True):
        if isinstance(out, BaseException):
            records[i] = _from_error(out)
        else:
            records[i] = _ok(
                out.u,
                out.a,
                out.l2,
                getattr(out, axis),
                breaks,
                2 * b["net"].eta,
            )
    return [r for r in records if r is not None]


def _zero_limit(payload: Sequence[RunPayload]) -> list[Record]:
    """The η → 0 limit is NumPy code (no C++ ensemble): one call per run."""
    s0 = payload[0][0]
    target = _target(s0)
    breaks = target_breaks(s0["target"])
    records: list[Record] = []
    for s, init_seed, _seed in payload:
        try:
            net = _net(s, init_seed)
            res = two_timescale_limit(
                net,
                target,
                _slow_length(s, "tau_end", 1.0),
                eta="zero",
                snapshots=s["snapshots"],
                rtol=s["rtol"],
                atol=s["atol"],
            )
        except DivergenceError as exc:
            records.append(_from_error(exc))
            continue
        except (ValueError, TypeError) as exc:
            records.append(_refused(exc))
            continue
        records.append(_ok(res.u, res.a, res.l2, res.tau, breaks, 2 * net.eta))
    return records


def gd_data(target: str, n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The batch of a GD run: X ~ U[0, 1)^(n×d) from ``default_rng(seed)``, y = f*(X)."""
    X = np.random.default_rng(seed).random((n, d))
    if target == "staircase":
        return X, staircase(X)
    if target == "teacher":
        if d != 1:
            raise ValueError(f"target 'teacher' is 1-D: d must be 1, got {d}")
        return X, paper_teacher()(X)
    raise ValueError(f"target must be 'staircase' or 'teacher' for kind 'gd', got {target!r}")


def gd_kinks(target: str) -> tuple[float, ...]:
    """The kinks a GD run should cover, per input dimension."""
    return TEACHER_U if target == "teacher" else THRESHOLDS


def _gd(
    payload: Sequence[RunPayload], threads: int | None, progress: ChunkProgress | None
) -> list[Record]:
    s0 = payload[0][0]
    k = check.integer("snapshots", s0["snapshots"])

    checked = _checker("gd")

    def build(s: Mapping[str, Any], init_seed: int, seed: int) -> dict[str, Any]:
        c = checked(s)
        net = AdditiveNetwork.init_paper(
            c["d"], s["m"], s["eta"], seed=init_seed, activation=s["activation"]
        )
        X, y = gd_data(s["target"], c["n"], c["d"], seed)
        return dict(net=net, X=X, y=y, step_a=c["step_a"], step_u=c["step_u"], epochs=c["work"])

    records, todo, built = _prepare(payload, build)
    if todo:
        outs = full_batch_gd_ensemble(
            [b["net"] for b in built],
            [b["X"] for b in built],
            [b["y"] for b in built],
            step_a=[b["step_a"] for b in built],
            step_u=[b["step_u"] for b in built],
            epochs=[b["epochs"] for b in built],
            snapshots=k,
            threads=threads,
            loss=setting(s0, "gd", "loss"),
            on_error="record",
            progress=_core_progress(progress) or False,
        )
        kinks = np.asarray(gd_kinks(s0["target"]))
        for i, b, res in zip(todo, built, outs, strict=True):
            if isinstance(res, BaseException):
                records[i] = _from_error(res)
                continue
            # Breaks are (dimension, kink) pairs, dimension-major: b = k · len(kinks) + c.
            u_end = np.asarray(res.u[-1])
            tol = 2 * b["net"].eta
            cov = np.concatenate(
                [breaks_covered(u_end[:, k], kinks, tol=tol) for k in range(u_end.shape[1])]
            )
            records[i] = {
                "status": "ok",
                "message": "",
                "diverged_step": -1,
                "l2": float(res.criterion[-1]),
                "l2_path": np.asarray(res.criterion, dtype=np.float64),
                "time": np.asarray(res.epochs),
                "covered": cov,
                "all_covered": bool(cov.all()),
                "n_outside": int(neurons_outside(u_end.ravel()).sum()),
                "a": np.asarray(res.a[-1]).ravel(),
                "u": u_end.ravel(),
            }
    return [r if r is not None else _failed("refused", "not run") for r in records]


def _check_call(kind: str, s: Mapping[str, Any]) -> None:
    """The settings one ensemble call shares (the per-run ones are checked per run)."""
    check.integer("snapshots", s["snapshots"])
    if kind != "gd":
        _target(s)
    if kind in ("flow", "limit"):
        check.ode_snapshots(s["snapshots"])
        check.tolerances(s["rtol"], s["atol"])
    if kind == "flow":
        check.flow_method(setting(s, kind, "method"))
    if kind == "limit":
        check.limit_method(setting(s, kind, "method"))
        check.real("ridge", s["ridge"], nonneg=True)
        if s["limit"] not in ("finite", "zero"):
            raise ValueError(f"limit must be 'finite' or 'zero', got {s['limit']!r}")
    if kind == "gd" and s["target"] not in ("staircase", "teacher"):
        raise ValueError(f"target must be 'staircase' or 'teacher', got {s['target']!r}")
    if kind == "gd":
        check_loss(setting(s, "gd", "loss"))
    if kind == "sgd":
        check.integer("epochs", setting(s, "sgd", "epochs"), minimum=1)
        check.flag("shuffle", setting(s, "sgd", "shuffle"))
        if setting(s, "sgd", "n") is None and ("epochs" in s or "shuffle" in s):
            raise ValueError("epochs and shuffle need n (a finite dataset of n samples per run)")
    if kind == "limit" and s["limit"] == "zero" and "teacher" in s["target"]:
        raise ValueError(
            "limit 'zero' needs a step target: the η → 0 closed form (docs/maths/limits.md) "
            "is for piecewise-constant targets; use limit 'finite' with a teacher"
        )


#: Most work one run may ask for, in neuron-steps (steps × batch × m for SGD, epochs
#: × n × m·d for GD): ~10⁵ s at the core's ~1 ns per neuron-step. Beyond it a value is
#: a typo (tau = 1e20), refused before anything runs.
MAX_WORK = 1e14


def _work(name: str, value: Any, amount: float, what: str) -> None:
    if not amount <= MAX_WORK:
        raise ValueError(
            f"{name} = {value!r} asks for {amount:.3g} {what}, more than the {MAX_WORK:g} "
            "one run may take"
        )


def check_run(kind: str, s: Mapping[str, Any]) -> dict[str, Any]:
    """Check every setting of one run (ranges, combinations, memory, work) with the
    public functions' validators, allocating nothing: what the sweep does for every
    grid cell before it runs or writes anything, and what each run repeats when it is
    built. Returns the values the run uses; ``work`` is its length in the progress
    bar's units (SGD steps, GD epochs, ODE time) and ``cost`` an estimate of its time.
    ``ValueError``/``TypeError`` name the setting."""
    _check_call(kind, s)
    m = check.integer("m", s["m"], minimum=1)
    check.real("eta", s["eta"], positive=True)
    check_activation(s["activation"])
    if kind == "gd":
        d = check.integer("d", s["d"], minimum=1)
        n = check.integer("n", s["n"], minimum=1)
        guard.memory(f"m = {m}, d = {d}", 64 * m * d, fewer="neurons")
        # X (n × d), y, their checked copies and the core's residuals.
        guard.memory(f"a batch of n = {n} at d = {d}", 8 * n * (2 * d + 4), fewer="samples")
        epochs = check.integer("epochs", s["epochs"], minimum=0)
        k = check.run_snapshots(s["snapshots"], epochs, "epochs")
        guard.memory(f"{k} snapshots", guard.snapshot_bytes(k, 2 * m * d + 2))
        _work("epochs", epochs, float(epochs) * n * m * d, "sample-neuron passes")
        return dict(
            d=d,
            n=n,
            step_a=check.real("step_a", s["step_a"], nonneg=True),
            step_u=check.real("step_u", s["step_u"], nonneg=True),
            work=float(epochs),
            cost=float(epochs) * n * m * d,
        )
    guard.memory(f"m = {m}", 64 * m, fewer="neurons")
    if kind == "sgd":
        batch = check.batch("batch", setting(s, "sgd", "batch"))
        h = check.real("h", s["h"], positive=True)
        eps = check.real("eps", s["eps"], nonneg=True)
        if "steps" in s:
            steps = check.integer("steps", s["steps"], minimum=0)
            _work("steps", steps, float(steps) * batch * m, "neuron-steps")
        else:
            raw = _slow_length(s, "steps", eps * h)
            _work("tau", s["tau"], raw * batch * m, f"neuron-steps (tau / (eps h) = {raw:.3g})")
            steps = int(round(raw))
        k = check.run_snapshots(s["snapshots"], steps)
        guard.memory(f"{k} snapshots at m = {m}", guard.snapshot_bytes(k, 2 * m + 2))
        check.draws("steps", steps, batch)
        out = dict(h=h, eps=eps, steps=steps, batch=batch, work=float(steps))
        out["cost"] = float(steps) * batch * (m + 4)
        if setting(s, "sgd", "n") is not None:
            n = check.integer("n", s["n"], minimum=1)
            epochs = setting(s, "sgd", "epochs")
            guard.memory(f"n = {n} samples", 48 * n, fewer="samples")
            if steps * batch > epochs * n:
                raise ValueError(
                    f"steps ({steps}) × batch ({batch}) exceeds the {epochs * n} draws of "
                    f"epochs ({epochs}) × n ({n})"
                )
            out["n"] = n
        return out
    check.ode_snapshots(s["snapshots"], m)
    if kind == "flow":
        eps = check.real("eps", s["eps"], nonneg=True)
        end = _slow_length(s, "t_end", eps)
        check.time_span("t_end" if "t_end" in s else "tau / eps", end)
        return dict(eps=eps, end=end, work=end, cost=end * (m + 4))
    end = _slow_length(s, "tau_end", 1.0)
    check.time_span("tau_end" if "tau_end" in s else "tau", end)
    return dict(end=end, work=end, cost=end * (m + 4))


def run_chunk(
    kind: str,
    payload: Sequence[RunPayload],
    threads: int | None,
    progress: ChunkProgress | None = None,
) -> list[Record]:
    """Run the chunk ``payload`` (runs sharing one ensemble call) and return one record
    per run, in order. ``wall_time`` is the call's wall time shared equally by its runs.
    ``progress(fraction)`` is called while the chunk runs (in this thread; not for the
    η → 0 limit, NumPy code that only reports per chunk)."""
    start = time.perf_counter()
    try:
        _check_call(kind, payload[0][0])
    except (ValueError, TypeError) as exc:
        # A per-call setting (snapshots, tolerances, noise...) was rejected: every run
        # of the call shares it, so every one is refused with its message.
        records = [_refused(exc) for _ in payload]
    else:
        if kind == "sgd":
            records = _sgd(payload, threads, progress)
        elif kind == "flow":
            records = _ode("flow", payload, threads, progress)
        elif kind == "limit" and payload[0][0]["limit"] == "zero":
            records = _zero_limit(payload)
        elif kind == "limit":
            records = _ode("limit", payload, threads, progress)
        else:
            records = _gd(payload, threads, progress)
    share = (time.perf_counter() - start) / len(payload)
    for r in records:
        r["wall_time"] = share
    return records
