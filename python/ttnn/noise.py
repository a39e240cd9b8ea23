"""Label noise of online SGD: y = f*(x) + ξ (docs/maths/dynamics.md#online-sgd)."""

from __future__ import annotations

from dataclasses import dataclass

from . import _validate as check


@dataclass(frozen=True)
class UniformNoise:
    """ξ ~ U[−r, r] (the paper: r = 1)."""

    r: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "r", check.real("r", self.r, nonneg=True))


@dataclass(frozen=True)
class GaussianNoise:
    """ξ ~ N(0, s²)."""

    s: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "s", check.real("s", self.s, nonneg=True))


Noise = UniformNoise | GaussianNoise | None


def noise_spec(noise: object) -> tuple[str, float]:
    """(kind, scale) for the core."""
    if noise is None:
        return "none", 0.0
    if isinstance(noise, UniformNoise):
        return "uniform", noise.r
    if isinstance(noise, GaussianNoise):
        return "gaussian", noise.s
    raise TypeError(
        "noise must be ttnn.UniformNoise(r), ttnn.GaussianNoise(s) or None, "
        f"got {type(noise).__name__}"
    )
