"""Property-based checks (hypothesis) of the invariants the library promises
(docs/guide/errors.md): the exact loss equals adaptive quadrature, the core's
SGD equals ttnn.reference on replayed streams, results do not depend on the
thread count, hostile input always raises ValueError/TypeError (never a crash
or a silent NaN), runs that return are finite, and no input is modified.

Examples are few and small (the whole file takes seconds): hypothesis is here
to wander where hand-written cases do not, not to be exhaustive.
"""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import ttnn  # noqa: E402
from ttnn import reference as ref  # noqa: E402

# No deadline: the machine may be loaded and a first call pays for imports.
# No example database: the suite writes nothing into the working directory.
FAST = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

ACTIVATION = st.sampled_from(["cubic", "ramp", "relu"])
UNIT = st.floats(0.0, 1.0, allow_nan=False, exclude_max=True)


@st.composite
def networks(draw, max_m=8, a_scale=3.0):
    """A small network: m in [1, max_m], eta in [1e-3, 0.5], u anywhere in [-0.2, 1.2]."""
    m = draw(st.integers(1, max_m))
    eta = draw(st.floats(1e-3, 0.5))
    act = draw(ACTIVATION)
    a = draw(
        st.lists(st.floats(-a_scale, a_scale, allow_nan=False), min_size=m + 1, max_size=m + 1)
    )
    u = draw(st.lists(st.floats(-0.2, 1.2, allow_nan=False), min_size=m, max_size=m))
    return ttnn.Network(a, u, eta, activation=act)


@st.composite
def targets(draw):
    """A piecewise-constant target: 1-4 sorted distinct breaks in (0, 1)."""
    breaks = sorted(set(draw(st.lists(st.floats(0.01, 0.99), min_size=1, max_size=4))))
    values = draw(
        st.lists(
            st.floats(-5, 5, allow_nan=False), min_size=len(breaks) + 1, max_size=len(breaks) + 1
        )
    )
    return ttnn.PiecewiseConstant(breaks, values)


# --- exactness ---------------------------------------------------------------


@FAST
@given(net=networks(), target=st.one_of(targets(), networks(max_m=3)))
def test_exact_loss_equals_adaptive_quadrature(net, target):
    from scipy.integrate import quad

    # Quadrature that knows where the integrand has kinks and jumps: every
    # breakpoint of student and target, so each piece is smooth.
    pts = [net.u - net.eta / 2, net.u, net.u + net.eta / 2]
    if isinstance(target, ttnn.Network):
        pts += [target.u - target.eta / 2, target.u, target.u + target.eta / 2]
    else:
        pts.append(target.breaks)
    cuts = np.unique(np.clip(np.concatenate(pts), 0.0, 1.0))
    cuts = np.unique(np.concatenate(([0.0], cuts, [1.0])))

    def sq_err(x):
        return float((target(x) - net(x)) ** 2)

    want = sum(
        quad(sq_err, lo, hi, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)
        if hi > lo
    )
    got = ttnn.l2_error(net, target)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-11)


@FAST
@given(
    net=networks(max_m=6, a_scale=1.0),
    target=targets(),
    eps=st.sampled_from([0.0, 1e-3, 0.1]),
    h=st.floats(1e-5, 1e-3),
    batch=st.sampled_from([1, 1, 3]),
    seed=st.integers(0, 2**64 - 1),
)
def test_core_sgd_equals_the_reference_on_a_replayed_random_stream(
    net, target, eps, h, batch, seed
):
    # Non-chaotic: small steps over 600 samples, so that two correct
    # implementations (different summation orders) stay within 1e-10.
    x, y = ttnn.sample_stream(target, 600, seed=seed)
    res = ttnn.sgd(net, h=h, eps=eps, data=(x, y), snapshots=4, batch=batch)
    steps, A, U = ref.sgd_replay(
        net.a,
        net.u,
        net.eta,
        eps,
        h,
        x,
        y,
        activation=net.activation,
        snapshot_steps=res.steps,
        batch=batch,
    )
    np.testing.assert_array_equal(res.steps, steps)
    np.testing.assert_allclose(res.a, A, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.u, U, rtol=0, atol=1e-10)


