"""Messages that name the right argument, written once in ttnn._validate."""

from __future__ import annotations

import numpy as np
import pytest

import ttnn

T = ttnn.PiecewiseConstant.paper()
NET = ttnn.Network.init(5, 0.01, seed=0)


def _msg(fn) -> str:
    with pytest.raises(ValueError) as info:
        fn()
    return str(info.value)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: ttnn.sgd(NET, T, h=1e-3, steps=0), "steps"),
        (lambda: ttnn.sgd(NET, T, h=1e-3, steps=0, snapshots=5), "steps"),
        (lambda: ttnn.snapshot_steps(0, 2), "steps"),
        (lambda: ttnn.sgd_ensemble([NET, NET], T, h=1e-3, steps=[4, 0]), "min(steps)"),
        (
            lambda: ttnn.full_batch_gd(
                ttnn.AdditiveNetwork.init_paper(d=1, m=2),
                np.ones((3, 1)),
                np.ones(3),
                step_a=1.0,
                step_u=1.0,
                epochs=0,
            ),
            "epochs",
        ),
    ],
)
def test_zero_steps_is_a_steps_problem(call, name: str) -> None:
    msg = _msg(call)
    assert msg.startswith(f"{name} must be >= 1"), msg
    assert "snapshots" not in msg.split("(")[0]


def test_snapshots_out_of_range_still_names_snapshots() -> None:
    assert _msg(lambda: ttnn.sgd(NET, T, h=1e-3, steps=3, snapshots=5)).startswith(
        "snapshots must be in [2, steps + 1] = [2, 4]"
    )
    assert _msg(lambda: ttnn.snapshot_steps(3, 1)).startswith("snapshots must be in")


def test_divergence_message_prints_h_briefly() -> None:
    with pytest.raises(ttnn.DivergenceError) as info:
        ttnn.sgd(NET, T, h=1e300, steps=10, noise=None)
    msg = str(info.value)
    assert "h = 1e+300" in msg, msg
    assert len(msg) < 150, msg
    with pytest.raises(ttnn.DivergenceError) as info:
        ttnn.sgd(NET, T, h=1.0 / 3.0 * 1e200, steps=10, noise=None)
    assert "h = 3.33333e+199" in str(info.value)


@pytest.mark.parametrize(
    "call, exc, text",
    [
        (lambda: ttnn.Network.init(3, 0.01, activation="tanh"), ValueError, "activation must be"),
        (lambda: ttnn.Network.init(3, 0.01, activation=1), TypeError, "activation must be"),
        (lambda: ttnn.two_timescale_limit(NET, T, 0.1, eta=0), TypeError, "eta must be"),
        (
            lambda: ttnn.sgd_ensemble([NET], T, h=1e-3, steps=2, on_error="ignore"),
            ValueError,
            "on_error must be 'raise' or 'record'",
        ),
    ],
)
def test_choices_name_the_argument(call, exc: type[Exception], text: str) -> None:
    with pytest.raises(exc, match=text):
        call()
