"""The exact loss and its gradient on the path that shares its parts out over threads
(16+ parts of 4096 pieces, docs/guide/threads.md#loss): the whole call (sort, sweep
points, the parts' own suffix sums chained in part order, the final pass by blocks of
neurons) gives the same bits for threads = 1, 2, 3, and matches ``ttnn.reference``.

The reference is the plain O(nodes · m) formulas, too slow at the ~7·10⁴ pieces this
path needs; here all but a few dozen a_j are zero, so f costs only those neurons,
while every neuron still cuts [0, 1] into pieces (the pieces do not depend on a), and
the gradient is checked on a sample of neurons, zero and non-zero.

Tolerances from conditioning: f on a piece is within δ = 64 ε·scale of the exact f, as
in tests/test_loss_large.py. The split path sums ∫ r over the pieces right of a point
in two stages: within its part (≤ 4096 terms), then the parts' sums, right to left
(≤ parts terms); recursive summation of n terms is within (n − 1) ε Σ |terms| of the
exact sum, and Σ |∫ r over a piece| ≤ ∫ |r| ≤ max |r| = R. So a tail integral is within
(4096 + parts) ε R, plus δ from f, and ∇ gets twice that (σ′ ≤ 2/η for ∂/∂u; relu's
moment ∫ r (x − p) is bounded by R as well, x − p ≤ 1). The reference's own sums
over ~3·10⁵ nodes add at most (nodes) ε R to that.
"""

import numpy as np
import pytest

import ttnn
from ttnn import reference as ref
from ttnn.reference.activation import dsigma_eta
from ttnn.reference.network import features as ref_features
from ttnn.reference.target import target_eval

EPS = np.finfo(float).eps
PART, SPLIT_FROM = 4096, 16


def sparse_net(rng, act, m, eta, nonzero=60):
    """m neurons in [−0.05, 1.05] (unsorted, some coincident), all but `nonzero` a_j zero."""
    u = rng.uniform(-0.05, 1.05, m)
    u[: m // 20] = rng.choice(u[m // 20 :], m // 20)
    a = np.zeros(m + 1)
    a[0] = 0.3
    a[1 + rng.choice(m, nonzero, replace=False)] = rng.normal(size=nonzero)
    return ttnn.Network(a, u, eta, act)


@pytest.mark.parametrize(("act", "m"), [("cubic", 24_000), ("ramp", 24_000), ("relu", 80_000)])
def test_split_path_matches_reference(act, m):
    rng = np.random.default_rng(len(act))
    net = sparse_net(rng, act, m, 4e-3)
    target = ttnn.PiecewiseConstant.paper()
    pts = ref.breakpoints(net.u, net.eta, target.breaks, act)
    parts = -(-(pts.size - 1) // PART)
    assert parts >= SPLIT_FROM  # the size takes the split path
    x, w = ref.gauss_legendre_nodes(pts)
    on = np.flatnonzero(net.a[1:])
    zero = rng.choice(np.flatnonzero(net.a[1:] == 0), 60, replace=False)
    j = np.r_[on, zero]
    r = np.empty_like(x)
    r_ga, r_gu = np.zeros(j.size), np.zeros(j.size)
    for i in range(0, x.size, 16384):  # blocks of nodes: (nodes × 120) at once is 0.3 GB
        xs, ws = x[i : i + 16384], w[i : i + 16384]
        rs = ref.forward(np.r_[net.a[0], net.a[1:][on]], net.u[on], net.eta, xs, act)
        rs -= target_eval(target.breaks, target.values, xs)
        r[i : i + 16384] = rs
        r_ga += 2.0 * (ws * rs) @ ref_features(net.u[j], net.eta, xs, act)[:, 1:]
        r_gu += (ws * rs) @ dsigma_eta(xs[:, None] - net.u[j], net.eta, act)
    r_gu *= -2.0 * net.a[1:][j]
    r_loss = float(np.sum(w * r**2))

    loss, ga, gu = ttnn.l2_gradient(net, target, threads=1)
    scale_w = 2.0 + np.abs(net.u) if act == "relu" else np.ones(m)
    scale = abs(net.a[0]) + np.sum(np.abs(net.a[1:]) * scale_w) + np.max(np.abs(target.values))
    delta = 64 * EPS * scale
    R = float(np.max(np.abs(r)))
    tail = (PART + parts + x.size) * EPS * R + delta  # a tail integral ∫ r (relu: and r (x − p))
    assert abs(loss - r_loss) <= 2 * delta * np.sqrt(r_loss) + delta**2 + x.size * EPS * r_loss
    assert abs(ga[0] - 2.0 * np.sum(w * r)) <= 2 * tail
    assert np.max(np.abs(ga[1:][j] - r_ga)) <= 2 * tail
    dmax = 2.0 / net.eta if act != "relu" else 1.0
    assert np.all(np.abs(gu[j] - r_gu) <= 2 * np.abs(net.a[1:][j]) * tail * dmax)
    assert np.all(gu[zero] == 0.0)


def _all_bits(net, target, threads):
    loss = ttnn.l2_error(net, target, threads=threads)
    g = ttnn.l2_gradient(net, target, threads=threads)
    return loss, g[0], g[1], g[2]


@pytest.mark.parametrize("act", ["cubic", "relu"])
@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_split_path_same_bits_for_threads_1_2_3(act, order):
    # Network.init's u is sorted (the sort is skipped); reversed, every block of the
    # sort is merged with the others. A teacher target sweeps a second network too.
    m = 24_000 if act != "relu" else 70_000
    net = ttnn.Network.init(m, 4e-3, seed=2, activation=act)
    if order == "reversed":
        net = ttnn.Network(net.a[::-1].copy(), net.u[::-1].copy(), net.eta, act)
    teacher = ttnn.Network.init(3000, 0.02, seed=3, activation="ramp")
    for target in (ttnn.PiecewiseConstant.paper(), teacher):
        base = _all_bits(net, target, 1)
        for threads in (2, 3):
            got = _all_bits(net, target, threads)
            assert got[0] == base[0] and got[1] == base[1]
            assert np.array_equal(got[2], base[2]) and np.array_equal(got[3], base[3])


def test_split_path_is_the_permuted_network():
    # The gradient belongs to the neurons, not to their order: permuting the neurons
    # permutes the gradient, bit for bit (the sort puts them back in the same order).
    rng = np.random.default_rng(9)
    net = ttnn.Network.init(24_000, 4e-3, seed=4)
    a = rng.normal(size=net.m + 1)
    perm = rng.permutation(net.m)
    one = ttnn.Network(a, net.u, net.eta, "cubic")
    two = ttnn.Network(np.r_[a[0], a[1:][perm]], net.u[perm], net.eta, "cubic")
    target = ttnn.PiecewiseConstant.paper()
    g1, g2 = ttnn.l2_gradient(one, target, threads=2), ttnn.l2_gradient(two, target, threads=2)
    assert g1[0] == g2[0]
    assert np.array_equal(g1[1][1:][perm], g2[1][1:]) and g1[1][0] == g2[1][0]
    assert np.array_equal(g1[2][perm], g2[2])
