"""Public diagnostics (breaks covered, neurons outside) and atomic file writes."""

import numpy as np
import pytest

import ttnn
from ttnn._io import atomic_path, write_text


def test_breaks_covered_by_hand():
    tgt = ttnn.PiecewiseConstant([0.2, 0.5, 0.8], [0, 1, 0, 1])
    net = ttnn.Network(np.zeros(4), [0.195, 0.53, 0.9], eta=0.01)  # tol 0.02
    assert ttnn.breaks_covered(net, tgt).tolist() == [True, False, False]
    assert ttnn.breaks_covered(net, tgt, tol=0.1).tolist() == [True, True, True]
    assert ttnn.breaks_covered(net.u, [0.5], tol=0.03).tolist() == [False]
    assert ttnn.breaks_covered(net.u, [0.5], tol=0.031).tolist() == [True]
    with pytest.raises(TypeError, match="tol"):
        ttnn.breaks_covered(net.u, tgt)
    with pytest.raises(ValueError, match="tol"):
        ttnn.breaks_covered(net, tgt, tol=-1.0)


def test_neurons_outside():
    net = ttnn.Network(np.zeros(6), [-0.1, 0.0, 0.5, 1.0, 1.2], eta=0.01)
    assert ttnn.neurons_outside(net).tolist() == [True, False, False, False, True]


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    dest = tmp_path / "m.json"
    write_text(dest, "old")
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary left behind
    write_text(dest, "new")
    assert dest.read_text() == "new"
