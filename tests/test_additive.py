"""The additive multi-D network of E4/E5: C++ vs ttnn.reference, gradients vs finite
differences, thread-independent ensembles, bad inputs, and the paper's E4 claim."""

import numpy as np
import pytest
from _sigint import assert_stops_within_a_second

import ttnn
from ttnn import reference as ref

THRESHOLDS = np.array([0.3, 0.5, 0.7])


def staircase(X):
    """The E4 target Σ_k Σ_{c ∈ {0.3, 0.5, 0.7}} 1[x_k > c]."""
    return (X[:, :, None] > THRESHOLDS).sum(axis=(1, 2)).astype(float)


def batch(n=200, d=2, seed=1):
    X = np.random.default_rng(seed).random((n, d))
    return X, staircase(X)


def net_for(act, d=2, bias=None, seed=3):
    # η = 0.05 so that many (point, neuron) pairs sit inside the window.
    base = ttnn.AdditiveNetwork.init_paper(d, m=10, eta=0.05, seed=seed)
    a = base.a if act != "relu" else base.a / 3.0
    return ttnn.AdditiveNetwork(a, base.u, 0.05, act, bias)


@pytest.mark.parametrize("act", ["cubic", "ramp", "relu"])
@pytest.mark.parametrize("bias", [None, 0.7])
def test_forward_and_gradient_match_reference(act, bias):
    X, y = batch()
    net = net_for(act, bias=bias)
    f = net(X)
    np.testing.assert_allclose(
        f, ref.additive_forward(net.a, net.u, net.eta, X, act, bias), rtol=0, atol=1e-12
    )
    ga, gu, gb = net.criterion_gradient(X, y)
    ra, ru, rb = ref.additive_gradient(net.a, net.u, net.eta, X, y, act, bias)
    np.testing.assert_allclose(ga, ra, rtol=0, atol=1e-14)
    np.testing.assert_allclose(gu, ru, rtol=0, atol=1e-14)
    assert (gb is None) == (bias is None)
    if bias is not None:
        assert gb == pytest.approx(rb, abs=1e-14)
    assert net.criterion(X, y) == pytest.approx(
        ref.additive_criterion(net.a, net.u, net.eta, X, y, act, bias), rel=1e-13
    )


@pytest.mark.parametrize("act", ["cubic", "relu"])
@pytest.mark.parametrize("bias", [None, 0.2])
@pytest.mark.parametrize(("step_a", "step_u"), [(1.0, 0.05), (0.5, 0.1)])
def test_gd_trajectory_matches_reference(act, bias, step_a, step_u):
    # Steps where GD is not chaotic: with step_u = 0.5 here, the reference itself
    # moves by ~0.07 in 50 epochs when a is perturbed by 1e-15 (rounding is amplified
    # ~100× per 5 epochs), so no two summation orders could agree to 1e-10.
    X, y = batch(n=200)
    net = net_for(act, bias=bias)
    epochs = 50
    res = ttnn.full_batch_gd(net, X, y, step_a=step_a, step_u=step_u, epochs=epochs, snapshots=6)
    np.testing.assert_array_equal(res.epochs, ttnn.snapshot_steps(epochs, 6))
    a, u, b = net.a, net.u, bias
    k = 0
    for e in range(epochs + 1):
        if e == res.epochs[k]:
            np.testing.assert_allclose(res.a[k], a, rtol=0, atol=1e-10)
            np.testing.assert_allclose(res.u[k], u, rtol=0, atol=1e-10)
            crit = ref.additive_criterion(a, u, net.eta, X, y, act, b)
            assert res.criterion[k] == pytest.approx(crit, rel=1e-10)
            if bias is not None:
                assert res.bias[k] == pytest.approx(b, abs=1e-10)
            k += 1
        if e < epochs:
            a, u, b = ref.additive_gd_epoch(a, u, net.eta, X, y, step_a, step_u, act, b)
    assert k == 6
    assert res.bias is None if bias is None else res.bias.shape == (6,)
    # GD moves the parameters and lowers C here.
    assert not np.array_equal(res.u[-1], res.u[0])
    assert res.criterion[-1] < res.criterion[0]
    np.testing.assert_array_equal(res.final.a, res.a[-1])


@pytest.mark.parametrize("act", ["cubic", "relu"])
def test_gradient_matches_finite_differences(act):
    X, y = batch(n=300, seed=5)
    net = net_for(act, bias=0.3, seed=7)
    ga, gu, gb = net.criterion_gradient(X, y)
    h = 1e-6

    def crit(a, u, b):
        return ttnn.AdditiveNetwork(a, u, net.eta, act, b).criterion(X, y)

    for name, g in (("a", ga), ("u", gu)):
        fd = np.empty_like(g)
        for j, k in np.ndindex(g.shape):
            p = getattr(net, name).copy()
            p[j, k] += h
            plus = crit(p, net.u, net.bias) if name == "a" else crit(net.a, p, net.bias)
            p[j, k] -= 2 * h
            minus = crit(p, net.u, net.bias) if name == "a" else crit(net.a, p, net.bias)
            fd[j, k] = (plus - minus) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-9)
    fd_b = (crit(net.a, net.u, net.bias + h) - crit(net.a, net.u, net.bias - h)) / (2 * h)
    assert gb == pytest.approx(fd_b, rel=1e-6)


