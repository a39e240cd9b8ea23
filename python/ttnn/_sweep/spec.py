"""What a sweep is: its kind, fixed settings, grid and repeats, checked and made canonical.

Every run of a sweep is identified by its coordinates (one value per grid key,
in grid order, then the repeat). Its seeds and its content hash are functions
of the sweep's seed and those coordinates only (see docs/guide/sweeps.md), so
that neither chunking, threads nor the backend can change what a run computes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _guard as guard
from .. import _validate as check
from .._kind import KINDS as KIND_CLASSES
from .._kind import Kind
from ..network import Network
from ..noise import GaussianNoise, UniformNoise
from ..target import PiecewiseConstant, Target, target_points

#: Bumped whenever what a run stores, or how its seeds are drawn, changes: a store
#: written under another schema is not resumed.
SCHEMA_VERSION = 2
# 2: flow and limit runs default to method "auto" and 100 snapshots (as
#    ttnn.gradient_flow and ttnn.two_timescale_limit); slow-time coordinates stored.

#: Most runs one sweep may hold: each costs about RUN_BYTES of Python objects before
#: anything runs, so a typo such as repeats=10**9 is refused instead of filling memory.
MAX_RUNS = 10**7
RUN_BYTES = 2048

#: The paper's step target (the default ``target`` of the kinds on [0, 1]).
PAPER_TARGET = {"breaks": [0.2, 0.35, 0.5, 0.65, 0.8], "values": [1.0, 5.0, 1.0, 3.0, 1.0, 5.0]}


def kinds() -> tuple[str, ...]:
    """The kinds a sweep can run: every registered kind that declares sweep settings
    (:func:`ttnn._kind.setting`)."""
    return tuple(name for name, cls in KIND_CLASSES.items() if cls.sweep_class().sweep_types())


def kind_class(kind: Any) -> type[Kind]:
    """The class of a sweep kind (ValueError naming the kinds otherwise)."""
    names = kinds()
    if not isinstance(kind, str) or kind not in names:
        raise ValueError(f"kind must be one of {', '.join(map(repr, names))}, got {kind!r}")
    return KIND_CLASSES[kind].sweep_class()


def defaults(kind: str) -> dict[str, Any]:
    """The settings a sweep of ``kind`` puts into every run unless given."""
    return kind_class(kind).sweep_defaults()


def _teacher(net: Network) -> dict[str, Any]:
    return {
        "teacher": {
            "a": net.a.tolist(),
            "u": net.u.tolist(),
            "eta": net.eta,
            "activation": net.activation,
        }
    }


def _target(value: Any) -> dict[str, Any]:
    if isinstance(value, PiecewiseConstant):
        return {"breaks": value.breaks.tolist(), "values": value.values.tolist()}
    if isinstance(value, Network):
        return _teacher(value)
    if isinstance(value, str) and value in ("paper", "paper-code", "paper-text"):
        t = PiecewiseConstant.paper("text" if value == "paper-text" else "code")
        return _target(t)
    if isinstance(value, Mapping) and set(value) == {"breaks", "values"}:
        t = PiecewiseConstant(value["breaks"], value["values"])  # checks them
        return _target(t)
    if isinstance(value, Mapping) and set(value) == {"teacher"}:
        spec = value["teacher"]
        if not isinstance(spec, Mapping) or not {"a", "u", "eta"} <= set(spec) <= {
            "a",
            "u",
            "eta",
            "activation",
        }:
            raise TypeError(
                "target's teacher takes the keys 'a', 'u', 'eta' and 'activation' "
                f"(default 'cubic'), got {spec!r}"
            )
        net = Network(spec["a"], spec["u"], spec["eta"], spec.get("activation", "cubic"))
        return _teacher(net)
    raise TypeError(
        "target must be a ttnn.PiecewiseConstant, a teacher ttnn.Network, 'paper', "
        "'paper-text', {'breaks': [...], 'values': [...]} or "
        f"{{'teacher': {{'a': [...], 'u': [...], 'eta': ..., 'activation': ...}}}}, got {value!r}"
    )


def make_target(desc: Mapping[str, Any]) -> Target:
    """The target object a canonical description stands for."""
    if "teacher" in desc:
        t = desc["teacher"]
        return Network(t["a"], t["u"], t["eta"], t["activation"])
    return PiecewiseConstant(desc["breaks"], desc["values"])


def target_breaks(desc: Mapping[str, Any]) -> np.ndarray:
    """The points a run should cover (the ``break`` coordinate): the breaks of a step
    target, or a teacher's kinks inside [0, 1] (its neuron positions there)."""
    return np.asarray(target_points(make_target(desc)), dtype=np.float64)


