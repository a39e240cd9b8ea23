"""The SGD kernel's internal variants against ttnn.reference (docs/maths/dynamics.md#online-sgd).

The C++ core picks a prefix-sum store by m and η (the store rule,
cpp/include/ttnn/sgd_sorted.hpp: "flat", or "blocked" with two levels of lazy
offsets, blocks of 32 entries and superblocks of 1024) and, when windows hold
about m·η ≥ 1 neurons, counts the window with a fixed-length loop that falls
back to a scan past 8 neurons; from m·η ≥ 8 the blocked store's online steps
find the window from the bucket table and step it with vectorised loops
("blocked-wide"). Each case names the variant it is meant to exercise and checks
it with `_core.sgd_kernel`, so that a change of the rule cannot move a case to
another variant unnoticed; each variant is held against the plain NumPy loop on
replayed streams, including neurons that cross each other around a block or
superblock boundary, windows longer than 8, runs past the kernel's resync every
4096 steps (which folds the lazy offsets into the entries) and mini-batches.
Mini-batch steps split over threads: tests/test_sgd_threads.py.
"""

import numpy as np
import pytest

import ttnn
from ttnn import _core
from ttnn import reference as ref


def kernel(net, batch=1, threads=1):
    """The kernel variant a run of `net` takes (the C++ core's own answer)."""
    return _core.sgd_kernel(net._c, batch, threads)


def stream(n, seed=0):
    rng = np.random.default_rng(seed)
    t = ttnn.PiecewiseConstant.paper()
    x = rng.random(n)
    return x, t(x) + rng.uniform(-1, 1, n)


def check_against_reference(net, h, eps, x, y, snapshots=4):
    res = ttnn.sgd(net, h=h, eps=eps, data=(x, y), snapshots=snapshots)
    _, A, U = ref.sgd_replay(
        net.a, net.u, net.eta, eps, h, x, y, activation=net.activation, snapshot_steps=res.steps
    )
    np.testing.assert_allclose(res.a, A, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.u, U, rtol=0, atol=1e-10)
    return res


@pytest.mark.parametrize(
    ("m", "eta", "variant"),
    [(20, 4e-3, "flat"), (32, 4e-3, "flat"), (33, 4e-3, "flat"), (64, 4e-3, "flat")]
    + [(65, 4e-3, "blocked"), (100, 4e-3, "blocked"), (1000, 4e-3, "blocked")]
    + [(1024, 4e-3, "blocked"), (2048, 4e-3, "blocked-wide"), (3000, 4e-3, "blocked-wide")]
    + [(8, 1.0, "flat"), (12, 0.3, "blocked"), (20, 0.1, "blocked"), (48, 0.02, "blocked")],
)
def test_both_prefix_stores_equal_reference(m, eta, variant):
    # m around the block size and the flat/blocked switch at η = 4e-3 (64 | 65),
    # the bench's sizes, whole superblocks (1024, 2048: the prefix sums at n = m
    # reach the padding), several superblocks with wide windows (m·η ≥ 8 from
    # m = 2000); then small m with wide windows: flat with the whole network in
    # every window (8, 1.0), blocked at 12, 20 and 48.
    net = ttnn.Network.init(m=m, eta=eta, seed=3)
    assert kernel(net) == variant
    x, y = stream(10_000, seed=4)
    res = check_against_reference(net, 1e-4, 1e-3, x, y)
    assert np.max(np.abs(res.a[-1])) > 0.05  # it did learn something (a starts at 0)


@pytest.mark.parametrize("m", [1, 7, 8, 15, 16, 20, 24, 32, 33, 48, 64])
def test_flat_store_at_small_m(m):
    # The flat store from 1 neuron to its largest m, with windows as wide as it
    # takes them (η = 0.05, or from m = 26 on just under the rule's bound): they change
    # single a_k often, eps makes neurons cross, and the snapshots read mid-run.
    # Larger eps is chaotic (rounding grows to O(1) between any two exact codes
    # within the 3000 steps): 0.2 at η = 0.05, and 0.005 for the narrower
    # windows, whose steeper σ′_η move u further per step.
    rng = np.random.default_rng(20 + m)
    eta = min(0.05, 0.95 * 32 / m**2)
    eps = 0.2 if eta == 0.05 else 0.005
    net = ttnn.Network(rng.normal(size=m + 1), rng.random(m), eta=eta)
    assert kernel(net) == "flat"
    x, y = stream(3000, seed=21)
    res = check_against_reference(net, 2e-4, eps, x, y, snapshots=7)
    if m >= 7:
        assert not np.array_equal(np.argsort(res.u[0]), np.argsort(res.u[-1])), "no crossing"


@pytest.mark.parametrize(("m", "variant"), [(20, "flat"), (100, "blocked")])
def test_snapshots_do_not_change_the_run(m, variant):
    # Reading the parameters for a snapshot must not change how the run rounds
    # (the blocked store keeps lazy offsets per block).
    tgt = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(m, 4e-3, seed=1)
    assert kernel(net) == variant
    runs = [
        ttnn.sgd(net, tgt, h=1e-3, eps=1e-3, steps=30_000, seed=2, snapshots=k) for k in (2, 301)
    ]
    np.testing.assert_array_equal(runs[0].a[-1], runs[1].a[-1])
    np.testing.assert_array_equal(runs[0].u[-1], runs[1].u[-1])


