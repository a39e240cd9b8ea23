"""The activations of docs/maths/model.md#activations, by name."""

from __future__ import annotations

from typing import Literal

from . import _validate as check

ActivationName = Literal["cubic", "ramp", "relu"]

#: ``cubic``: the paper's C¹ sigmoid (default); ``ramp``: clip(z + ½, 0, 1), the
#: authors' first version; ``relu``: max(z, 0), which ignores η (appendix).
ACTIVATIONS: tuple[str, ...] = ("cubic", "ramp", "relu")


def check_activation(activation: object) -> str:
    return check.choice("activation", activation, ACTIVATIONS)