def _noise(value: Any) -> dict[str, Any]:
    if value is None or value == "none":
        return {"kind": "none", "scale": 0.0}
    if isinstance(value, UniformNoise):
        return {"kind": "uniform", "scale": value.r}
    if isinstance(value, GaussianNoise):
        return {"kind": "gaussian", "scale": value.s}
    if isinstance(value, Mapping) and value.get("kind") in ("uniform", "gaussian", "none"):
        if set(value) - {"kind", "scale"}:
            raise TypeError(f"noise takes the keys 'kind' and 'scale', got {sorted(value)}")
        scale = check.real("noise scale", value.get("scale", 1.0), nonneg=True)
        return {"kind": value["kind"], "scale": 0.0 if value["kind"] == "none" else scale}
    raise TypeError(
        "noise must be ttnn.UniformNoise, ttnn.GaussianNoise, None, 'none' or "
        f"{{'kind': 'uniform'|'gaussian'|'none', 'scale': s}}, got {value!r}"
    )


def make_noise(desc: Mapping[str, Any]) -> UniformNoise | GaussianNoise | None:
    """The noise object a canonical description stands for."""
    if desc["kind"] == "uniform":
        return UniformNoise(desc["scale"])
    if desc["kind"] == "gaussian":
        return GaussianNoise(desc["scale"])
    return None


def noise_label(desc: Mapping[str, Any]) -> str:
    """The coordinate of a swept noise: 'uniform(1)', 'gaussian(0.5)', 'none'."""
    return "none" if desc["kind"] == "none" else f"{desc['kind']}({desc['scale']:g})"


def canonical(key: str, kind: str, value: Any) -> Any:
    """``value`` of setting ``key`` in its canonical (JSON-serialisable) form; TypeError
    naming the key when its type is wrong. Ranges are checked per run (a run with a
    rejected value is recorded as refused)."""
    typ = kind_class(kind).sweep_types()[key]
    if typ == "real":
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating)):
            raise TypeError(f"{key} must be a real number, got {value!r}")
        v = float(value)
        if math.isnan(v):
            raise ValueError(f"{key} must not be NaN")
        return v
    if typ == "int":
        return check.integer(key, value)
    if typ == "bool":
        return check.flag(key, value)
    if typ == "strs":
        if isinstance(value, str) or not isinstance(value, (Sequence, np.ndarray)):
            raise TypeError(f"{key} must be a list of strings, got {value!r}")
        out = list(value)
        for v in out:
            if not isinstance(v, str):
                raise TypeError(f"{key} must be a list of strings, got {value!r}")
        return out
    if typ == "str":
        if not isinstance(value, str):
            raise TypeError(f"{key} must be a string, got {value!r}")
        return value
    if typ == "target":
        return _target(value)
    return _noise(value)