def test_ensemble_is_bit_identical_across_threads_and_equals_single_runs():
    X, y = batch(n=500, d=3)
    nets = [ttnn.AdditiveNetwork.init_paper(3, 10, 1e-2, seed=s) for s in range(5)]
    kw = dict(step_a=1.0, step_u=[1.0, 0.01, 1.0, 0.01, 0.1], epochs=200, snapshots=4)
    r1 = ttnn.full_batch_gd_ensemble(nets, X, y, threads=1, **kw)
    r2 = ttnn.full_batch_gd_ensemble(nets, X, y, threads=2, **kw)
    for p, q in zip(r1, r2, strict=True):
        np.testing.assert_array_equal(p.a, q.a)
        np.testing.assert_array_equal(p.u, q.u)
        np.testing.assert_array_equal(p.criterion, q.criterion)
    single = ttnn.full_batch_gd(nets[1], X, y, step_a=1.0, step_u=0.01, epochs=200, snapshots=4)
    np.testing.assert_array_equal(single.u, r1[1].u)
    assert [r.step_u for r in r1] == kw["step_u"]
    # One batch per run.
    Xs = [batch(n=100, d=3, seed=s)[0] for s in range(2)]
    ys = [staircase(x) for x in Xs]
    per = ttnn.full_batch_gd_ensemble(nets[:2], Xs, ys, step_a=1.0, step_u=1.0, epochs=10)
    alone = ttnn.full_batch_gd(nets[1], Xs[1], ys[1], step_a=1.0, step_u=1.0, epochs=10)
    np.testing.assert_array_equal(per[1].a, alone.a)


def test_divergence_names_the_epoch():
    X, y = batch()
    net = net_for("relu")
    with pytest.raises(ttnn.DivergenceError) as info:
        ttnn.full_batch_gd(net, X, y, step_a=1e300, step_u=1e300, epochs=100)
    assert info.value.step >= 1
    assert "epoch" in str(info.value)
    with pytest.raises(ttnn.DivergenceError):
        ttnn.full_batch_gd_ensemble(
            [net, net], X, y, step_a=[1.0, 1e300], step_u=[1.0, 1e300], epochs=100
        )


def test_ctrl_c_stops_a_long_run():
    # One run on the calling thread; ensembles on 2 threads are in test_interrupt.py.
    # The harness's 1 s bound after a real SIGINT is the interrupt bound of
    # tests/_sigint.py.
    assert_stops_within_a_second(
        "rng = np.random.default_rng(0); X = rng.random((5000, 4)); y = X.sum(1)\n"
        "net = ttnn.AdditiveNetwork.init_paper(4, 10, 1e-2, seed=0)",
        "ttnn.full_batch_gd(net, X, y, step_a=1.0, step_u=0.01, epochs=10**9)",
        what="full_batch_gd",
    )


def test_inputs_are_not_modified():
    X, y = batch()
    a = np.random.default_rng(0).random((10, 2))
    u = a.copy()
    a0, u0, X0, y0 = a.copy(), u.copy(), X.copy(), y.copy()
    net = ttnn.AdditiveNetwork(a, u, 1e-2)
    ttnn.full_batch_gd(net, X, y, step_a=1.0, step_u=1.0, epochs=5)
    for p, q in ((a, a0), (u, u0), (X, X0), (y, y0)):
        np.testing.assert_array_equal(p, q)


GOOD = dict(a=np.ones((3, 2)), u=np.zeros((3, 2)), eta=1e-2)


@pytest.mark.parametrize(
    ("kw", "exc", "name"),
    [
        (dict(a=np.ones((3, 3))), ValueError, "a and u"),
        (dict(a=np.ones(3)), ValueError, "a must be 2-D"),
        (dict(u=np.full((3, 2), np.nan)), ValueError, "u must be finite"),
        (dict(eta=0.0), ValueError, "eta"),
        (dict(activation="tanh"), ValueError, "activation"),
        (dict(bias=np.inf), ValueError, "bias"),
        (dict(bias="1"), TypeError, "bias"),
    ],
)
def test_network_rejects_bad_input(kw, exc, name):
    with pytest.raises(exc, match=name):
        ttnn.AdditiveNetwork(**{**GOOD, **kw})


