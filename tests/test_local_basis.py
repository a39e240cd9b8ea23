"""a*(u) through the banded local basis (docs/maths/local_basis.md): the C++ banded
path against the dense minimum-norm path, numpy.linalg.lstsq and the NumPy banded twin;
the fallback to the dense path when the banded system is singular; the condition
estimate."""

import numpy as np
import pytest

import ttnn
from ttnn import _core
from ttnn import reference as ref

TGT = ttnn.PiecewiseConstant([0.2, 0.35, 0.5, 0.65, 0.8], [1, 5, 1, 3, 1, 5])


def spread_u(m, rng, lo=0.0, hi=1.0):
    """Jittered grid on [lo, hi]: neurons at least ~0.4 spacing apart, so a*(u) is
    well conditioned (random uniform u has pairs ~1/m² apart)."""
    step = (hi - lo) / m
    return lo + step * (np.arange(m) + 0.5 + 0.3 * rng.uniform(-1, 1, m))


def lstsq_outer(u, eta, act, ridge, target=TGT):
    g, b = ref.gram_system(u, eta, *ref_target(target), act)
    return np.linalg.lstsq(g + ridge * np.eye(len(b)), b, rcond=1e-12)[0]


def ref_target(target):
    if isinstance(target, ttnn.PiecewiseConstant):
        return np.asarray(target.breaks), np.asarray(target.values)
    return ref.Teacher(
        np.asarray(target.a), np.asarray(target.u), target.eta, target.activation
    ), None


CASES = [
    # (m, eta * m, lo, hi): eta * m is how many windows overlap (0.3: none, 4: four).
    # a*(u) is compared with the dense solve of G a = b, whose own rounding error is
    # about cond(G) · 1e-16, and cond(G) grows like m² · cond(H): the cases are chosen
    # well conditioned (1-norm cond(G) < 1e7, asserted), where 1e-10 is a fair bar for both.
    (1, 0.3, 0.0, 1.0),
    (2, 1.0, 0.0, 1.0),
    (7, 2.5, -0.05, 1.05),  # windows cross 0 and 1
    (20, 0.3, 0.0, 1.0),
    (60, 2.0, 0.0, 1.0),
    (40, 2.0, -0.01, 1.01),  # the end neurons just outside, windows reaching in
    (150, 1.0, 0.0, 1.0),
    (300, 0.5, 0.0, 1.0),
]


@pytest.mark.parametrize("act", ["cubic", "ramp"])
@pytest.mark.parametrize("m, overlap, lo, hi", CASES)
@pytest.mark.parametrize("ridge", [0.0, 1e-6])
def test_banded_equals_dense_and_lstsq(act, m, overlap, lo, hi, ridge):
    rng = np.random.default_rng(m)
    u = spread_u(m, rng, lo, hi)
    if lo < 0:  # the end neurons outside [0, 1], their windows reaching in
        u[0], u[-1] = lo, hi
    u = rng.permutation(u)  # unsorted on purpose
    eta = overlap / m
    assert lo >= 0 or (min(u) < 0 < min(u) + eta / 2 and max(u) - eta / 2 < 1 < max(u))
    net = ttnn.Network(np.zeros(m + 1), u, eta, act)
    a, cond, banded = _core.solve_outer(net._c, TGT._c, ridge)
    assert banded
    dense = _core.optimal_outer(net._c, TGT._c, ridge)
    want = lstsq_outer(u, eta, act, ridge)
    g, _ = ref.gram_system(u, eta, *ref_target(TGT), act)
    assert np.linalg.cond(g + ridge * np.eye(m + 1), 1) < 1e7  # a fair comparison
    scale = np.linalg.norm(want)
    assert np.linalg.norm(a - dense) <= 1e-10 * scale
    assert np.linalg.norm(a - want) <= 1e-10 * scale
    a_ref, cond_ref, banded_ref = ref.optimal_outer_banded(u, eta, *ref_target(TGT), act, ridge)
    assert banded_ref
    assert np.linalg.norm(a - a_ref) <= 1e-10 * scale
    # Hager's estimate is a lower bound, nearly always within a small factor.
    assert cond_ref / 10 <= cond <= cond_ref * (1 + 1e-8)


def test_banded_with_a_teacher_target():
    rng = np.random.default_rng(7)
    teacher = ttnn.Network(rng.normal(size=5), [0.2, 0.5, 0.55, 0.9], 0.05)
    u = spread_u(40, rng)
    net = ttnn.Network(np.zeros(41), u, 0.05)
    a, _, banded = _core.solve_outer(net._c, teacher._c, 0.0)
    assert banded
    want = lstsq_outer(u, 0.05, "cubic", 0.0, teacher)
    assert np.linalg.norm(a - want) <= 1e-10 * np.linalg.norm(want)


def test_local_basis_identities():
    """H = Dᵀ G D and β = Dᵀ b (sorted neurons), built independently from ψ."""
    rng = np.random.default_rng(3)
    u = rng.permutation(spread_u(25, rng))
    eta = 0.1
    h, beta, order = ref.local_system(u, eta, *ref_target(TGT), "cubic")
    g, b = ref.gram_system(u[order], eta, *ref_target(TGT), "cubic")
    n = len(b)
    d = np.eye(n) - np.eye(n, k=-1)  # a = D c
    np.testing.assert_allclose(h, d.T @ g @ d, atol=1e-13)
    np.testing.assert_allclose(beta, d.T @ b, atol=1e-13)
    # Banded: zero beyond 1 + the largest run of neurons within eta of each other.
    i, j = np.nonzero(np.abs(h) > 0)
    assert np.max(np.abs(i - j)) <= 1 + int(np.ceil(eta * 25 / 0.4))


@pytest.mark.parametrize("act", ["cubic", "ramp"])
def test_singular_local_system_falls_back_to_the_dense_minimum_norm(act):
    """A neuron whose window misses [0, 1] or two coinciding neurons make ψ_k ≡ 0:
    H is singular, and a*(u) must be the dense path's minimum-norm solution."""
    rng = np.random.default_rng(11)
    for u in (
        np.concatenate((spread_u(10, rng), [-0.3])),
        np.concatenate((spread_u(10, rng), [1.4, 1.5])),
        np.concatenate((spread_u(10, rng), [0.55])),
    ):
        u = u.copy()
        if len(u) == 11 and u[-1] == 0.55:
            u[-1] = u[5]  # coinciding
        net = ttnn.Network(np.zeros(len(u) + 1), u, 0.05, act)
        a, cond, banded = _core.solve_outer(net._c, TGT._c, 0.0)
        assert not banded
        assert cond > 1e12
        want = lstsq_outer(u, 0.05, act, 0.0)
        assert np.linalg.norm(a - want) <= 1e-9 * np.linalg.norm(want)
        a_ref, _, banded_ref = ref.optimal_outer_banded(u, 0.05, *ref_target(TGT), act)
        assert not banded_ref
        np.testing.assert_allclose(a_ref, want, rtol=0, atol=1e-12 * np.linalg.norm(want))


def test_relu_uses_the_dense_path():
    u = np.array([0.1, 0.4, 0.7])
    net = ttnn.Network(np.zeros(4), u, 0.1, "relu")
    a, cond, banded = _core.solve_outer(net._c, TGT._c, 0.0)
    assert not banded and np.isfinite(cond)
    np.testing.assert_allclose(a, lstsq_outer(u, 0.1, "relu", 0.0), rtol=1e-9)
