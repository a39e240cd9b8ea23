"""Networks without neurons (m = 0, f = a_0) are handled everywhere: every public
entry point that takes a Network returns a finite, correct result (the constant
fit) or refuses with a ValueError naming the problem; none crashes."""

import numpy as np
import pytest

import ttnn

TGT = ttnn.PiecewiseConstant([0.25], [1.0, 3.0])  # mean 2.5, L(a_0 = 2.5) = 0.75
MEAN, BEST = 2.5, 0.75


@pytest.fixture(params=["cubic", "ramp", "relu"])
def empty(request):
    return ttnn.Network([0.0], [], 0.05, request.param)


def test_evaluation_and_loss(empty):
    assert empty.m == 0
    np.testing.assert_array_equal(empty(np.array([0.0, 0.5, 1.0])), [0.0, 0.0, 0.0])
    assert ttnn.l2_error(empty, TGT) == pytest.approx(1.0 * 0.25 + 9.0 * 0.75)
    loss, ga, gu = ttnn.l2_gradient(empty, TGT)
    assert ga == pytest.approx([2 * (0.0 - MEAN)]) and gu.shape == (0,)
    assert ttnn.diagnostics.neurons_outside(empty).shape == (0,)


def test_flow_converges_to_the_constant_fit(empty):
    r = ttnn.gradient_flow(empty, TGT, eps=1.0, t_end=20.0, snapshots=3)
    assert r.u.shape == (3, 0) and np.all(np.isfinite(r.a))
    # da_0/dt = −2 (a_0 − mean): a_0(t) = mean (1 − e^{−2t}).
    assert r.a[1, 0] == pytest.approx(MEAN * (1 - np.exp(-20.0)), rel=1e-7)
    assert r.l2[-1] == pytest.approx(BEST, rel=1e-7)


@pytest.mark.parametrize("method", ["rk45", "rosenbrock", "auto"])
def test_finite_limit_is_the_constant_fit(empty, method):
    r = ttnn.two_timescale_limit(empty, TGT, tau_end=1.0, snapshots=4, method=method)
    assert r.u.shape == (4, 0)
    np.testing.assert_allclose(r.a[:, 0], MEAN, rtol=1e-12)
    np.testing.assert_allclose(r.limit_loss, BEST, rtol=1e-12)
    with pytest.raises(ValueError, match="piece"):
        ttnn.two_timescale_limit(empty, TGT, tau_end=1.0, limit="zero")


def test_sgd_and_ensembles(empty):
    r = ttnn.sgd(empty, TGT, h=1e-2, eps=1.0, steps=2000, seed=0, snapshots=2)
    assert r.u.shape == (2, 0) and np.isfinite(r.a).all()
    assert abs(r.a[-1, 0] - MEAN) < 0.5
    runs = ttnn.sgd_ensemble([empty, empty], TGT, h=1e-2, eps=1.0, steps=100, seed=0)
    assert all(np.isfinite(x.a).all() for x in runs)


def test_breaks_covered_with_no_neuron(empty):
    assert not any(ttnn.breaks_covered(empty, TGT))
