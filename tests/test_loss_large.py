"""The near-linear exact loss and gradient (docs/maths/exact-loss.md#cost) at sizes where the
sweep is cut into several parts, against ``ttnn.reference`` (the plain O(m · nodes) formulas)
and adaptive quadrature; the same bits for any ``threads`` (docs/guide/threads.md); and
``Network(x)`` where the plain sum overflows (issue 23).

Tolerances come from the conditioning of the sums, not from the code: f on a piece is a sum
of terms each at most |a_j| (cubic, ramp) or |a_j| (|x| + |u_j|) (relu) in size, plus f*, so
any order of summation is within a few ε·scale of the exact f, with
scale = |a_0| + Σ_j |a_j| w_j + max |f*|; the loss ∫ r² then moves by at most
2 δ ‖r‖ + δ², ∇_a L by 2 δ, and ∂L/∂u_j (σ′ ≤ 2/η for the cubic, 1/η ramp, 1 relu)
by 2 |a_j| δ/η. δ = 64 ε·scale covers both sides' rounding (measured up to ~6 ε·scale)."""

import numpy as np
import pytest
from scipy.integrate import quad

import ttnn
from ttnn import reference as ref
from ttnn.reference.activation import dsigma_eta
from ttnn.reference.network import features as ref_features
from ttnn.reference.target import Teacher, target_eval

EPS = np.finfo(float).eps
ACTS = ["cubic", "ramp", "relu"]


def hostile_net(rng, act, m, eta):
    """Neurons outside [0, 1], exactly coincident neurons and crossing windows."""
    u = rng.uniform(-0.05, 1.05, m)
    k = m // 10
    u[:k] = rng.choice(u[k:], k)  # coincident with others
    u[k : 2 * k] = u[2 * k : 3 * k] + rng.uniform(-eta / 3, eta / 3, k)  # windows overlapping
    a = rng.normal(size=m + 1)
    return ttnn.Network(a, u, eta, act)


def scale_of(net, fmax):
    w = np.ones(net.m) if net.activation != "relu" else 2.0 + np.abs(net.u)
    return abs(net.a[0]) + np.sum(np.abs(net.a[1:]) * w) + fmax


def reference_target(target):
    if isinstance(target, ttnn.Network):
        t = Teacher(target.a, target.u, target.eta, target.activation)
        return (t, None), scale_of(target, 0.0)
    return (target.breaks, target.values), float(np.max(np.abs(target.values)))


def reference_in_blocks(net, breaks, values):
    """ttnn.reference's l2_error and l2_gradient, the same plain formulas on the same
    nodes, evaluated a block of nodes at a time (the whole (nodes × m) matrices would
    take gigabytes at m = 5000)."""
    x_all, w_all = ref.gauss_legendre_nodes(ref.breakpoints(net.u, net.eta, breaks, net.activation))
    loss, ga, gu = 0.0, np.zeros(net.m + 1), np.zeros(net.m)
    for i in range(0, x_all.size, 2048):
        x, w = x_all[i : i + 2048], w_all[i : i + 2048]
        r = ref.forward(net.a, net.u, net.eta, x, net.activation) - target_eval(breaks, values, x)
        loss += np.sum(w * r**2)
        ga += 2.0 * (w * r) @ ref_features(net.u, net.eta, x, net.activation)
        gu += -2.0 * net.a[1:] * ((w * r) @ dsigma_eta(x[:, None] - net.u, net.eta, net.activation))
    return loss, ga, gu


def check_against_reference(net, target):
    (breaks, values), fmax = reference_target(target)
    delta = 64 * EPS * scale_of(net, fmax)
    loss = ttnn.l2_error(net, target)
    loss_g, ga, gu = ttnn.l2_gradient(net, target)
    r_loss, r_ga, r_gu = reference_in_blocks(net, breaks, values)
    assert abs(loss - r_loss) <= 2 * delta * np.sqrt(r_loss) + delta**2
    assert abs(loss_g - r_loss) <= 2 * delta * np.sqrt(r_loss) + delta**2
    assert np.max(np.abs(ga - r_ga)) <= 2 * delta
    dmax = 2.0 / net.eta if net.activation != "relu" else 1.0
    assert np.all(np.abs(gu - r_gu) <= 2 * np.abs(net.a[1:]) * delta * dmax + 1e-300)


def test_blocked_reference_is_the_reference():
    rng = np.random.default_rng(0)
    net = hostile_net(rng, "cubic", 200, 0.01)
    t = ttnn.PiecewiseConstant.paper()
    loss, ga, gu = reference_in_blocks(net, t.breaks, t.values)
    r_ga, r_gu = ref.l2_gradient(net.a, net.u, net.eta, t.breaks, t.values, "cubic")
    assert loss == pytest.approx(ref.l2_error(net.a, net.u, net.eta, t.breaks, t.values), rel=1e-13)
    assert np.allclose(ga, r_ga, rtol=1e-12, atol=1e-13)
    assert np.allclose(gu, r_gu, rtol=1e-12, atol=1e-11)


# m = 1600 windowed gives ~4400 pieces (two parts of the sweep of 4096 pieces), η from 1e-5
# (windows far apart) to 2 (every window covers [0, 1]); relu's ~4500 pieces at m = 5000.
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("eta", [1e-5, 4e-3, 2.0])
def test_large_m_matches_reference_for_a_step_target(act, eta):
    rng = np.random.default_rng(int(eta * 1e5) + len(act))
    m = 1600 if act != "relu" else 5000
    check_against_reference(hostile_net(rng, act, m, eta), ttnn.PiecewiseConstant.paper())