@settings(FAST, max_examples=10)
@given(
    nets=st.lists(networks(max_m=6, a_scale=1.0), min_size=2, max_size=5),
    seed=st.integers(0, 2**64 - 1),
    steps=st.lists(st.integers(1, 3000), min_size=5, max_size=5),
    h=st.floats(1e-4, 1e-2),
)
def test_ensembles_are_bit_identical_for_one_and_two_threads(nets, seed, steps, h):
    t = ttnn.PiecewiseConstant.paper()
    steps = steps[: len(nets)]
    kw = dict(h=h, eps=0.5, steps=steps, seed=seed, snapshots=2, on_error="record")
    one = ttnn.sgd_ensemble(nets, t, threads=1, **kw)
    two = ttnn.sgd_ensemble(nets, t, threads=2, **kw)
    for r1, r2 in zip(one, two, strict=True):
        if isinstance(r1, BaseException):
            assert type(r1) is type(r2) and str(r1) == str(r2)
        else:
            assert r1.a.tobytes() == r2.a.tobytes() and r1.u.tobytes() == r2.u.tobytes()
            assert r1.l2.tobytes() == r2.l2.tobytes()


# --- honest numerics ---------------------------------------------------------


@FAST
@given(
    a=st.lists(
        st.floats(-1e308, 1e308, allow_nan=False, allow_infinity=False), min_size=3, max_size=3
    ),
    u=st.lists(st.floats(-1.0, 2.0), min_size=2, max_size=2),
    h=st.floats(1e-3, 10.0),
    eps=st.floats(0.0, 10.0),
    act=ACTIVATION,
)
def test_a_run_that_returns_is_finite_and_one_that_cannot_says_so(a, u, h, eps, act):
    # Extreme parameters and step sizes: the run either diverges with
    # DivergenceError at a step in [1, steps], or every snapshot is finite.
    net = ttnn.Network(a, u, 0.05, activation=act)
    x = np.linspace(0.0, 0.99, 50)
    y = np.cos(7 * x)
    try:
        res = ttnn.sgd(net, h=h, eps=eps, data=(x, y), snapshots=3)
    except ttnn.DivergenceError as exc:
        assert 1 <= exc.step <= 50
        return
    assert np.all(np.isfinite(res.a)) and np.all(np.isfinite(res.u))


# --- hostile input -----------------------------------------------------------

# Values that are never a valid positive real / count / seed / array.
NOT_A_REAL = st.sampled_from(
    [
        None,
        "1e-3",
        1e-3 + 0j,
        np.complex128(1),
        [1e-3],
        np.array(1e-3),
        np.array([1e-3]),
        np.ma.array([1e-3], mask=[1]),
        object(),
        float("nan"),
        float("inf"),
        -1e-3,
        True,
    ]
)
# Never a valid count; None is added where it is not "not given" (it is for
# seed and threads).
JUNK_COUNT = st.one_of(
    st.sampled_from(["10", 1.5, 10 + 0j, np.array(10), [10], object(), True]),
    st.floats(allow_nan=True).filter(lambda v: not (np.isfinite(v) and float(v).is_integer())),
    st.integers(-(2**70), -1),
)
NOT_A_COUNT = st.one_of(st.none(), JUNK_COUNT, st.integers(2**63, 2**70))
NOT_AN_ARRAY = st.sampled_from(
    [
        None,
        "abc",
        0.5,
        np.array(0.5),
        [[0.1, 0.2]],
        [0.1, None],
        [0.1, 1j],
        np.array([0.1, 0.2], dtype=complex),
        np.ma.array([0.1, 0.2], mask=[0, 1]),
        np.array([0.1, "x"], dtype=object),
        [0.1, np.nan],
        [np.inf, 0.2],
        [],
        object(),
    ]
)


