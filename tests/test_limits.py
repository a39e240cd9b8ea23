"""The two-timescale limits (docs/maths/limits.md): the finite-η
limit against scipy on the reference right-hand side and against the gradient flow
as ε → 0; the η → 0 closed form against the finite-η limit as η → 0, its stopping rule, its loss,
its refusal of starts with < 2 neurons in a piece; bad inputs."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import ttnn
from ttnn import reference as ref

TGT = ttnn.PiecewiseConstant([0.2, 0.35, 0.5, 0.65, 0.8], [1, 5, 1, 3, 1, 5])
U12 = np.array([0.1, 0.15, 0.27, 0.3, 0.4, 0.45, 0.55, 0.6, 0.7, 0.75, 0.85, 0.9])


def net_at(u, eta):
    return ttnn.Network(np.zeros(len(u) + 1), u, eta)


def test_finite_limit_matches_scipy_on_reference_rhs():
    net = net_at(U12, 0.05)
    lim = ttnn.two_timescale_limit(net, TGT, 0.01, snapshots=5, rtol=1e-11, atol=1e-13)
    sol = solve_ivp(
        lambda t, u: ref.finite_eta_rhs(u, 0.05, TGT.breaks, TGT.values),
        (0.0, 0.01),
        U12,
        method="DOP853",
        rtol=1e-10,
        atol=1e-12,
        t_eval=lim.tau,
    )
    assert np.max(np.abs(lim.u - sol.y.T)) < 1e-7
    assert np.max(np.abs(lim.u[-1] - U12)) > 1e-2
    for k in (0, 4):
        a_ref = ref.optimal_outer(lim.u[k], 0.05, TGT.breaks, TGT.values)
        np.testing.assert_allclose(lim.a[k], a_ref, atol=1e-8)
    for k in range(5):  # a* kept from the integrator's last evaluation is a*(u[k]) exactly
        np.testing.assert_array_equal(
            lim.a[k], ttnn._core.solve_outer(lim.network(k)._c, TGT._c, 0.0)[0]
        )
        assert lim.l2[k] == pytest.approx(ttnn.l2_error(lim.network(k), TGT), rel=1e-13)
    np.testing.assert_array_equal(lim.limit_loss, lim.l2)
    assert np.all(np.diff(lim.l2) <= 0)


def test_optimal_outer_is_the_minimum_norm_solution_when_numerically_singular():
    # 100 wide, overlapping windows: G has condition number ~4e13 and numerical
    # rank 95 of 101, so Cholesky is refused and the minimum-norm solve must cut
    # the same singular values as numpy's lstsq(rcond=1e-12) in the reference.
    tgt = TGT
    net = ttnn.Network.init(m=100, eta=0.3, seed=1)
    G, b = ttnn._core.gram_system(net._c, tgt._c)
    sv = np.linalg.svd(G, compute_uv=False)
    assert sv[0] / sv[-1] > 1e12 and np.sum(sv > 1e-12 * sv[0]) < 101
    a = ttnn._core.optimal_outer(net._c, tgt._c, 0.0)
    a_ref = ref.optimal_outer(net.u, net.eta, tgt.breaks, tgt.values)
    assert np.all(np.isfinite(a))
    assert np.max(np.abs(a - a_ref)) < 1e-5 * np.max(np.abs(a_ref))
    assert np.linalg.norm(a) == pytest.approx(np.linalg.norm(a_ref), rel=1e-6)
    # It is a least-squares solution: the loss is that of the reference's a*.
    assert ttnn.l2_error(net.replace(a=a), tgt) == pytest.approx(
        ttnn.l2_error(net.replace(a=a_ref), tgt), rel=1e-9, abs=1e-12
    )


def test_flow_approaches_finite_limit_as_eps_shrinks():
    # ε must be small against the outer layer's relaxation rate (2 λ_min(G))
    # times the slow horizon before the O(ε) regime sets in.
    u0 = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    net = net_at(u0, 0.2)
    tau = 0.02
    lim = ttnn.two_timescale_limit(net, TGT, tau, snapshots=5, rtol=1e-11, atol=1e-13)
    start = net.replace(a=lim.a[0])
    gaps = []
    for eps in (1e-4, 3e-5, 1e-5):
        flow = ttnn.gradient_flow(start, TGT, eps, tau / eps, snapshots=5, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(flow.tau, lim.tau, rtol=1e-14, atol=0)
        gaps.append(np.max(np.abs(flow.u - lim.u)))
    assert gaps[0] > gaps[1] > gaps[2]
    rate = np.log(gaps[0] / gaps[2]) / np.log(10.0)
    assert 0.7 < rate < 1.3, (gaps, rate)
    assert gaps[2] < 0.02 * np.max(np.abs(lim.u[-1] - u0))


def test_finite_limit_approaches_closed_form_as_eta_shrinks():
    zero = ttnn.two_timescale_limit(net_at(U12, 0.01), TGT, 0.01, limit="zero", snapshots=5)
    gaps, loss_gaps = [], []
    for eta in (0.02, 0.01, 0.005):
        fin = ttnn.two_timescale_limit(net_at(U12, eta), TGT, 0.01, snapshots=5)
        gaps.append(np.max(np.abs(fin.u - zero.u)))
        loss_gaps.append(np.max(np.abs(fin.l2 - zero.l2)))
    assert gaps[0] > gaps[1] > gaps[2]
    rate = np.log(gaps[0] / gaps[2]) / np.log(4.0)
    assert 0.7 < rate < 1.3, (gaps, rate)
    assert loss_gaps[0] > loss_gaps[1] > loss_gaps[2]
    assert np.max(np.abs(zero.u[-1] - U12)) > 10 * gaps[2]


def test_zero_limit_loss_and_outer_layer():
    zero = ttnn.two_timescale_limit(net_at(U12, 0.01), TGT, 0.01, limit="zero", snapshots=4)
    # With ≥ 2 neurons per piece the exact loss of the step function is the closed form.
    np.testing.assert_allclose(zero.l2, zero.limit_loss, rtol=1e-12)
    for k in range(4):
        assert zero.limit_loss[k] == pytest.approx(
            ref.zero_eta_loss(zero.u[k], TGT.breaks, TGT.values), rel=1e-13
        )
        # a makes f the cell means: a very narrow network has that loss.
        sharp = ttnn.Network(zero.a[k], zero.u[k], 1e-9)
        assert ttnn.l2_error(sharp, TGT) == pytest.approx(zero.l2[k], abs=1e-7)
    assert np.all(np.diff(zero.limit_loss) < 0)


def test_zero_limit_pair_follows_the_field_and_stops_at_the_break():
    tgt = ttnn.PiecewiseConstant([0.5], [0.0, 2.0])
    u0 = np.array([0.1, 0.4, 0.55, 0.9])
    res = ttnn.two_timescale_limit(net_at(u0, 0.01), tgt, 0.05, limit="zero", snapshots=51)

    def rhs(t, d):
        vl, vr = ref.zero_eta_pair_rhs(d[0], d[1], 2.0)
        return [-vl, vr]  # d_L = v − u^L, d_R = u^R − v

    hit = lambda t, d: d[1]  # noqa: E731
    hit.terminal = True
    sol = solve_ivp(rhs, (0, 1), [0.1, 0.05], method="DOP853", rtol=1e-12, atol=1e-14, events=hit)
    t_hit = sol.t_events[0][0]
    d_left_final = sol.y_events[0][0][0]
    assert 0 < t_hit < 0.05
    after = res.tau > t_hit
    assert np.all(res.u[after, 2] == 0.5)  # stopped exactly on the break
    np.testing.assert_allclose(res.u[after, 1], 0.5 - d_left_final, atol=1e-9)
    assert np.all(res.limit_loss[after] == 0.0)
    before = res.tau < t_hit
    sol_b = solve_ivp(
        rhs,
        (0, res.tau[before][-1]),
        [0.1, 0.05],
        method="DOP853",
        rtol=1e-12,
        atol=1e-14,
        t_eval=res.tau[before],
    )
    np.testing.assert_allclose(res.u[before, 1], 0.5 - sol_b.y[0], atol=1e-9)
    np.testing.assert_allclose(res.u[before, 2], 0.5 + sol_b.y[1], atol=1e-9)
    np.testing.assert_array_equal(res.u[:, [0, 3]], np.tile(u0[[0, 3]], (51, 1)))


def test_zero_limit_refuses_a_piece_with_one_neuron_finite_handles_it():
    u = np.array([0.05, 0.1, 0.25, 0.3, 0.4, 0.55, 0.6, 0.7, 0.75, 0.85, 0.9])
    net = net_at(u, 0.01)
    with pytest.raises(ValueError, match=r"piece \[0.35, 0.5\] .* 1 neuron"):
        ttnn.two_timescale_limit(net, TGT, 0.01, limit="zero")
    with pytest.raises(ValueError, match=r"piece \[0.8, 1\] .* 0 neurons"):
        ttnn.two_timescale_limit(net_at(U12[U12 < 0.8], 0.01), TGT, 0.01, limit="zero")
    fin = ttnn.two_timescale_limit(net, TGT, 0.01, snapshots=3)
    assert np.all(np.isfinite(fin.a)) and np.all(np.isfinite(fin.u))
    # Singular G: a neuron left of 0 (φ = 1, like the bias), two coinciding,
    # one right of 1 (φ = 0): the minimum-norm a* splits or zeroes their weights.
    u_sing = np.array([-0.5, 0.3, 0.3, 0.6, 1.5])
    with pytest.warns(ttnn.IllConditionedWarning, match="singular"):
        fin = ttnn.two_timescale_limit(net_at(u_sing, 0.05), TGT, 0.001, snapshots=3)
    assert np.all(fin.cond > 1e12)
    assert np.all(np.isfinite(fin.a)) and np.all(np.isfinite(fin.u))
    assert fin.a[0, 1] == pytest.approx(fin.a[0, 0], rel=1e-8)
    assert fin.a[0, 5] == pytest.approx(0.0, abs=1e-8)
    assert fin.a[0, 2] == pytest.approx(fin.a[0, 3], rel=1e-8)  # split evenly
    ridge = ttnn.two_timescale_limit(net_at(u_sing, 0.05), TGT, 0.001, ridge=1e-3, snapshots=3)
    assert np.all(np.isfinite(ridge.u))


@pytest.mark.parametrize(
    ("kwargs", "name", "exc"),
    [
        ({"eta": "tiny"}, "eta", ValueError),
        ({"eta": 0.0}, "eta", TypeError),
        ({"tau_end": -1.0}, "tau_end", ValueError),
        ({"tau_end": float("inf")}, "tau_end", ValueError),
        ({"ridge": -1.0}, "ridge", ValueError),
        ({"snapshots": 1}, "snapshots", ValueError),
        ({"rtol": 0.0}, "rtol", ValueError),
        ({"atol": "x"}, "atol", TypeError),
    ],
)
def test_limit_bad_inputs_name_the_argument(kwargs, name, exc):
    args = {"tau_end": 0.01} | kwargs
    with pytest.raises(exc, match=name):
        ttnn.two_timescale_limit(net_at(U12, 0.01), TGT, **args)
    with pytest.raises(TypeError, match="net"):
        ttnn.two_timescale_limit(U12, TGT, 0.01)


def test_sgd_in_the_two_timescale_regime_tracks_the_finite_limit():
    # E1 at the quick step (m = 20, η = 4e-3, ε = 2e-5, h = 1e-3, τ = 0.035,
    # noise U[−1, 1]): averaged over seeds, SGD's neurons stay within ~η of the
    # limit's while the limit moves them ~10 η, and its loss follows the
    # limit's L(a*(u), u) once the fast outer layer has relaxed (k ≥ 1; SGD
    # starts from a = 0, the limit from a*(u₀)).
    net = ttnn.Network.init(m=20, eta=4e-3, seed=0)
    h, eps, tau = 1e-3, 2e-5, 0.035
    steps = round(tau / (eps * h))
    lim = ttnn.two_timescale_limit(net, TGT, tau, snapshots=8)
    runs = [
        ttnn.sgd(
            net, TGT, h=h, eps=eps, steps=steps, noise=ttnn.UniformNoise(1.0), seed=s, snapshots=8
        )
        for s in range(4)
    ]
    for r in runs:
        np.testing.assert_allclose(eps * h * r.steps, lim.tau, rtol=1e-12, atol=1e-15)
    u_mean = np.mean([r.u for r in runs], axis=0)
    l2_mean = np.mean([r.l2 for r in runs], axis=0)
    moved = np.max(np.abs(lim.u[-1] - lim.u[0]))
    assert moved > 10 * net.eta
    gap = np.max(np.abs(u_mean - lim.u))
    assert gap < 2 * net.eta and gap < 0.2 * moved, (gap, moved)
    ratio = l2_mean[1:] / lim.l2[1:]
    assert np.all((ratio > 0.7) & (ratio < 2.0)), ratio
    assert lim.l2[-1] < 0.01 * lim.l2[0]