@pytest.mark.parametrize(
    ("act", "teacher_act"), [("cubic", "relu"), ("ramp", "cubic"), ("relu", "ramp")]
)
def test_large_m_matches_reference_for_a_teacher(act, teacher_act):
    rng = np.random.default_rng(len(act) * 7 + len(teacher_act))
    teacher = hostile_net(rng, teacher_act, 40, 0.05)
    check_against_reference(hostile_net(rng, act, 1600 if act != "relu" else 5000, 4e-3), teacher)


def test_large_teacher_matches_reference():
    # The teacher is swept like the student: a wide one (several parts) too.
    rng = np.random.default_rng(5)
    teacher = hostile_net(rng, "relu", 5000, 1.0)
    check_against_reference(hostile_net(rng, "cubic", 300, 0.01), teacher)


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("act", ACTS)
def test_large_m_matches_adaptive_quadrature(act):
    # Few pieces of [0, 1] checked by scipy's quad on f(x) from Network.__call__ (the plain
    # sum): the fast loss restricted to a sub-interval is not exposed, so compare the whole.
    rng = np.random.default_rng(11)
    net = hostile_net(rng, act, 1600, 0.3)
    target = ttnn.PiecewiseConstant.paper()
    pts = np.unique(
        np.clip(np.concatenate([[0, 1], target.breaks, net.u, net.u - 0.15, net.u + 0.15]), 0, 1)
    )
    total = sum(
        quad(lambda x: (target(x) - net(x)) ** 2, lo, hi, epsabs=1e-13, epsrel=1e-13)[0]
        for lo, hi in zip(pts[:-1], pts[1:], strict=True)
    )
    exact = ttnn.l2_error(net, target)
    assert abs(exact - total) <= 1e-10 * max(1.0, exact)


@pytest.mark.parametrize("act", ACTS)
def test_same_bits_for_any_thread_count(act):
    # ~7·10⁴ pieces: 17+ parts, above the threshold (16) from which threads are used.
    rng = np.random.default_rng(3)
    m = 25_000 if act != "relu" else 70_000
    net = hostile_net(rng, act, m, 4e-3)
    target = ttnn.PiecewiseConstant.paper()
    teacher = hostile_net(rng, "cubic", 2000, 0.02)
    for tgt in (target, teacher):
        base_l = ttnn.l2_error(net, tgt, threads=1)
        base = ttnn.l2_gradient(net, tgt, threads=1)
        for threads in (2, 3, None):
            assert ttnn.l2_error(net, tgt, threads=threads) == base_l
            got = ttnn.l2_gradient(net, tgt, threads=threads)
            assert got[0] == base[0]
            assert np.array_equal(got[1], base[1]) and np.array_equal(got[2], base[2])


def test_flow_same_bits_for_any_thread_count():
    # ~7·10⁴ pieces: above the threshold (16 parts) from which threads are used.
    net = ttnn.Network.init(24_000, 4e-3, seed=0)
    target = ttnn.PiecewiseConstant.paper()
    runs = [
        ttnn.gradient_flow(net, target, eps=1e-3, t_end=1e-4, snapshots=2, threads=t)
        for t in (1, 2, None)
    ]
    for r in runs[1:]:
        assert np.array_equal(r.a, runs[0].a) and np.array_equal(r.u, runs[0].u)
        assert np.array_equal(r.l2, runs[0].l2)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_threads_is_validated(bad):
    net = ttnn.Network.init(5, 0.1)
    target = ttnn.PiecewiseConstant.paper()
    for call in (ttnn.l2_error, ttnn.l2_gradient):
        with pytest.raises((ValueError, TypeError), match="threads"):
            call(net, target, threads=bad)


def test_network_value_cancels_instead_of_overflowing():
    # Issue 23: the plain sum gave inf − inf = NaN; the exact value is 2·0.5 − 2·0.2 = 0.6.
    net = ttnn.Network([0, 2, -2], [0.2, 0.5], 0.01, "relu")
    assert net(np.array([1e308]))[0] == pytest.approx(0.6, rel=1e-15)
    # a_j (x − u_j) is finite although x − u_j overflows.
    net = ttnn.Network([1.0, 1e-10], [-1e308], 0.01, "relu")
    assert net(np.array([1e308]))[0] == pytest.approx(2e298, rel=1e-15)
    # cubic and ramp: partial sums of huge a_j that cancel.
    for act in ("cubic", "ramp"):
        net = ttnn.Network([0.5, 1e308, 1e308, -1e308], [0.2, 0.3, 0.4], 0.01, act)
        assert net(np.array([0.9]))[0] == pytest.approx(1e308 + 0.5, rel=1e-15)
        assert np.isfinite(net(np.array([1e308]))[0])
    # Ordinary values are the plain sum, bit for bit (as ttnn.reference).
    rng = np.random.default_rng(0)
    for act in ACTS:
        net = hostile_net(rng, act, 50, 0.1)
        x = rng.uniform(-0.5, 1.5, 100)
        assert np.allclose(net(x), ref.forward(net.a, net.u, net.eta, x, act), rtol=1e-13)
