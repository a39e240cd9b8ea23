"""The finite-η limit when a*(u) is ill-posed (docs/maths/local_basis.md): its
objective J = L + (ridge + δ)‖a‖² never increases, every reported a is the limit's
a*(u) for its u, meeting neurons pass (the fixed Tikhonov δ keeps J continuous),
large m finishes within a step budget."""

import warnings

import numpy as np
import pytest

import ttnn
from ttnn import reference as ref
from ttnn.reference.local_basis import tikhonov

# Issue 13, point 4: two pairs of ramp neurons meet near tau = 0.0127. The code
# before the local basis returned a non-optimal a there and a limit loss jumping
# from 0.046 to 3.03 (after ~891k steps), without any error; the code before the
# Tikhonov term stopped there with DivergenceError.
MERGE_NET = ttnn.Network(
    np.zeros(6), [0.834, 0.398, 0.763, 0.32, 0.087], 0.48326450562963513, "ramp"
)
MERGE_TGT = ttnn.PiecewiseConstant([0.0638987939491309], [6.718981419889186, -3.643852537044216])


def best_objective(u, eta, target, act, ridge):
    """min_a L(a, u) + (ridge + δ)|a|², from the reference's dense solve of
    (G + (ridge + δ) I) a = b."""
    brk, val = np.asarray(target.breaks), np.asarray(target.values)
    a = ref.limit_outer(u, eta, brk, val, act, ridge)
    return ref.l2_error(a, u, eta, brk, val, act) + (ridge + tikhonov(len(u))) * a @ a


def assert_optimal_and_monotone(res, target, ridge):
    lam = ridge + tikhonov(res.u.shape[1])
    objective = res.limit_loss + lam * np.sum(res.a**2, axis=1)
    # Non-increasing up to the rounding of L (about 1e-16 |a|_1 sqrt(L)).
    slack = 1e-13 * objective[:-1] + 1e-15 * np.sum(np.abs(res.a[1:]), axis=1)
    assert np.all(np.diff(objective) <= slack)
    for k in range(len(res.tau)):
        best = best_objective(res.u[k], res.eta, target, res.activation, ridge)
        # J is minimal over a: the reference's own solve is accurate to about
        # 1e-16 cond(G + lam I) in a, i.e. its J to the square of that, relative.
        assert objective[k] <= best * (1 + 1e-8) + 1e-12, k