def _sgd(**kw):
    args = dict(h=1e-3, eps=1.0, steps=10, snapshots=2, seed=0)
    args.update(kw)
    return ttnn.sgd(ttnn.Network.init(4, 0.05, seed=0), ttnn.PiecewiseConstant.paper(), **args)


def _flow(**kw):
    args = dict(eps=1.0, t_end=0.01, snapshots=2)
    args.update(kw)
    return ttnn.gradient_flow(
        ttnn.Network.init(4, 0.05, seed=0), ttnn.PiecewiseConstant.paper(), **args
    )


CALLS = {
    "sgd h": lambda v: _sgd(h=v),
    "sgd eps": lambda v: _sgd(eps=v if not isinstance(v, float) or v != -1e-3 else -1.0),
    "sgd steps": lambda v: _sgd(steps=v),
    "sgd snapshots": lambda v: _sgd(snapshots=v),
    "sgd seed": lambda v: _sgd(seed=v),
    "sgd batch": lambda v: _sgd(batch=v),
    "ensemble h": lambda v: ttnn.sgd_ensemble(
        [ttnn.Network.init(3, 0.05)] * 2, ttnn.PiecewiseConstant.paper(), h=v, steps=5
    ),
    "ensemble threads": lambda v: ttnn.sgd_ensemble(
        [ttnn.Network.init(3, 0.05)] * 2,
        ttnn.PiecewiseConstant.paper(),
        h=1e-3,
        steps=5,
        threads=v,
    ),
    "flow t_end": lambda v: _flow(t_end=v),
    "flow rtol": lambda v: _flow(rtol=v),
    "flow snapshots": lambda v: _flow(snapshots=v),
    "Network a": lambda v: ttnn.Network(v, [0.5], 0.1),
    "Network u": lambda v: ttnn.Network([0.0, 1.0], v, 0.1),
    "Network eta": lambda v: ttnn.Network([0.0, 1.0], [0.5], v),
    "Network.init m": lambda v: ttnn.Network.init(v, 0.1),
    "target values": lambda v: ttnn.PiecewiseConstant([0.5], v),
    "net(x)": lambda v: ttnn.Network.init(3, 0.1)(v),
    "data x": lambda v: ttnn.sgd(ttnn.Network.init(3, 0.1), h=1e-3, data=(v, [0.1, 0.2])),
    # Issue 23: counts, thread counts and kinds that passed validation before.
    "ensemble nets": lambda v: ttnn.sgd_ensemble(
        v, ttnn.PiecewiseConstant.paper(), h=1e-3, steps=2
    ),
    "gd ensemble threads": lambda v: ttnn.full_batch_gd_ensemble(
        [_an()], _X, _y, step_a=1.0, step_u=1.0, epochs=1, threads=v
    ),
    "gd epochs": lambda v: ttnn.full_batch_gd(_an(), _X, _y, step_a=1.0, step_u=1.0, epochs=v),
    "gd step_a": lambda v: ttnn.full_batch_gd(_an(), _X, _y, step_a=v, step_u=1.0, epochs=1),
    "replay epochs": lambda v: ttnn.sgd(
        ttnn.Network.init(3, 0.1), h=1e-3, data=(_X[:, 0], _y), epochs=v, shuffle=True
    ),
    "sgd progress": lambda v: _sgd(progress=v),
    "limit tau_end": lambda v: ttnn.two_timescale_limit(
        ttnn.Network.init(4, 0.05), ttnn.PiecewiseConstant.paper(), v, snapshots=2
    ),
    "limit snapshots": lambda v: ttnn.two_timescale_limit(
        ttnn.Network.init(4, 0.05), ttnn.PiecewiseConstant.paper(), 0.01, snapshots=v
    ),
    "sample_stream draws": lambda v: ttnn.sample_stream(ttnn.PiecewiseConstant.paper(), v),
}
KIND = {
    "sgd h": NOT_A_REAL,
    "sgd eps": NOT_A_REAL,
    "sgd steps": NOT_A_COUNT,
    "sgd snapshots": NOT_A_COUNT,
    "sgd seed": st.one_of(JUNK_COUNT, st.integers(2**64, 2**70)),
    "sgd batch": NOT_A_COUNT,
    "ensemble h": NOT_A_REAL,
    "ensemble threads": st.one_of(JUNK_COUNT, st.just(0), st.integers(1025, 2**70)),
    "flow t_end": st.one_of(NOT_A_REAL, st.floats(1e13, 1e308)),
    "flow rtol": st.one_of(NOT_A_REAL, st.floats(0.0, 1e-14), st.floats(1.0, 1e300)),
    "flow snapshots": st.one_of(NOT_A_COUNT, st.integers(2**31, 2**40)),
    "Network a": NOT_AN_ARRAY,
    "Network u": NOT_AN_ARRAY,
    "Network eta": NOT_A_REAL,
    "Network.init m": NOT_A_COUNT,
    "target values": NOT_AN_ARRAY,
    "net(x)": st.sampled_from(
        [
            None,
            "abc",
            1j,
            [0.1, None],
            np.ma.array([0.1], mask=[1]),
            [np.nan],
            np.inf,
            np.array([0.1], dtype=complex),
            np.array([0.1, "x"], dtype=object),
        ]
    ),
    "data x": NOT_AN_ARRAY,
    "ensemble nets": st.sampled_from(
        [ttnn.Network.init(3, 0.05), 3, None, 1.5, "net", [], [ttnn.Network.init(3, 0.05), 1]]
    ),
    "gd ensemble threads": st.one_of(JUNK_COUNT, st.just(0), st.integers(1025, 2**70)),
    "gd epochs": st.one_of(JUNK_COUNT, st.none(), st.integers(2**63, 2**70)),
    "gd step_a": st.one_of(NOT_A_REAL, st.floats(-1e308, -1e-300)),
    "replay epochs": st.one_of(JUNK_COUNT, st.integers(2**61, 2**63 - 1)),
    "sgd progress": st.sampled_from(
        [lambda: None, lambda done: None, lambda a, b, c: None, 1, "yes", 2.5, [print]]
    ),
    "limit tau_end": st.one_of(NOT_A_REAL, st.floats(1e13, 1.7976931348623157e308)),
    "limit snapshots": st.one_of(NOT_A_COUNT, st.integers(2**31, 2**70)),
    "sample_stream draws": st.one_of(NOT_A_COUNT, st.integers(2**62, 2**63 - 1)),
}

