"""The activations of docs/maths/model.md#activations, by name."""

from __future__ import annotations

from typing import Literal

ActivationName = Literal["cubic", "ramp", "relu"]

#: ``cubic``: the paper's C¹ sigmoid (default); ``ramp``: clip(z + ½, 0, 1), the
#: authors' first version; ``relu``: max(z, 0), which ignores η (appendix).
ACTIVATIONS: tuple[str, ...] = ("cubic", "ramp", "relu")


def check_activation(activation: object) -> str:
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a string, got {type(activation).__name__}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    return activation