def test_merging_ramp_neurons_pass_the_meeting_without_a_ridge():
    """Issue 19, item 3: the meeting neither stops the run nor raises J."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ttnn.IllConditionedWarning)
        res = ttnn.two_timescale_limit(
            MERGE_NET, MERGE_TGT, tau_end=0.015, snapshots=16, max_steps=50_000
        )
    assert res.tau[-1] == 0.015
    assert res.limit_loss[-1] < 0.05  # the fit the old code lost (3.03 at tau = 0.013)
    assert_optimal_and_monotone(res, MERGE_TGT, 0.0)
    # The limit loss L itself: non-increasing up to the Tikhonov term's share of J.
    lam_a2 = tikhonov(5) * np.sum(res.a**2, axis=1)
    assert np.all(np.diff(res.limit_loss) <= lam_a2[:-1] + 1e-13)


def test_merging_ramp_neurons_before_the_meeting_are_optimal_and_monotone():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ttnn.two_timescale_limit(
            MERGE_NET, MERGE_TGT, tau_end=0.01268, snapshots=11, max_steps=50_000
        )
    assert res.cond[-1] > 1e8  # the pairs are close: a*(u) is ill-posed
    ill = [w for w in caught if issubclass(w.category, ttnn.IllConditionedWarning)]
    assert ill
    assert all(w.filename == __file__ for w in ill)  # it points at the caller's line
    assert_optimal_and_monotone(res, MERGE_TGT, 0.0)


def test_merging_ramp_neurons_pass_with_a_ridge():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ttnn.IllConditionedWarning)
        res = ttnn.two_timescale_limit(
            MERGE_NET, MERGE_TGT, tau_end=0.015, snapshots=16, ridge=1e-10, max_steps=50_000
        )
    assert res.stats["accepted"] + res.stats["rejected"] < 2_000
    assert res.limit_loss[-1] < 0.05
    assert_optimal_and_monotone(res, MERGE_TGT, 1e-10)


def test_m200_eight_breaks_finishes_with_a_non_increasing_loss():
    """Issue 9: m = 200, an 8-break target, tau_end = 2 took > 14 min with a rising
    limit loss. With ridge = 1e-10 (the limit without one: test_meetings.py). The step
    ceiling (accepted + rejected) is what a regression would blow; it is not a
    wall-clock bound."""
    rng = np.random.default_rng(0)
    tgt = ttnn.PiecewiseConstant(np.linspace(0.1, 0.9, 8), rng.integers(0, 6, 9).astype(float))
    net = ttnn.Network.init(200, 4e-3, seed=0)
    res = ttnn.two_timescale_limit(net, tgt, tau_end=2.0, snapshots=5, ridge=1e-10, max_steps=6_000)
    assert res.tau[-1] == 2.0
    assert res.limit_loss[-1] < 0.05 * res.limit_loss[0]
    assert np.all(np.isfinite(res.cond)) and np.all(np.isfinite(res.a))
    assert_optimal_and_monotone(res, tgt, 1e-10)


def test_max_steps_names_the_time_reached():
    net = ttnn.Network.init(20, 4e-3, seed=0)
    tgt = ttnn.PiecewiseConstant.paper()
    with pytest.raises(ttnn.StepLimitError, match=r"max_steps = 5 .*reached tau = ") as err:
        ttnn.two_timescale_limit(net, tgt, tau_end=1.0, max_steps=5)
    assert 0 < err.value.t < 1.0 and err.value.steps == 5
    with pytest.raises(ttnn.StepLimitError, match=r"reached t = "):
        ttnn.gradient_flow(net, tgt, eps=1.0, t_end=100.0, max_steps=5)
    with pytest.raises(ValueError, match="max_steps"):
        ttnn.gradient_flow(net, tgt, eps=1.0, t_end=1.0, max_steps=0)


def test_progress_counts_snapshots():
    net = ttnn.Network.init(10, 0.05, seed=0)
    tgt = ttnn.PiecewiseConstant([0.5], [0.0, 1.0])
    seen = []
    ttnn.two_timescale_limit(
        net, tgt, tau_end=0.01, snapshots=6, progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (5, 5)
    seen.clear()
    ttnn.gradient_flow(
        net, tgt, eps=1.0, t_end=0.1, snapshots=4, progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (3, 3)


@pytest.mark.parametrize("method", ["rosenbrock", "auto"])
def test_merging_ramp_neurons_under_the_implicit_methods(method):
    # The implicit steps obey the same accept rule: with or without a ridge the
    # pairs pass and J never rises.
    for ridge in (1e-10, 0.0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ttnn.IllConditionedWarning)
            res = ttnn.two_timescale_limit(
                MERGE_NET,
                MERGE_TGT,
                0.015,
                snapshots=16,
                ridge=ridge,
                max_steps=50_000,
                method=method,
            )
        assert res.limit_loss[-1] < 0.05
        assert_optimal_and_monotone(res, MERGE_TGT, ridge)


def test_the_stiff_late_limit_takes_few_implicit_steps():
    """Issue 9: the finite-η limit gets stiff as neurons settle on the breaks (curvature
    ~ Δ²/η): Dormand–Prince needs ~3600 steps to tau = 0.5 at m = 20 where the
    Rosenbrock method needs ~260 and the automatic switch ~190. Same answer (the
    three agree to the tolerance's order) and the loss non-increasing along each."""
    tgt = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(20, 4e-3, seed=0)
    runs = {
        meth: ttnn.two_timescale_limit(net, tgt, 0.5, snapshots=11, method=meth)
        for meth in ("rk45", "rosenbrock", "auto")
    }
    steps = {k: r.stats["accepted"] + r.stats["rejected"] for k, r in runs.items()}
    assert steps["rk45"] > 2_000  # stiff for the explicit method
    assert steps["rosenbrock"] < 600 and steps["auto"] < 600
    for meth in ("rosenbrock", "auto"):
        np.testing.assert_allclose(runs[meth].u, runs["rk45"].u, rtol=0, atol=1e-6)
        np.testing.assert_allclose(runs[meth].limit_loss, runs["rk45"].limit_loss, rtol=1e-6)
        assert_optimal_and_monotone(runs[meth], tgt, 0.0)


def test_limit_method_is_checked():
    net = ttnn.Network.init(3, 0.05, seed=0)
    with pytest.raises(ValueError, match="method"):
        ttnn.two_timescale_limit(net, ttnn.PiecewiseConstant.paper(), 0.1, method="bdf")
