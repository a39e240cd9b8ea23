"""The shape of a kind of run (ttnn._kind): settings from a mapping, validation once,
the registry, and the one ensemble path with its failure modes (on a made-up kind, so
that the machinery is tested apart from any core)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

import ttnn
from ttnn import _kind
from ttnn import _validate as check


@dataclasses.dataclass(frozen=True)
class Toy(_kind.Kind):
    """A kind whose 'core' squares x, failing for x < 0."""

    name: ClassVar[str] = "toy"
    x: float
    steps: int = 3

    validated: ClassVar[list[int]] = []

    def validate(self) -> None:
        Toy.validated.append(1)
        self._set("x", check.real("x", self.x))
        self._set("steps", check.integer("steps", self.steps, minimum=1))

    @property
    def length(self) -> int:
        return self.steps

    @classmethod
    def call(cls, runs: Sequence[Any], context: Any, threads: int, progress: Any) -> list[Any]:
        calls.append((len(runs), context, threads))
        return [ValueError("negative x") if r.x < 0 else r.x**2 for r in runs]

    @classmethod
    def wrap(cls, run: Any, raw: Any, context: Any) -> tuple[float, float]:
        return (run.x, raw + context)


calls: list[tuple[int, Any, int]] = []


def test_settings_defaults_and_from_settings() -> None:
    assert Toy.setting_names() == ("x", "steps")
    assert Toy.defaults() == {"steps": 3}
    assert Toy.required() == ("x",)
    t = Toy.from_settings({"x": 2, "steps": 5.0})
    # Normalised once, at construction: an int x becomes a float, 5.0 steps an int.
    assert t == Toy(2.0, 5) and isinstance(t.x, float) and isinstance(t.steps, int)
    assert Toy.from_settings(t.settings()) == t
    with pytest.raises(TypeError, match=r"unknown setting\(s\) \['bogus', 'z'\].*'toy'"):
        Toy.from_settings({"x": 1, "z": 1, "bogus": 2})
    with pytest.raises(TypeError, match=r"missing setting\(s\) \['x'\]"):
        Toy.from_settings({"steps": 2})
    with pytest.raises(TypeError, match="settings must be a mapping"):
        Toy.from_settings([("x", 1)])  # type: ignore[arg-type]


def test_validated_once_naming_the_argument_and_frozen() -> None:
    Toy.validated.clear()
    t = Toy(1.0)
    assert Toy.validated == [1]
    with pytest.raises(ValueError, match="steps must be >= 1"):
        Toy(1.0, steps=0)
    with pytest.raises(TypeError, match="x must be a real number"):
        Toy("a")  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.x = 3.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="steps"):
        t.replace(steps=-1)
    assert t.replace(steps=7).steps == 7
    assert Toy.work([Toy(1.0, 2), Toy(1.0, 5)]) == 7


def test_run_ensemble_results_and_errors() -> None:
    calls.clear()
    runs = [Toy(1.0), Toy(-1.0), Toy(3.0)]
    out = _kind.run_ensemble(Toy, runs, 10.0, on_error="record", threads=2)
    assert calls == [(3, 10.0, 2)]  # one core call for the whole ensemble
    assert out[0] == (1.0, 11.0) and out[2] == (3.0, 19.0)
    err = out[1]
    assert isinstance(err, ValueError) and str(err) == "run 1: negative x"
    with pytest.raises(ValueError, match="run 1: negative x"):
        _kind.run_ensemble(Toy, runs, 0.0)


@pytest.mark.parametrize(
    ("kw", "exc", "name"),
    [
        (dict(runs=[]), ValueError, "runs"),
        (dict(runs="ab"), TypeError, "runs"),
        (dict(runs=[1.0]), TypeError, r"runs\[0\]"),
        (dict(on_error="ignore"), ValueError, "on_error"),
        (dict(threads=0), ValueError, "threads"),
        (dict(progress="yes"), TypeError, "progress"),
    ],
)
def test_run_ensemble_checks_before_work(kw: dict, exc: type, name: str) -> None:
    calls.clear()
    args: dict[str, Any] = dict(runs=[Toy(1.0)], on_error="raise", threads=None, progress=False)
    args.update(kw)
    runs = args.pop("runs")
    with pytest.raises(exc, match=name):
        _kind.run_ensemble(Toy, runs, 0.0, **args)
    assert calls == []


def test_registry() -> None:
    assert _kind.KINDS["circle"] is ttnn.circle.CircleRun
    assert _kind.kind("circle") is ttnn.circle.CircleRun
    with pytest.raises(ValueError, match="kind must be"):
        _kind.kind("nope")
    with pytest.raises(ValueError, match="already registered"):
        _kind.register(ttnn.circle.CircleRun)
    try:
        _kind.register(Toy)
        assert _kind.kind("toy") is Toy
    finally:
        del _kind.KINDS["toy"]
