"""The exact population loss and its gradient: against adaptive quadrature,
ttnn.reference and finite differences (docs/maths/model.md#the-loss)."""

import numpy as np
import pytest
from scipy.integrate import quad

import ttnn
from ttnn import reference as ref

ACTS = ["cubic", "ramp", "relu"]


def random_net(rng, act, m=12, eta=None):
    eta = rng.choice([4e-3, 0.05, 0.3]) if eta is None else eta
    u = rng.uniform(-0.3, 1.3, m)  # some neurons outside [0, 1]
    u[:3] = u[3] + rng.uniform(-eta / 3, eta / 3, 3)  # overlapping windows
    a = rng.normal(scale=2.0, size=m + 1)
    return ttnn.Network(a, u, eta, act)


def quad_l2(net, target):
    pts = np.concatenate([target.breaks, net.u, net.u - net.eta / 2, net.u + net.eta / 2])
    pts = np.unique(np.clip(np.concatenate([[0.0, 1.0], pts]), 0, 1))
    total = 0.0
    for lo, hi in zip(pts[:-1], pts[1:], strict=True):
        if hi > lo:
            v, _ = quad(
                lambda x: (target(x) - net(x)) ** 2, lo, hi, epsabs=1e-14, epsrel=1e-13, limit=200
            )
            total += v
    return total


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("seed", range(4))
def test_l2_error_equals_adaptive_quadrature(act, seed):
    rng = np.random.default_rng(seed)
    net = random_net(rng, act)
    target = ttnn.PiecewiseConstant.paper()
    exact = ttnn.l2_error(net, target)
    assert abs(exact - quad_l2(net, target)) <= 1e-11 * max(1.0, exact)
    assert abs(
        exact - ref.l2_error(net.a, net.u, net.eta, target.breaks, target.values, act)
    ) <= 1e-12 * max(1.0, exact)


def test_l2_error_of_steps_placed_on_the_breaks_is_known_in_closed_form():
    # Neurons on the breaks with a_j = Δ_j: the error sits in the windows only.
    t = ttnn.PiecewiseConstant.paper()
    for eta in (1e-2, 1e-3):
        net = ttnn.Network(np.concatenate([[t.values[0]], t.jumps]), t.breaks, eta)
        err = ttnn.l2_error(net, t)
        # ∫ over each window of (Δ(1[z>0] − σ))², exactly Δ² η · 2∫_0^½ (4(½−z)³)² dz.
        expected = np.sum(t.jumps**2) * eta * 2 * 16 * 0.5**7 / 7
        assert abs(err - expected) < 1e-12


@pytest.mark.parametrize("act", ACTS)
def test_population_gradient_matches_finite_differences_and_reference(act):
    rng = np.random.default_rng(7)
    net = random_net(rng, act, m=8, eta=0.1)
    t = ttnn.PiecewiseConstant.paper()
    loss, ga, gu = ttnn.l2_gradient(net, t)
    assert loss == pytest.approx(ttnn.l2_error(net, t), rel=1e-13)
    ra, ru = ref.l2_gradient(net.a, net.u, net.eta, t.breaks, t.values, act)
    np.testing.assert_allclose(ga, ra, atol=1e-11)
    np.testing.assert_allclose(gu, ru, atol=1e-10)
    d = 1e-6
    for j in range(net.m + 1):
        e = np.zeros(net.m + 1)
        e[j] = d
        fd = (
            ttnn.l2_error(net.replace(a=net.a + e), t) - ttnn.l2_error(net.replace(a=net.a - e), t)
        ) / (2 * d)
        assert abs(ga[j] - fd) < 1e-7
    for j in range(net.m):
        e = np.zeros(net.m)
        e[j] = d
        fd = (
            ttnn.l2_error(net.replace(u=net.u + e), t) - ttnn.l2_error(net.replace(u=net.u - e), t)
        ) / (2 * d)
        assert abs(gu[j] - fd) < 1e-6 * max(1.0, abs(fd))


def test_gradient_a_is_2_G_a_minus_b():
    rng = np.random.default_rng(8)
    net = random_net(rng, "cubic", m=10, eta=0.05)
    t = ttnn.PiecewiseConstant.paper()
    _, ga, _ = ttnn.l2_gradient(net, t)
    G, b = ref.gram_system(net.u, net.eta, t.breaks, t.values, "cubic")
    np.testing.assert_allclose(ga, 2 * (G @ net.a - b), atol=1e-11)
