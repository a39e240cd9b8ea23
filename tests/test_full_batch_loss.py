"""full_batch_gd's criterion: the paper's norm (default) or the mean squared error."""

from __future__ import annotations

import numpy as np
import pytest

import ttnn
from ttnn import reference as ref

THRESHOLDS = np.array([0.3, 0.5, 0.7])


def _batch(n: int = 150, d: int = 2, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(seed).random((n, d))
    return X, (X[:, :, None] > THRESHOLDS).sum(axis=(1, 2)).astype(float)


def _net(act: str, bias: float | None) -> ttnn.AdditiveNetwork:
    base = ttnn.AdditiveNetwork.init_paper(2, m=8, eta=0.05, seed=3)
    a = base.a if act != "relu" else base.a / 3.0
    return ttnn.AdditiveNetwork(a, base.u, 0.05, act, bias)


@pytest.mark.parametrize("act", ["cubic", "ramp", "relu"])
@pytest.mark.parametrize("bias", [None, 0.4])
def test_mse_criterion_and_gradient_match_reference(act: str, bias: float | None) -> None:
    X, y = _batch()
    net = _net(act, bias)
    r = net(X) - y
    assert net.criterion(X, y, loss="mse") == pytest.approx(np.mean(r**2), rel=1e-13)
    assert net.criterion(X, y) == pytest.approx(np.linalg.norm(r) / len(r), rel=1e-13)
    ga, gu, gb = net.criterion_gradient(X, y, loss="mse")
    rga, rgu, rgb = ref.additive_gradient(net.a, net.u, 0.05, X, y, act, bias, loss="mse")
    np.testing.assert_allclose(ga, rga, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(gu, rgu, rtol=1e-11, atol=1e-13)
    if bias is not None:
        assert gb == pytest.approx(rgb, rel=1e-11)


@pytest.mark.parametrize("act", ["cubic", "relu"])
def test_mse_gradient_matches_finite_differences(act: str) -> None:
    X, y = _batch(80)
    net = _net(act, 0.3)
    ga, gu, gb = net.criterion_gradient(X, y, loss="mse")
    h = 1e-6

    def crit(a=net.a, u=net.u, b=0.3) -> float:
        return ttnn.AdditiveNetwork(a, u, 0.05, act, b).criterion(X, y, loss="mse")

    for j, k in [(0, 0), (3, 1), (7, 0)]:
        d = np.zeros_like(net.a)
        d[j, k] = h
        fd_a = (crit(a=net.a + d) - crit(a=net.a - d)) / (2 * h)
        fd_u = (crit(u=net.u + d) - crit(u=net.u - d)) / (2 * h)
        assert ga[j, k] == pytest.approx(fd_a, rel=1e-6, abs=1e-8)
        assert gu[j, k] == pytest.approx(fd_u, rel=1e-5, abs=1e-7)
    assert gb == pytest.approx((crit(b=0.3 + h) - crit(b=0.3 - h)) / (2 * h), rel=1e-6)


@pytest.mark.parametrize("act", ["cubic", "ramp", "relu"])
def test_mse_gd_trajectory_matches_reference(act: str) -> None:
    X, y = _batch()
    net = _net(act, 0.2)
    res = ttnn.full_batch_gd(net, X, y, step_a=0.2, step_u=0.01, epochs=30, loss="mse")
    a, u, b = net.a, net.u, 0.2
    for _ in range(30):
        a, u, b = ref.additive_gd_epoch(a, u, 0.05, X, y, 0.2, 0.01, act, b, loss="mse")
    np.testing.assert_allclose(res.a[-1], a, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.u[-1], u, rtol=1e-10, atol=1e-12)
    assert res.loss == "mse"
    assert res.criterion[-1] == pytest.approx(
        ref.additive_criterion(a, u, 0.05, X, y, act, b, loss="mse"), rel=1e-10
    )
    assert res.criterion[-1] < res.criterion[0]


def test_default_is_the_papers_norm_and_ensembles_take_loss() -> None:
    X, y = _batch()
    net = _net("cubic", None)
    kw = dict(step_a=1.0, step_u=0.01, epochs=20)
    default = ttnn.full_batch_gd(net, X, y, **kw)
    norm = ttnn.full_batch_gd(net, X, y, loss="norm", **kw)
    np.testing.assert_array_equal(default.a, norm.a)
    assert default.loss == "norm"
    mse = ttnn.full_batch_gd(net, X, y, loss="mse", **kw)
    assert not np.array_equal(mse.a, norm.a)
    ens = ttnn.full_batch_gd_ensemble([net, net], X, y, loss="mse", threads=2, **kw)
    np.testing.assert_array_equal(ens[1].a, mse.a)
    for bad, exc in (("l2", ValueError), (2, TypeError)):
        with pytest.raises(exc, match="loss"):
            ttnn.full_batch_gd(net, X, y, loss=bad, **kw)
        with pytest.raises(exc, match="loss"):
            ttnn.full_batch_gd_ensemble([net], X, y, loss=bad, **kw)
        with pytest.raises(exc, match="loss"):
            net.criterion(X, y, loss=bad)