@pytest.mark.parametrize(
    ("kw", "exc", "name"),
    [
        (dict(X=np.zeros((5, 3))), ValueError, "X"),
        (dict(y=np.zeros(4)), ValueError, "y"),
        (dict(y=np.full(5, np.nan)), ValueError, "y"),
        (dict(step_a=-1.0), ValueError, "step_a"),
        (dict(step_u=np.nan), ValueError, "step_u"),
        (dict(epochs=-1), ValueError, "epochs"),
        (dict(epochs=2.5), TypeError, "epochs"),
        (dict(snapshots=12), ValueError, "snapshots"),
        (dict(net="net"), TypeError, "net"),
    ],
)
def test_gd_rejects_bad_input(kw, exc, name):
    args = dict(
        net=ttnn.AdditiveNetwork(**GOOD),
        X=np.zeros((5, 2)),
        y=np.zeros(5),
        step_a=1.0,
        step_u=1.0,
        epochs=10,
    )
    args.update(kw)
    net, X, y = args.pop("net"), args.pop("X"), args.pop("y")
    with pytest.raises(exc, match=name):
        ttnn.full_batch_gd(net, X, y, **args)


@pytest.mark.parametrize(
    ("kw", "exc", "name"),
    [
        (dict(step_a=[1.0]), ValueError, "step_a"),
        (dict(epochs=[5, -1]), ValueError, r"epochs\[1\]"),
        (dict(threads=0), ValueError, "threads"),
        (dict(X=[np.zeros((5, 2))] * 3, y=[np.zeros(5)] * 3), ValueError, "X"),
        (dict(X=[np.zeros((5, 2)), np.zeros((4, 2))], y=[np.zeros(5)] * 2), ValueError, "y"),
        (dict(nets=[]), ValueError, "nets"),
    ],
)
def test_ensemble_rejects_bad_input(kw, exc, name):
    net = ttnn.AdditiveNetwork(**GOOD)
    args = dict(
        nets=[net, net], X=np.zeros((5, 2)), y=np.zeros(5), step_a=1.0, step_u=1.0, epochs=5
    )
    args.update(kw)
    nets, X, y = args.pop("nets"), args.pop("X"), args.pop("y")
    with pytest.raises(exc, match=name):
        ttnn.full_batch_gd_ensemble(nets, X, y, **args)


def kinks_covered(u, eta):
    """Fraction of the d × 3 thresholds with a neuron of their dimension within 2η."""
    dist = np.abs(u[:, :, None] - THRESHOLDS).min(axis=0)  # (d, 3)
    return float(np.mean(dist <= 2 * eta))


def test_two_timescale_covers_the_kinks_where_standard_gd_misses_some():
    """E4 at the paper's 2-D scale (d = 2, n = 1000, η = 1e-2, m = 10 per dimension),
    six seeds: the two-timescale run (step_a = 1, step_u = 0.01, 5000 epochs) ends
    with more thresholds covered than the standard run (steps 1, 300 epochs)."""
    eta, std_cov, tt_cov, std_c, tt_c = 1e-2, [], [], [], []
    for seed in range(6):
        X = np.random.default_rng(100 + seed).random((1000, 2))
        y = staircase(X)
        net = ttnn.AdditiveNetwork.init_paper(2, 10, eta, seed=seed)
        std, tt = ttnn.full_batch_gd_ensemble(
            [net, net], X, y, step_a=1.0, step_u=[1.0, 0.01], epochs=[300, 5000]
        )
        std_cov.append(kinks_covered(std.u[-1], eta))
        tt_cov.append(kinks_covered(tt.u[-1], eta))
        std_c.append(std.criterion[-1])
        tt_c.append(tt.criterion[-1])
    assert np.mean(tt_cov) > np.mean(std_cov) + 0.2
    assert sum(t > s for t, s in zip(tt_cov, std_cov, strict=True)) >= 4
    assert np.median(tt_c) < np.median(std_c)


def test_relu_two_timescale_recovers_the_teachers_kinks():
    """E5 (d = 1, relu, teacher u* = (0.3, 0.5, 0.7), a* = (1, −2, 3), n = 1000,
    m = 10), six seeds: the two-timescale run puts neurons on the teacher's kinks
    more often than the standard run and ends with a smaller criterion."""
    u_star = np.array([0.3, 0.5, 0.7])
    teacher = ttnn.AdditiveNetwork(np.array([[1.0], [-2.0], [3.0]]), u_star[:, None], 1e-2, "relu")
    cov = {"std": [], "tt": []}
    crit = {"std": [], "tt": []}
    for seed in range(6):
        X = np.random.default_rng(100 + seed).random((1000, 1))
        net = ttnn.AdditiveNetwork.init_paper(1, 10, 1e-2, seed=seed, activation="relu")
        runs = ttnn.full_batch_gd_ensemble(
            [net, net], X, teacher(X), step_a=1.0, step_u=[1.0, 0.01], epochs=[300, 5000]
        )
        for key, r in zip(("std", "tt"), runs, strict=True):
            dist = np.abs(r.u[-1][:, 0, None] - u_star).min(axis=0)
            cov[key].append(float(np.mean(dist <= 0.02)))
            crit[key].append(r.criterion[-1])
    assert np.mean(cov["tt"]) > np.mean(cov["std"]) + 0.3
    assert np.median(crit["tt"]) < np.median(crit["std"])