_X = np.random.default_rng(5).random((8, 2))
_y = np.sin(_X.sum(axis=1))


def _an():
    return ttnn.AdditiveNetwork.init_paper(2, 3, 0.1, seed=0)


@settings(FAST, max_examples=150)
@given(data=st.data())
def test_hostile_input_always_raises_value_or_type_error(data):
    which = data.draw(st.sampled_from(sorted(CALLS)), label="argument")
    value = data.draw(KIND[which], label="value")
    with pytest.raises((ValueError, TypeError)) as info:
        CALLS[which](value)
    # The message names the argument (its last word in the case's label).
    name = which.split()[-1].replace("(x)", "").replace("net", "x")
    name = {"xs": "nets", "draws": "draws"}.get(name, name)
    assert name in str(info.value), (which, value, str(info.value))


# --- inputs are never modified -----------------------------------------------


@FAST
@given(
    net=networks(max_m=5, a_scale=1.0),
    n=st.integers(1, 50),
    seed=st.integers(0, 2**32),
    shuffle=st.booleans(),
)
def test_no_input_is_modified_in_place(net, n, seed, shuffle):
    rng = np.random.default_rng(seed)
    a, u = net.a.copy(), net.u.copy()
    a_in, u_in = a.copy(), u.copy()
    x, y = rng.random(n), rng.normal(size=n)
    x0, y0 = x.copy(), y.copy()
    breaks, values = np.array([0.3, 0.6]), np.array([1.0, -1.0, 2.0])
    b0, v0 = breaks.copy(), values.copy()

    own = ttnn.Network(a, u, net.eta, activation=net.activation)
    tgt = ttnn.PiecewiseConstant(breaks, values)
    ttnn.sgd(
        own,
        tgt,
        h=1e-3,
        eps=0.5,
        data=(x, y),
        epochs=2,
        shuffle=shuffle,
        seed=seed if shuffle else None,
    )
    ttnn.sgd_ensemble([own, own], tgt, h=1e-3, data=[(x, y), (x, y)])
    ttnn.l2_gradient(own, tgt)
    ttnn.gradient_flow(own, tgt, eps=1.0, t_end=1e-3, snapshots=2)
    own(x)
    tgt(x)
    X = np.column_stack([x, x[::-1]])
    X0 = X.copy()
    anet = ttnn.AdditiveNetwork.init_paper(2, 3, 0.05, seed=0)
    ttnn.full_batch_gd(anet, X, y, step_a=0.1, step_u=0.1, epochs=2)
    anet(X)

    for now, before in [
        (a, a_in),
        (u, u_in),
        (x, x0),
        (y, y0),
        (breaks, b0),
        (values, v0),
        (X, X0),
    ]:
        assert np.array_equal(now, before)
    assert np.array_equal(own.a, a_in) and np.array_equal(own.u, u_in)
    # The network owns a copy: changing the caller's array afterwards changes nothing.
    a[...] = 7.0
    assert np.array_equal(own.a, a_in)