# Neurons that cross each other in wide windows, on each store. Each case: the store,
# the seed, the groups of neurons (count, lo, hi) drawn uniformly in that order, η, eps.
CROSSING = {
    # 40 neurons: 26 spread over [0, 0.29), 14 clustered on [0.3, 0.32), i.e. at sorted
    # positions 26..39 across the block boundary at 32. Wide windows (m·η = 4, and all 14
    # clustered neurons in one window: longer than the 8-neuron count) and eps = 1 make
    # them cross.
    "across a block boundary": ("blocked", 11, [(26, 0.0, 0.29), (14, 0.3, 0.32)], 0.1, 1.0),
    # 12 of 20 neurons in one window (m·η = 1.5, still the flat store): the count falls
    # back to a scan. eps = 0.75 makes them cross (1.0 is chaotic at this η for the cubic).
    "long windows, flat store": ("flat", 13, [(12, 0.5, 0.52), (8, 0.0, 1.0)], 0.075, 0.75),
}


@pytest.mark.parametrize("act", ["cubic", "ramp"])
@pytest.mark.parametrize("case", sorted(CROSSING))
def test_crossing_neurons_match_the_reference(case, act):
    store, seed, groups, eta, eps = CROSSING[case]
    rng = np.random.default_rng(seed)
    u = np.concatenate([rng.uniform(lo, hi, n) for n, lo, hi in groups])
    net = ttnn.Network(rng.normal(size=u.size + 1), u, eta=eta, activation=act)
    assert kernel(net) == store
    x, y = stream(3000, seed=seed + 1)
    res = check_against_reference(net, 2e-4, eps, x, y)
    assert not np.array_equal(np.argsort(res.u[0]), np.argsort(res.u[-1])), "no crossing"


def test_neurons_outside_the_unit_interval():
    # The bucket table covers [0, 1); neurons beyond it are found by the scans.
    rng = np.random.default_rng(15)
    u = np.concatenate([rng.uniform(-0.3, 0.0, 20), rng.uniform(1.0, 1.3, 20), rng.random(60)])
    net = ttnn.Network(rng.normal(size=101), u, eta=4e-3)
    assert kernel(net) == "blocked"
    x, y = stream(5000, seed=16)
    check_against_reference(net, 1e-4, 1e-3, x, y)


def test_divergence_names_the_step_with_blocked_store():
    # test_sgd.py checks m = 20 (flat store); this is the blocked one.
    t = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(m=200, eta=4e-3, seed=0)
    assert kernel(net) == "blocked"
    with pytest.raises(ttnn.DivergenceError) as info:
        ttnn.sgd(net, t, h=5.0, eps=1.0, steps=100_000)
    step = info.value.step
    assert 1 <= step <= 100_000
    # One step earlier everything is still finite: the step named is the first bad one.
    res = ttnn.sgd(net, t, h=5.0, eps=1.0, steps=step - 1)
    assert np.all(np.isfinite(res.a)) and np.all(np.isfinite(res.u))


@pytest.mark.parametrize("act", ["cubic", "ramp"])
def test_neurons_crossing_a_superblock_boundary_in_wide_windows(act):
    # 1040 neurons: 1000 spread over [0, 0.9), 40 clustered on [0.92, 0.95), at
    # sorted positions 1000..1039 across the superblock boundary at 1024 (and the
    # block boundary at 1024). m·η = 10.4: the wide-window step, with all 40
    # clustered neurons in some windows; eps = 0.1 makes them cross (larger
    # steps make the clustered neurons chaotic: rounding then grows to O(1)).
    # 6000 steps pass the resync at step 4096.
    rng = np.random.default_rng(17)
    u = np.concatenate([rng.uniform(0, 0.9, 1000), rng.uniform(0.92, 0.95, 40)])
    net = ttnn.Network(0.1 * rng.normal(size=1041), u, eta=0.01, activation=act)
    assert kernel(net) == "blocked-wide"
    x, y = stream(6000, seed=18)
    res = check_against_reference(net, 2e-4, 0.1, x, y)
    assert not np.array_equal(np.argsort(res.u[0][1000:]), np.argsort(res.u[-1][1000:]))


@pytest.mark.parametrize(
    ("batch", "variant"), [(1, "blocked-wide"), (4, "blocked"), (32, "blocked")]
)
def test_two_level_store_in_mini_batches(batch, variant):
    # Several superblocks (m = 2500) with wide windows, mini-batches whose prefix
    # adds land in different superblocks (add_prefixes' deferred top level), and
    # neurons that move and cross (h = 1e-4: at 1e-3 the run diverges at this m);
    # 9600 draws cross the resync at step 4096 for B = 1.
    rng = np.random.default_rng(19)
    m, eta, h, eps = 2500, 4e-3, 1e-4, 0.03
    steps = 9600 // batch
    x, y = stream(steps * batch, seed=20)
    net = ttnn.Network(0.1 * rng.normal(size=m + 1), np.sort(rng.random(m)), eta)
    # serial steps whatever the thread count (the split ones: test_sgd_threads.py)
    assert kernel(net, batch, 1) == kernel(net, batch, 2) == variant
    res = ttnn.sgd(net, h=h, eps=eps, data=(x, y), batch=batch, snapshots=3)
    _, A, U = ref.sgd_replay(net.a, net.u, eta, eps, h, x, y, snapshot_steps=res.steps, batch=batch)
    assert np.any(np.diff(res.u[-1]) < 0)  # neurons crossed (u starts sorted)
    np.testing.assert_allclose(res.a, A, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.u, U, rtol=0, atol=1e-10)
