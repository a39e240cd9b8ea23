"""What the sweep reads from each kind's class (ttnn._kind.setting metadata) equals the
per-kind tables the sweep held before issue 21, written out here: a default that
drifted would change every run's settings, hence its hash, and stores written before
would no longer resume."""

from __future__ import annotations

from typing import Any

import pytest

import ttnn
from ttnn._sweep.spec import defaults, kind_class, kinds
from ttnn.additive import GDCall
from ttnn.flow import FlowCall
from ttnn.limits import LimitCall
from ttnn.sgd import SGDCall

PAPER = {"breaks": [0.2, 0.35, 0.5, 0.65, 0.8], "values": [1.0, 5.0, 1.0, 3.0, 1.0, 5.0]}
COMMON = {"m": "int", "eta": "real", "activation": "str", "snapshots": "int"}
# The tables of python/ttnn/_sweep/spec.py before the kinds described themselves.
SETTINGS: dict[str, dict[str, str]] = {
    "sgd": {
        **COMMON,
        **dict(target="target", h="real", eps="real", steps="int", tau="real", noise="noise"),
        **dict(batch="int", n="int", epochs="int", shuffle="bool"),
    },
    "flow": {
        **COMMON,
        **dict(target="target", eps="real", t_end="real", tau="real", rtol="real"),
        **dict(atol="real", max_steps="int", method="str"),
    },
    "limit": {
        **COMMON,
        **dict(target="target", tau_end="real", tau="real", limit="str", ridge="real"),
        **dict(rtol="real", atol="real", max_steps="int", method="str"),
    },
    "gd": {
        **COMMON,
        **dict(target="str", d="int", n="int", step_a="real", step_u="real", epochs="int"),
        "loss": "str",
    },
}
ODE = {"rtol": 1e-8, "atol": 1e-10}
DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": dict(
        m=20,
        eta=4e-3,
        activation="cubic",
        snapshots=2,
        target=PAPER,
        eps=1.0,
        noise={"kind": "uniform", "scale": 1.0},
    ),
    "flow": dict(m=20, eta=4e-3, activation="cubic", snapshots=100, target=PAPER, eps=1.0, **ODE),
    "limit": dict(
        m=20,
        eta=4e-3,
        activation="cubic",
        snapshots=100,
        target=PAPER,
        limit="finite",
        ridge=0.0,
        **ODE,
    ),
    "gd": dict(
        m=10,
        eta=1e-2,
        activation="cubic",
        snapshots=2,
        target="staircase",
        d=2,
        n=1000,
        step_a=1.0,
        step_u=0.01,
    ),
}
OPTIONAL = {
    "sgd": {"batch", "n", "epochs", "shuffle"},
    "gd": {"loss"},
    "flow": {"max_steps", "method"},
    "limit": {"max_steps", "method"},
}
LENGTH = {
    "sgd": ("steps", "tau"),
    "flow": ("t_end", "tau"),
    "limit": ("tau_end", "tau"),
    "gd": ("epochs",),
}
REQUIRED = {"sgd": ("h",), "flow": (), "limit": (), "gd": ()}
PER_CALL = {
    "sgd": {"noise", "snapshots", "epochs", "shuffle"},
    "flow": {"snapshots", "rtol", "atol", "max_steps", "method"},
    "limit": {"limit", "ridge", "snapshots", "rtol", "atol", "max_steps", "method"},
    "gd": {"snapshots", "target", "loss"},
}


@pytest.mark.parametrize("kind", ["sgd", "flow", "limit", "gd"])
def test_the_kinds_describe_what_the_sweep_tables_held(kind: str) -> None:
    cls = kind_class(kind)
    assert cls.sweep_types() == SETTINGS[kind]
    assert defaults(kind) == DEFAULTS[kind]
    assert set(cls.sweep_optional()) == OPTIONAL[kind]
    assert cls.sweep_length() == LENGTH[kind]
    assert cls.sweep_required() == REQUIRED[kind]
    assert set(cls.sweep_per_call()) == PER_CALL[kind]
    assert cls.sweep_fixed_only() == ("target",)


def test_the_sweep_kinds() -> None:
    assert set(kinds()) == {"sgd", "flow", "limit", "gd", "circle"}
    with pytest.raises(ValueError, match="kind must be one of .*got 'nope'"):
        kind_class("nope")


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a sweep run went through the public functions' checks")


@pytest.mark.parametrize(
    ("kind", "call", "settings"),
    [
        ("sgd", SGDCall, dict(h=1e-2, steps=20, m=4)),
        ("sgd", SGDCall, dict(h=1e-2, steps=20, m=4, n=30, shuffle=True)),
        ("gd", GDCall, dict(epochs=5, m=3, n=20)),
        ("flow", FlowCall, dict(t_end=1.0, m=4)),
        ("limit", LimitCall, dict(tau_end=0.1, m=4)),
        ("limit", LimitCall, dict(tau_end=0.01, m=100, limit="zero")),
    ],
)
def test_a_sweep_run_is_checked_once(
    monkeypatch: pytest.MonkeyPatch, kind: str, call: type, settings: dict[str, Any]
) -> None:
    # The sweep checks each run's settings (Kind.validate, with the functions the
    # public path uses) and builds the call from them: the public checks never run.
    # The sweep's records then equal the public function's results (test_sweep_beyond,
    # test_hashes), so the call it builds is the one the public path would have.
    monkeypatch.setattr(call, "check", _refuse)
    grid = {"gd": {"step_u": [1e-2]}, "limit": {"ridge": [0.0]}}.get(kind, {"eps": [1.0]})
    ds = ttnn.sweep(kind, grid=grid, repeats=2, seed=1, threads=1, **settings)
    assert (ds.status.values == "ok").all()
