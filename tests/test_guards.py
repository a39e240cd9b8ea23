"""Honest numerics and resource guards (docs/guide/errors.md): overflow stops a
run at its step, requests too big for memory fail before allocating, and the
snapshot schedule cannot overflow. Bad arguments are in test_validation.py."""

import numpy as np
import pytest

import ttnn

T = ttnn.PiecewiseConstant.paper()


def test_overflow_in_a_saturated_neuron_stops_at_its_step():
    # The neuron at u = -1 is saturated: its a moves through the prefix add only.
    net = ttnn.Network([1.7e308, -1e308], [-1.0], 0.01)
    with pytest.raises(ttnn.DivergenceError) as info:
        ttnn.sgd(net, h=1.0, data=([0.5], [1.0]))
    assert info.value.step == 1


@pytest.mark.parametrize("m", [5, 100])  # the flat and the blocked prefix sums
def test_prefix_overflow_is_reported_at_the_step_it_happens(m):
    # Neuron 0 is saturated for every x in [0.5, 1) and, with h = 0.6, the
    # residual oscillates and grows until a_1 overflows; its a moves through
    # the prefix add alone (eps = 0, so no u moves; the other neurons sit far
    # right with a = 0). The expected step comes from a plain loop of the update
    # h r = h·2·(f − y), a_0 −= h r, a_1 −= h r (σ = 1), in the core's order of
    # operations (ttnn.reference forms r = 2(f − y) first, which overflows one
    # step before the parameters do).
    u = np.concatenate(([0.0], np.linspace(2.0, 3.0, m - 1)))
    a = np.zeros(m + 1)
    a[0], a[1] = -1e300, 1e306
    x = 0.5 + 0.5 * np.random.default_rng(0).random(100)
    a0, a1, first_bad = a[0], a[1], None
    with np.errstate(over="ignore", invalid="ignore"):
        for p in range(100):
            hr = np.float64(0.6) * 2.0 * (a0 + a1 - 0.0)
            a0, a1 = a0 - hr, a1 - hr
            if not (np.isfinite(hr) and np.isfinite(a0) and np.isfinite(a1)):
                first_bad = p + 1
                break
    assert first_bad is not None and first_bad > 10
    with pytest.raises(ttnn.DivergenceError) as info:
        ttnn.sgd(ttnn.Network(a, u, 0.01), h=0.6, eps=0.0, data=(x, np.zeros(100)))
    assert info.value.step == first_bad


def test_finite_parameters_with_an_overflowing_loss_report_inf_not_nan():
    net = ttnn.Network([1e200, 0.0], [0.5], 0.01)
    res = ttnn.sgd(net, T, h=1e-300, steps=1)
    assert np.all(np.isposinf(res.l2))


def test_snapshot_schedule_at_the_end_of_the_64_bit_range():
    assert ttnn.snapshot_steps(2**63 - 1, 2).tolist() == [0, 2**63 - 1]
    # round((2**63 - 1) / 2) with halves up is 2**62.
    assert ttnn.snapshot_steps(2**63 - 1, 3).tolist() == [0, 2**62, 2**63 - 1]
    steps = ttnn.snapshot_steps(2**63 - 1, 1000)
    assert steps[0] == 0 and steps[-1] == 2**63 - 1 and np.all(np.diff(steps) > 0)


HUGE = [
    # (call, what the message names); each needs terabytes
    (
        lambda: ttnn.sgd(ttnn.Network.init(1000, 4e-3), T, h=1e-3, steps=10**9, snapshots=10**9),
        "sgd",
    ),
    (
        lambda: ttnn.sgd_ensemble(
            [ttnn.Network.init(1000, 4e-3)] * 2, T, h=1e-3, steps=10**9, snapshots=10**9
        ),
        "sgd_ensemble",
    ),
    (lambda: ttnn.Network.init(10**12, 4e-3), "Network.init"),
    (lambda: ttnn.snapshot_steps(2**62, 2**50), "snapshot_steps"),
    (
        lambda: ttnn.gradient_flow(
            ttnn.Network.init(1000, 4e-3), T, eps=1.0, t_end=1.0, snapshots=2**31 - 1
        ),
        "snapshots",
    ),
    (lambda: ttnn.AdditiveNetwork.init_paper(10**6, 10**6), "AdditiveNetwork"),
    (lambda: ttnn.sample_stream(T, 10**13), "sample_stream"),
    (lambda: ttnn.shuffle_order(5, 10**13, 0), "shuffle_order"),
    (lambda: ttnn.shuffle_order(10**13, 1, 0), "shuffle_order"),
]


@pytest.mark.parametrize(("call", "what"), HUGE)
def test_requests_too_big_for_memory_fail_before_allocating(call, what):
    with pytest.raises(ValueError, match="GiB") as info:
        call()
    assert what in str(info.value)


def test_the_memory_bound_can_be_set(monkeypatch):
    monkeypatch.setenv("TTNN_MEMORY_LIMIT_GIB", "1")
    net = ttnn.Network.init(1000, 4e-3)
    # The cases of the issue: 1.5e6 snapshots at m = 1000 (~45 GiB), m = 10**9.
    with pytest.raises(ValueError, match=r"needs about 44.8 GiB, more than the 1 GiB"):
        ttnn.sgd(net, T, h=1e-3, steps=2 * 10**6, snapshots=1_500_000)
    with pytest.raises(ValueError, match="GiB"):
        ttnn.Network.init(10**9, 4e-3)
    with pytest.raises(ValueError, match="GiB"):
        ttnn.gradient_flow(net, T, eps=1.0, t_end=1.0, snapshots=10**7)
    ttnn.sgd(net, T, h=1e-3, steps=10, snapshots=11)  # small requests still run
    monkeypatch.setenv("TTNN_MEMORY_LIMIT_GIB", "lots")
    with pytest.raises(ValueError, match="TTNN_MEMORY_LIMIT_GIB"):
        ttnn.Network.init(10, 4e-3)


def test_small_requests_skip_the_memory_lookup_and_large_ones_do_not(monkeypatch):
    # Reading /proc/meminfo costs more than a short run: requests up to
    # SMALL_REQUEST never look (here the lookup would report no memory at all).
    from ttnn import _validate

    monkeypatch.delenv("TTNN_MEMORY_LIMIT_GIB", raising=False)
    monkeypatch.setattr(_validate, "_meminfo_available", lambda: 0)
    monkeypatch.setattr(_validate, "_cgroup_available", lambda: None)
    net = ttnn.Network.init(20, 4e-3)
    ttnn.sgd(net, T, h=1e-3, steps=10, snapshots=11)
    _validate.memory("a small request", _validate.SMALL_REQUEST)
    with pytest.raises(ValueError, match="GiB"):
        _validate.memory("a larger one", _validate.SMALL_REQUEST + 1)
    with pytest.raises(ValueError, match="sgd with 100000 snapshots"):
        ttnn.sgd(net, T, h=1e-3, steps=10**5, snapshots=10**5)  # ~35 MB


def test_gd_overflow_stops_at_its_epoch():
    # Data whose squares overflow are rejected up front (test_validation.py).
    net = ttnn.AdditiveNetwork.init_paper(2, 3, 1e-2, seed=0)
    X = np.random.default_rng(0).random((8, 2))
    # Residuals of ~1e300 are fine (the criterion is scaled, issue 23); weights that
    # leave the double range are not: a step of 1e308 doubles them past it.
    with pytest.raises(ttnn.DivergenceError) as info:
        ttnn.full_batch_gd(net, X, np.full(8, 1e150), step_a=1e308, step_u=1.0, epochs=10)
    assert info.value.step >= 1
