"""Activations, targets and the network: C++ core against ttnn.reference and
finite differences (docs/maths/model.md)."""

import numpy as np
import pytest
from scipy.integrate import quad

import ttnn
from ttnn import _core
from ttnn import reference as ref

ACTS = ["cubic", "ramp", "relu"]


@pytest.mark.parametrize("act", ACTS)
def test_activation_matches_reference(act):
    z = np.linspace(-0.02, 0.02, 4001)
    eta = 0.013
    # Same formulas, evaluated in a different order: equal to rounding.
    np.testing.assert_allclose(
        _core.sigma_eta(z, eta, act), ref.sigma_eta(z, eta, act), rtol=0, atol=1e-15
    )
    np.testing.assert_allclose(
        _core.dsigma_eta(z, eta, act), ref.dsigma_eta(z, eta, act), rtol=1e-15, atol=1e-15
    )


@pytest.mark.parametrize("act", ACTS)
def test_dsigma_is_derivative(act):
    eta = 0.05
    # Away from the kinks of ramp and relu, where the derivative is one-sided.
    z = np.array([-0.6, -0.3, -0.11, -0.01, 0.013, 0.2, 0.41, 0.7]) * eta
    d = 1e-7 * eta
    fd = (_core.sigma_eta(z + d, eta, act) - _core.sigma_eta(z - d, eta, act)) / (2 * d)
    np.testing.assert_allclose(_core.dsigma_eta(z, eta, act), fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("act", ["cubic", "ramp"])
def test_sigma_is_a_smooth_step(act):
    eta = 0.1
    total, _ = quad(
        lambda z: _core.dsigma_eta(np.array([z]), eta, act)[0],
        -eta,
        eta,
        points=[-eta / 2, 0, eta / 2],
    )
    assert abs(total - 1) < 1e-12
    s = _core.sigma_eta(np.array([-eta / 2, 0.0, eta / 2, -1.0, 1.0]), eta, act)
    np.testing.assert_allclose(s, [0, 0.5, 1, 0, 1], atol=1e-15)


def test_cubic_is_c1():
    # σ′ is continuous: no jump at −½, 0, ½ (the ramp has jumps there).
    for z0 in (-0.5, 0.0, 0.5):
        left = _core.dsigma_eta(np.array([z0 - 1e-9]), 1.0, "cubic")[0]
        right = _core.dsigma_eta(np.array([z0 + 1e-9]), 1.0, "cubic")[0]
        assert abs(left - right) < 1e-6


def test_target_matches_reference_and_definition():
    t = ttnn.PiecewiseConstant.paper()
    x = np.concatenate([np.linspace(0, 1, 1001), t.breaks])
    expected = t.values[0] + sum(d * (x > v) for d, v in zip(t.jumps, t.breaks, strict=True))
    np.testing.assert_array_equal(t(x), expected)
    np.testing.assert_array_equal(t(x), ref.target_eval(t.breaks, t.values, x))
    assert ttnn.PiecewiseConstant.paper("text").values.tolist() == [1, 4, 1, 2, 1, 4]


def test_target_table_cells_holding_a_break():
    # The core reads f* from a table of 256 equal cells over [0, 1) and counts the
    # breaks instead in a cell that holds one. Breaks on a cell's left edge (0.25 =
    # 64/256, 255/256), inside a cell, and two in one cell; x on every cell edge, on
    # and one ulp around every break, and outside [0, 1).
    breaks = np.array([0.25, 0.3, 0.5 + 2**-10, 0.5 + 2**-9, 255 / 256])
    values = np.array([0.5, -1.0, 2.0, 3.0, -4.0, 7.0])
    t = ttnn.PiecewiseConstant(breaks, values)
    x = np.concatenate(
        [
            np.arange(257) / 256,
            breaks,
            np.nextafter(breaks, 0.0),
            np.nextafter(breaks, 1.0),
            np.random.default_rng(0).random(10_000),
            [-0.5, -0.0, np.nextafter(1.0, 0.0), 1.5, 1e300],
        ]
    )
    # f*(x) = values[#{i : v_i < x}]
    np.testing.assert_array_equal(t(x), values[np.searchsorted(breaks, x, side="left")])


@pytest.mark.parametrize("act", ACTS)
def test_network_matches_reference(act):
    rng = np.random.default_rng(1)
    u = rng.uniform(-0.2, 1.2, 15)
    a = rng.normal(size=16)
    net = ttnn.Network(a, u, eta=0.03, activation=act)
    x = rng.uniform(-0.1, 1.1, 500)
    np.testing.assert_allclose(net(x), ref.forward(a, u, 0.03, x, act), rtol=0, atol=1e-13)
    for xi in x[:20]:
        ga, gu = net.gradient(xi)
        ra, ru = ref.sample_gradient(a, u, 0.03, xi, act)
        np.testing.assert_allclose(ga, ra, atol=1e-14)
        np.testing.assert_allclose(gu, ru, atol=1e-12)


@pytest.mark.parametrize("act", ACTS)
def test_sample_gradient_matches_finite_differences(act):
    rng = np.random.default_rng(2)
    m, eta = 6, 0.2
    u = np.sort(rng.uniform(0, 1, m))
    a = rng.normal(size=m + 1)
    x = 0.47
    # Keep x off the kinks of ramp/relu so that central differences are valid.
    u[np.abs(x - u) < 0.02] += 0.05
    u[np.abs(np.abs(x - u) - eta / 2) < 0.02] += 0.05
    net = ttnn.Network(a, u, eta, act)
    ga, gu = net.gradient(x)
    d = 1e-6
    for j in range(m + 1):
        e = np.zeros(m + 1)
        e[j] = d
        fd = (net.replace(a=a + e)(x) - net.replace(a=a - e)(x)) / (2 * d)
        assert abs(ga[j] - fd) < 1e-8
    for j in range(m):
        e = np.zeros(m)
        e[j] = d
        fd = (net.replace(u=u + e)(x) - net.replace(u=u - e)(x)) / (2 * d)
        assert abs(gu[j] - fd) < 1e-6 * max(1, abs(gu[j]))


def test_network_init_is_the_papers():
    net = ttnn.Network.init(m=20, eta=4e-3, seed=3)
    assert net.m == 20 and np.all(net.a == 0)
    assert np.all(np.diff(net.u) >= 0) and np.all((net.u >= 0) & (net.u < 1))
    np.testing.assert_array_equal(net.u, ttnn.Network.init(20, 4e-3, seed=3).u)
    assert not np.array_equal(net.u, ttnn.Network.init(20, 4e-3, seed=4).u)
