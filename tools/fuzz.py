"""Fuzz the public API with hostile values and count what must never happen.

Each call takes a valid, small set of arguments for one public function and
replaces one to three of them with hostile values: floats near the double
limits (±1.8e308, 5e-324, 1.4e154, NaN, ±inf), huge or negative integers for
every count (2**31 − 1, 2**63, 10**18, −1), and objects of the wrong kind
(None, strings, lists, dicts, complex numbers, masked and 0-d arrays, a
Network where a sequence is expected, callables of the wrong arity).

Calls run in a child interpreter, one after another; the parent sends each
call's number over a pipe and waits for the outcome. If the child dies (a
signal, an abort in OpenMP, ``std::terminate``) the parent counts a **death**,
prints the call and starts a new child. A call that does not answer within
``--timeout`` seconds (a legitimate long run asked for by a huge count) is
killed and counted as a timeout, not a death. A call that returns a value
holding NaN, or ±inf anywhere but in a loss series (where +inf is the
documented overflow of a loss beyond the double range), is counted as a
**silent non-finite result**. Expected outcomes are ``ok`` and raised
``ValueError``/``TypeError`` (and ``DivergenceError``, ``StepLimitError``,
``MemoryError`` refusals); any other exception type is listed.

The children run under a 4 GiB address-space limit and with
``TTNN_MEMORY_LIMIT_GIB=1`` so that the fuzzer never takes the machine's memory.
Usage (from the repository root; ~15 minutes for 10,000 calls on one loaded core):

    PYTHONPATH=python nice python tools/fuzz.py --calls 10000 [--seed 0] [--timeout 10]

The exit status is 1 if any death or silent non-finite result was seen. Not run
in CI (too long); run it after changes to argument checks or to the core.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import select
import subprocess
import sys
import time
from collections import Counter
from typing import Any

# -- hostile values -----------------------------------------------------------------

FMAX = sys.float_info.max
HOSTILE_FLOATS = [
    0.0,
    -0.0,
    5e-324,
    1e-320,
    2.2e-308,
    1e-300,
    1e-154,
    1.4e154,
    1e160,
    1e300,
    FMAX,
    -FMAX,
    1.7e308,
    -1e308,
    math.nan,
    math.inf,
    -math.inf,
    1e12,
    1e13,
    -1.0,
    1e-16,
]
HOSTILE_INTS = [
    0,
    -1,
    1,
    2,
    3,
    2**31 - 1,
    2**31,
    2**32,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64,
    10**6,
    10**9,
    10**18,
    -(2**63),
]


def hostile_objects(rng: random.Random) -> list[Any]:
    import numpy as np

    import ttnn

    return [
        None,
        "1",
        "",
        "relu",
        [],
        [1.0, 2.0],
        [[0.1, 0.2], [0.3]],
        {},
        {"a": 1},
        object(),
        complex(1, 1),
        True,
        np.bool_(False),
        np.array(0.5),
        np.array([[1.0]]),
        np.array([math.nan]),
        np.ma.masked_array([1.0], [True]),
        np.array(["x"]),
        np.zeros(0),
        lambda: None,
        lambda done: None,
        print,
        ttnn.Network([0.0, 1.0], [0.5], 0.01),
        b"bytes",
        range(3),
        1 + 0j,
        np.float32(1e38),
        np.int8(-1),
        np.uint64(2**64 - 1),
        float,
        Exception,
    ]


def hostile(rng: random.Random) -> Any:
    """One hostile value: a float, an integer or a wrong object (a third each)."""
    import numpy as np

    kind = rng.random()
    if kind < 0.35:
        v = rng.choice(HOSTILE_FLOATS)
        return np.float64(v) if rng.random() < 0.2 else v
    if kind < 0.7:
        return rng.choice(HOSTILE_INTS)
    if kind < 0.8:  # an array holding a hostile float
        return np.full(rng.choice([1, 3, 5]), rng.choice(HOSTILE_FLOATS))
    return rng.choice(hostile_objects(rng))


# -- the calls --------------------------------------------------------------------------


def calls() -> dict[str, tuple[Any, dict[str, Any]]]:
    """Each public function with valid, small arguments (name → (callable, kwargs))."""
    import numpy as np

    import ttnn

    T = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(m=6, eta=0.05, seed=1)
    relu = ttnn.Network.init(m=6, eta=0.05, seed=1, activation="relu")
    an = ttnn.AdditiveNetwork.init_paper(2, 3, 0.1, seed=1)
    X = np.random.default_rng(0).random((12, 2))
    y = np.sin(X.sum(axis=1))
    xs = np.linspace(0, 1, 16)

    def call_net(self_net, x):
        return self_net(x)

    def call_gradient(self_net, x):
        return self_net.gradient(x)

    def additive_eval(a, u, eta, activation, bias, X):
        return ttnn.AdditiveNetwork(a, u, eta, activation, bias)(X)

    def additive_criterion(self_net, X, y, loss):
        return self_net.criterion_gradient(X, y, loss)

    def save_load(self_res, path):
        self_res.save(path)
        return ttnn.load(path)

    res = ttnn.sgd(net, T, h=1e-3, steps=4, snapshots=3)
    # The integrator settings the flow and the finite-eta limit share.
    ode = dict(snapshots=3, rtol=1e-6, atol=1e-8, max_steps=20_000, method="rk45")
    return {
        "Network": (
            ttnn.Network,
            dict(a=np.zeros(4), u=[0.2, 0.5, 0.8], eta=0.05, activation="cubic"),
        ),
        "Network.init": (ttnn.Network.init, dict(m=5, eta=0.05, seed=0, activation="ramp")),
        "net(x)": (call_net, dict(self_net=net, x=xs)),
        # Large opposite relu slopes: f(1e308) must cancel them without overflow.
        "relu net(x)": (
            call_net,
            dict(self_net=ttnn.Network([0, 2, -2], [0.2, 0.5], 0.01, "relu"), x=0.5),
        ),
        "net.gradient": (call_gradient, dict(self_net=relu, x=0.3)),
        "PiecewiseConstant": (
            ttnn.PiecewiseConstant,
            dict(breaks=[0.3, 0.6], values=[0.0, 1.0, -1.0]),
        ),
        "l2_error": (ttnn.l2_error, dict(net=net, target=T)),
        "l2_gradient": (ttnn.l2_gradient, dict(net=relu, target=T)),
        "sgd": (
            ttnn.sgd,
            dict(net=net, target=T, h=1e-3, eps=1.0, steps=50, snapshots=3, seed=0, batch=2),
        ),
        "sgd replay": (
            ttnn.sgd,
            dict(
                net=net, target=None, h=1e-3, data=(xs, np.cos(xs)), epochs=2, shuffle=True, seed=0
            ),
        ),
        "sgd_ensemble": (
            ttnn.sgd_ensemble,
            dict(
                nets=[net, relu],
                target=T,
                h=1e-3,
                steps=20,
                seed=0,
                threads=2,
                batch=1,
                eps=0.5,
                snapshots=2,
            ),
        ),
        "gradient_flow": (
            ttnn.gradient_flow,
            dict(
                net=net,
                target=T,
                eps=1.0,
                t_end=0.05,
                **ode,
            ),
        ),
        "two_timescale_limit": (
            ttnn.two_timescale_limit,
            dict(
                net=net,
                target=T,
                tau_end=0.01,
                limit="finite",
                ridge=0.0,
                **ode,
            ),
        ),
        "zero-eta limit": (
            ttnn.two_timescale_limit,
            dict(
                net=ttnn.Network(np.zeros(9), np.linspace(0.05, 0.95, 8), 0.01),
                target=ttnn.PiecewiseConstant([0.5], [0.0, 1.0]),
                tau_end=1.0,
                limit="zero",
                snapshots=3,
            ),
        ),
        "AdditiveNetwork": (
            additive_eval,
            dict(
                a=np.ones((3, 2)),
                u=np.full((3, 2), 0.5),
                eta=0.1,
                activation="cubic",
                bias=None,
                X=X,
            ),
        ),
        "criterion_gradient": (additive_criterion, dict(self_net=an, X=X, y=y, loss="norm")),
        "full_batch_gd": (
            ttnn.full_batch_gd,
            dict(net=an, X=X, y=y, step_a=1.0, step_u=0.01, epochs=5, snapshots=2, loss="mse"),
        ),
        "full_batch_gd_ensemble": (
            ttnn.full_batch_gd_ensemble,
            dict(nets=[an, an], X=X, y=y, step_a=1.0, step_u=0.01, epochs=5, threads=2),
        ),
        "sample_stream": (ttnn.sample_stream, dict(target=T, draws=10, seed=0, stream=0)),
        "shuffle_order": (ttnn.shuffle_order, dict(n=5, draws=12, seed=0, stream=1)),
        "snapshot_steps": (ttnn.snapshot_steps, dict(steps=10, snapshots=3)),
        "breaks_covered": (ttnn.breaks_covered, dict(net=net, target=T, tol=0.05)),
        "neurons_outside": (ttnn.neurons_outside, dict(net=net)),
        "save/load": (
            save_load,
            dict(
                self_res=res,
                path=os.path.join(os.environ.get("TMPDIR", "/tmp"), f"ttnn_fuzz_{os.getpid()}.npz"),
            ),
        ),
    }


#: Arguments that stand for ``self`` of a method (net(x), res.save): never replaced,
#: since a method looked up on a wrong object is Python's AttributeError, not ours.
SELF = {"self_net", "self_res"}


def make_call(i: int, seed: int, table: dict[str, tuple[Any, dict[str, Any]]]):
    """Call i: (name, function, kwargs, description), the same in parent and child."""
    rng = random.Random(seed * 1_000_003 + i)
    name = rng.choice(sorted(table))
    fn, base = table[name]
    kwargs = dict(base)
    keys = sorted(k for k in kwargs if k not in SELF)
    for key in rng.sample(keys, min(len(keys), rng.choice([1, 1, 1, 2, 3]))):
        kwargs[key] = hostile(rng)
    desc = f"{name}({', '.join(f'{k}={_short(v)}' for k, v in kwargs.items())})"
    return name, fn, kwargs, desc


def _short(v: Any) -> str:
    text = repr(v).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


# -- what a returned value may hold --------------------------------------------------


LOSS_FIELDS = {"l2", "limit_loss", "criterion", "cond"}


def nonfinite(value: Any, loss: bool = False) -> bool:
    """True if ``value`` holds NaN, or ±inf outside a loss series."""
    import numpy as np

    import ttnn

    if isinstance(value, ttnn._result.Result):
        return any(
            nonfinite(getattr(value, f), f in LOSS_FIELDS) for f in value.__dataclass_fields__
        )
    if isinstance(value, (ttnn.Network, ttnn.AdditiveNetwork)):
        return nonfinite(value.a) or nonfinite(value.u)
    if isinstance(value, (tuple, list)):
        return any(nonfinite(v, loss) for v in value)
    if isinstance(value, (float, np.floating, np.ndarray)):
        arr = np.asarray(value)
        if arr.dtype.kind != "f":
            return False
        if np.isnan(arr).any():
            return True
        return bool(np.isinf(arr).any()) and not loss
    return False


# -- child and parent ---------------------------------------------------------------------


def child(seed: int) -> None:
    import warnings

    import ttnn

    warnings.simplefilter("ignore")
    table = calls()
    out = sys.stdout
    out.write("ready\n")  # the parent's timeouts start after the imports
    out.flush()
    for line in sys.stdin:
        i = int(line)
        name, fn, kwargs, _ = make_call(i, seed, table)
        try:
            value = fn(**kwargs)
            outcome = "nonfinite" if nonfinite(value, name in ("l2_error",)) else "ok"
        except (ValueError, TypeError) as exc:
            outcome = type(exc).__name__
        except (ttnn.DivergenceError, ttnn.StepLimitError, MemoryError) as exc:
            outcome = type(exc).__name__
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - every other type is reported
            outcome = f"other:{type(exc).__name__}: {str(exc)[:200]}"
        out.write(json.dumps([i, outcome]) + "\n")
        out.flush()


def _limits() -> None:
    limit = 4 * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.nice(5)


class Child:
    def __init__(self, seed: int) -> None:
        env = dict(os.environ, TTNN_MEMORY_LIMIT_GIB="1", OMP_NUM_THREADS="2")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--child", "--seed", str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=_limits,
        )
        # A loaded machine may take many seconds to import: not a call's time.
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 300)
        if not ready or self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the fuzzing child did not start: {self.stop()}")

    def ask(self, i: int, timeout: float) -> str:
        """The outcome of call i: its own, or 'death' / 'timeout'."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(f"{i}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return "death"
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return "timeout"
        line = self.proc.stdout.readline()
        if not line:
            return "death"
        j, outcome = json.loads(line)
        assert j == i
        return str(outcome)

    def stop(self) -> str:
        self.proc.kill()
        _, err = self.proc.communicate()
        return err[-600:]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--verbose", action="store_true", help="also list the calls that timed out")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.seed)
        return 0
    table = calls()
    counts: Counter[str] = Counter()
    by_call: Counter[tuple[str, str]] = Counter()
    bad: list[str] = []
    slow: list[str] = []
    worker = Child(args.seed)
    start = time.monotonic()
    for i in range(args.calls):
        outcome = worker.ask(i, args.timeout)
        name = make_call(i, args.seed, table)[0]
        kind = outcome.split(":")[0]
        counts[kind] += 1
        by_call[(name, kind)] += 1
        if outcome in ("death", "timeout"):
            err = worker.stop()
            if outcome == "death":
                bad.append(f"DEATH {make_call(i, args.seed, table)[3]}\n  stderr: {err!r}")
            else:
                slow.append(f"timeout {make_call(i, args.seed, table)[3]}")
            worker = Child(args.seed)
        elif outcome == "nonfinite" or kind == "other":
            bad.append(f"{outcome}\n  call: {make_call(i, args.seed, table)[3]}")
        if (i + 1) % 1000 == 0:
            print(f"{i + 1} calls, {time.monotonic() - start:.0f} s: {dict(counts)}", flush=True)
    worker.stop()
    for line in slow if args.verbose else []:
        print(line)
    for line in bad:
        print(line)
    print(f"\n{args.calls} calls (seed {args.seed}) in {time.monotonic() - start:.0f} s")
    for kind, n in counts.most_common():
        print(f"  {kind}: {n}")
    print("  per function (outcome: count):")
    for name in sorted({n for n, _ in by_call}):
        row = ", ".join(f"{k}: {c}" for (n, k), c in sorted(by_call.items()) if n == name)
        print(f"    {name}: {row}")
    deaths, silent = counts["death"], counts["nonfinite"]
    print(f"deaths: {deaths}, silent non-finite results: {silent}")
    return 1 if deaths or silent else 0


if __name__ == "__main__":
    sys.exit(main())
