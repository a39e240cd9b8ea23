"""One name per thing (issue 21): the limit's switch is ``limit`` everywhere; its
former names (``eta=`` of two_timescale_limit, ``LimitResult.kind``) still work,
with a DeprecationWarning, and results saved under the old name still load."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import ttnn

TGT = ttnn.PiecewiseConstant.paper()
U = np.array([0.1, 0.15, 0.3, 0.32, 0.4, 0.45, 0.55, 0.6, 0.7, 0.75, 0.85, 0.9])


def _net() -> ttnn.Network:
    return ttnn.Network(np.zeros(len(U) + 1), U, 0.01)


def test_limit_is_the_switch_and_eta_its_deprecated_name() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name warns of nothing
        new = ttnn.two_timescale_limit(_net(), TGT, 0.01, limit="zero", snapshots=3)
        default = ttnn.two_timescale_limit(_net(), TGT, 0.01, snapshots=3)
    assert new.limit == "zero" and default.limit == "finite"
    with pytest.warns(DeprecationWarning, match="pass limit="):
        old = ttnn.two_timescale_limit(_net(), TGT, 0.01, eta="zero", snapshots=3)
    assert old == new
    with pytest.warns(DeprecationWarning, match="use LimitResult.limit"):
        assert new.kind == "zero"
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="not both"):
        ttnn.two_timescale_limit(_net(), TGT, 0.01, limit="zero", eta="zero")
    with pytest.raises(ValueError, match="limit must be 'finite' or 'zero', got 'half'"):
        ttnn.two_timescale_limit(_net(), TGT, 0.01, limit="half")
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="eta must be"):
        ttnn.two_timescale_limit(_net(), TGT, 0.01, eta="half")


def test_a_result_saved_under_the_old_name_loads(tmp_path: Path) -> None:
    res = ttnn.two_timescale_limit(_net(), TGT, 0.01, limit="zero", snapshots=3)
    path = tmp_path / "lim.npz"
    res.save(path)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    attrs = json.loads(str(arrays.pop("__attrs__")))
    assert attrs["fields"]["limit"] == "zero"
    # A file written before the rename holds the field as "kind".
    attrs["fields"]["kind"] = attrs["fields"].pop("limit")
    old = tmp_path / "old.npz"
    np.savez(old, __attrs__=np.array(json.dumps(attrs)), **arrays)
    assert ttnn.load(old) == res