# --- values near the double limits (issue 23) -----------------------------------------

HUGE = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)


@FAST
@given(values=st.lists(HUGE, min_size=2, max_size=3), tau=st.floats(0.0, 10.0))
def test_zero_eta_limit_is_finite_for_any_finite_jumps(values, tau):
    # Jumps up to 2e300, whose squares overflow: positions and outer layer stay
    # finite, losses are never NaN (inf only beyond the double range).
    breaks = np.linspace(0.0, 1.0, len(values) + 1)[1:-1]
    tgt = ttnn.PiecewiseConstant(breaks, values)
    net = ttnn.Network(np.zeros(9), np.linspace(0.05, 0.95, 8), 0.01)
    res = ttnn.two_timescale_limit(net, tgt, tau, limit="zero", snapshots=3)
    assert np.all(np.isfinite(res.u)) and np.all(np.isfinite(res.a))
    assert not np.any(np.isnan(res.l2)) and not np.any(np.isnan(res.limit_loss))
    assert np.all(res.u[-1] >= 0.0) and np.all(res.u[-1] <= 1.0)


@FAST
@given(
    scale=st.sampled_from([1e-300, 1e-160, 1.0, 1e154, 1e160, 1e300]),
    seed=st.integers(0, 2**32),
    act=ACTIVATION,
)
def test_full_batch_criterion_is_the_scaled_norm_for_any_finite_weights(scale, seed, act):
    rng = np.random.default_rng(seed)
    a, u = scale * rng.normal(size=(3, 2)), rng.random((3, 2))
    X, y = rng.random((10, 2)), rng.random(10)
    crit = ttnn.AdditiveNetwork(a, u, 0.2, act).criterion(X, y)
    r = ref.additive_forward(a, u, 0.2, X, act) - y
    want = (
        float(np.max(np.abs(r))) * (np.sqrt(np.sum((r / np.max(np.abs(r))) ** 2)) / len(r))
        if np.any(r)
        else 0.0
    )
    assert np.isfinite(crit)
    assert crit == pytest.approx(want, rel=1e-12, abs=0.0)