def _jsonable(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def _digest(obj: Any, size: int) -> bytes:
    return hashlib.blake2b(_jsonable(obj).encode(), digest_size=size).digest()


@dataclass(frozen=True)
class Run:
    """One run: its index in the grid (grid values…, repeat), its full settings and seeds."""

    index: tuple[int, ...]
    coords: dict[str, Any]
    repeat: int
    settings: dict[str, Any]
    init_seed: int
    seed: int
    run_hash: int


@dataclass(frozen=True)
class Spec:
    """A checked sweep: kind, fixed settings, grid (key → canonical values), repeats, seed."""

    kind: str
    fixed: dict[str, Any]
    grid: dict[str, list[Any]]
    repeats: int
    seed: int
    paired: bool
    runs: list[Run] = field(repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return (*(len(v) for v in self.grid.values()), self.repeats)

    def description(self) -> dict[str, Any]:
        """Everything that defines the sweep, JSON-serialisable (the store's attributes)."""
        return json.loads(
            _jsonable(
                {
                    "kind": self.kind,
                    "settings": self.fixed,
                    "grid": self.grid,
                    "repeats": self.repeats,
                    "seed": self.seed,
                    "paired": self.paired,
                    "schema": SCHEMA_VERSION,
                }
            )
        )

    def spec_hash(self) -> str:
        return _digest(self.description(), 16).hex()


def run_seeds(sweep_seed: int, repeat: int, coords: Mapping[str, Any] | None) -> tuple[int, int]:
    """(init_seed, seed) of a run: the first and second 8 bytes (little-endian) of the
    BLAKE2b-128 digest of the canonical JSON of {"sweep_seed", "repeat"} (paired sweeps)
    or {"sweep_seed", "repeat", "coords"} (``paired=False``)."""
    key: dict[str, Any] = {"sweep_seed": int(sweep_seed), "repeat": int(repeat)}
    if coords is not None:
        key["coords"] = dict(coords)
    d = _digest(key, 16)
    return int.from_bytes(d[:8], "little"), int.from_bytes(d[8:], "little")


def _check_keys(kind: str, keys: Sequence[str], where: str) -> None:
    known = kind_class(kind).sweep_types()
    for k in keys:
        if not isinstance(k, str):
            raise TypeError(f"{where} keys must be strings, got {k!r}")
        if k not in known:
            raise ValueError(
                f"unknown setting {k!r} in {where} for kind {kind!r}; "
                f"known: {', '.join(sorted(known))}"
            )


def make_spec(
    kind: Any,
    grid: Any,
    repeats: Any,
    seed: Any,
    settings: Mapping[str, Any],
    paired: bool = True,
) -> Spec:
    """Check a sweep's arguments (every message names the key) and list its runs."""
    cls = kind_class(kind)
    if grid is None:
        grid = {}
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid must be a dict of setting -> list of values, got {grid!r}")
    reps = check.integer("repeats", repeats, minimum=1)
    seed_i = check.seed("seed", seed)
    if not isinstance(paired, bool):
        raise TypeError(f"paired must be True or False, got {paired!r}")
    _check_keys(kind, list(grid), "grid")
    _check_keys(kind, list(settings), "settings")
    both = sorted(set(grid) & set(settings))
    if both:
        raise ValueError(f"{both[0]!r} is both fixed and swept: give it in grid or as a setting")
    for k in cls.sweep_fixed_only():
        if k in grid:
            raise ValueError(
                f"{k!r} cannot be swept (the Dataset's dimensions depend on it): give it fixed"
            )

    cgrid: dict[str, list[Any]] = {}
    for k, values in grid.items():
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(
            values, (Sequence, np.ndarray)
        ):
            raise TypeError(f"grid[{k!r}] must be a list of values, got {values!r}")
        if len(values) == 0:
            raise ValueError(f"grid[{k!r}] is empty")
        vals = [canonical(k, kind, v) for v in values]
        if len({_jsonable(v) for v in vals}) != len(vals):
            raise ValueError(f"grid[{k!r}] holds a value twice")
        cgrid[k] = vals
    fixed = {k: canonical(k, kind, v) for k, v in settings.items()}

    given = set(fixed) | set(cgrid)
    length_keys = cls.sweep_length()
    length = [k for k in length_keys if k in given]
    if length_keys and len(length) != 1:
        raise ValueError(
            f"give exactly one of {', '.join(map(repr, length_keys))} for kind {kind!r} "
            f"(fixed or swept), got {length or 'none'}"
        )
    for k in cls.sweep_required():
        if k not in given:
            raise ValueError(f"setting {k!r} is required for kind {kind!r}")
    count = reps * math.prod(len(v) for v in cgrid.values())
    if count > MAX_RUNS:
        raise ValueError(
            f"the sweep has {count} runs ({' × '.join(str(len(v)) for v in cgrid.values())}"
            f"{' × ' if cgrid else ''}repeats = {reps}), more than the {MAX_RUNS} one sweep "
            "may hold; ask for fewer repeats or grid values"
        )
    guard.memory(f"a sweep of {count} runs", count * RUN_BYTES, fewer="repeats or grid values")
    full_fixed = {**cls.sweep_defaults(), **fixed}
    for k in cgrid:
        full_fixed.pop(k, None)

    runs: list[Run] = []
    keys = list(cgrid)
    for idx in itertools.product(*(range(len(v)) for v in cgrid.values())):
        coords = {k: cgrid[k][i] for k, i in zip(keys, idx, strict=True)}
        # One dict for the runs of a cell: checked once per chunk (runs.check_run).
        run_settings = {**full_fixed, **coords}
        # The run's hash is that of the canonical JSON of {"schema", "kind", "settings",
        # "coords", "repeat", "init_seed", "seed"} (sorted keys); the cell's parts are
        # encoded once (test_sweep.py checks the text equals _jsonable's).
        head = f'{{"coords":{_jsonable(coords)},"init_seed":'
        kind_part = f',"kind":{_jsonable(kind)},"repeat":'
        schema_part = f',"schema":{SCHEMA_VERSION},"seed":'
        settings_part = f',"settings":{_jsonable(run_settings)}}}'

        for r in range(reps):
            init_seed, data_seed = run_seeds(seed_i, r, None if paired else coords)
            text = f"{head}{init_seed}{kind_part}{r}{schema_part}{data_seed}{settings_part}"
            h = hashlib.blake2b(text.encode(), digest_size=8).digest()
            runs.append(
                Run(
                    index=(*idx, r),
                    coords=coords,
                    repeat=r,
                    settings=run_settings,
                    init_seed=init_seed,
                    seed=data_seed,
                    run_hash=int.from_bytes(h, "little"),
                )
            )
    return Spec(kind, full_fixed, cgrid, reps, seed_i, paired, runs)


def call_key(spec: Spec, run: Run) -> str:
    """Runs with equal keys can share one ensemble call."""
    return _jsonable({k: run.settings.get(k) for k in kind_class(spec.kind).sweep_per_call()})
