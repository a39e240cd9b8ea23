"""ttnn.sweep beyond the paper's setting: a teacher target (sgd, flow, finite-η limit),
mini-batches (sgd) and the full-batch criterion (gd), each run equal to the direct call."""

from __future__ import annotations

import numpy as np
import pytest

import ttnn

pytest.importorskip("xarray")
pytest.importorskip("zarr")

# The ReLU teacher of E5 (kinks 0.3, 0.5, 0.7) plus a neuron outside [0, 1].
TEACHER = ttnn.Network([0.0, 1.0, -2.0, 3.0, 0.5], [0.3, 0.5, 0.7, 1.2], 1.0, "relu")


def _same(x, y) -> None:
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _cells(ds):
    keys = list(ds.l2.dims)
    for idx in np.ndindex(*ds.l2.shape):
        sel = dict(zip(keys, idx, strict=True))
        run = ds.isel(sel)
        yield {k: run[k].item() for k in keys[:-1]}, run


def test_sgd_sweep_with_a_teacher_and_batches_equals_direct_calls():
    ds = ttnn.sweep(
        "sgd",
        grid={"batch": [1, 8]},
        repeats=2,
        seed=3,
        target=TEACHER,
        m=6,
        eta=1.0,
        activation="relu",
        h=1e-2,
        steps=300,
        noise=ttnn.UniformNoise(0.5),
        snapshots=3,
    )
    assert set(ds.status.values.ravel()) == {"ok"}
    # The break dimension holds the teacher's kinks inside [0, 1].
    _same(ds["break"].values, [0.3, 0.5, 0.7])
    assert ds.attrs["settings"]["target"]["teacher"]["activation"] == "relu"
    for coords, run in _cells(ds):
        net = ttnn.Network.init(6, 1.0, seed=int(run.init_seed), activation="relu")
        res = ttnn.sgd(
            net,
            TEACHER,
            h=1e-2,
            steps=300,
            noise=ttnn.UniformNoise(0.5),
            seed=int(run.seed),
            snapshots=3,
            batch=coords["batch"],
        )
        _same(run.u.values, res.u[-1])
        _same(run.a.values, res.a[-1])
        _same(run.l2_path.values, res.l2)
        _same(run.covered.values, ttnn.breaks_covered(res.u[-1], TEACHER, tol=2.0))
    # A batch of 8 is not a batch of 1.
    assert not np.array_equal(ds.u.isel(batch=0).values, ds.u.isel(batch=1).values)


def test_flow_and_limit_sweeps_with_a_teacher_equal_direct_calls():
    teacher = ttnn.Network([0.5, 1.0, -1.0], [0.35, 0.65], 0.05, "cubic")
    kw = dict(target=teacher, eta=0.05, snapshots=2)
    flow = ttnn.sweep("flow", grid={"eps": [0.5, 1.0]}, m=5, tau=0.05, **kw)
    lim = ttnn.sweep("limit", grid={"m": [4, 6]}, tau=0.02, **kw)
    assert set(flow.status.values.ravel()) == set(lim.status.values.ravel()) == {"ok"}
    for coords, run in _cells(flow):
        net = ttnn.Network.init(5, 0.05, seed=int(run.init_seed))
        res = ttnn.gradient_flow(
            net, teacher, coords["eps"], 0.05 / coords["eps"], snapshots=2, method="auto"
        )
        _same(run.u.values, res.u[-1])
        assert run.l2.item() == res.l2[-1]
    for coords, run in _cells(lim):
        m = coords["m"]
        net = ttnn.Network.init(m, 0.05, seed=int(run.init_seed))
        res = ttnn.two_timescale_limit(net, teacher, 0.02, snapshots=2, method="auto")
        _same(run.u.values[:m], res.u[-1])
        assert run.l2.item() == res.l2[-1]


def test_zero_limit_sweep_refuses_a_teacher():
    # No run can take it: an error before anything runs.
    with pytest.raises(ValueError, match="step target"):
        ttnn.sweep("limit", target=TEACHER, limit="zero", m=4, eta=0.05, tau=0.01)


def test_gd_sweep_with_the_mse_criterion_equals_direct_calls():
    ds = ttnn.sweep("gd", grid={"loss": ["norm", "mse"]}, epochs=20, n=100, d=2, m=4)
    assert set(ds.status.values.ravel()) == {"ok"}
    for coords, run in _cells(ds):
        net = ttnn.AdditiveNetwork.init_paper(2, 4, 1e-2, seed=int(run.init_seed))
        X = np.random.default_rng(int(run.seed)).random((100, 2))
        y = (X[:, :, None] > np.array([0.3, 0.5, 0.7])).sum(axis=(1, 2)).astype(float)
        res = ttnn.full_batch_gd(net, X, y, step_a=1.0, step_u=0.01, epochs=20, loss=coords["loss"])
        _same(run.u.values, res.u[-1].ravel())
        assert run.l2.item() == res.criterion[-1]
    assert ds.l2.sel(loss="norm").item() != ds.l2.sel(loss="mse").item()


def test_a_sweep_not_giving_the_new_settings_keeps_its_hashes():
    # batch and loss enter a run's settings only when given: stores written before
    # them resume, and batch=1 is the same run as no batch at all.
    plain = ttnn.sweep("sgd", h=1e-3, steps=10, m=3)
    one = ttnn.sweep("sgd", h=1e-3, steps=10, m=3, batch=1)
    assert "batch" not in plain.attrs["settings"]
    _same(plain.u.values, one.u.values)


def test_sgd_sweep_on_finite_datasets_equals_direct_calls():
    # n samples per run, drawn as the run's sampled stream would be, then E epochs,
    # reshuffled from the run's seed.
    tgt = ttnn.PiecewiseConstant.paper()
    noise = ttnn.UniformNoise(0.5)
    ds = ttnn.sweep(
        "sgd",
        grid={"shuffle": [False, True], "n": [40, 64]},
        repeats=2,
        m=5,
        eta=0.05,
        h=1e-2,
        steps=30,
        batch=4,
        epochs=3,
        noise=noise,
    )
    assert set(ds.status.values.ravel()) == {"ok"}
    for coords, run in _cells(ds):
        seed = int(run.seed)
        x, y = ttnn.sample_stream(tgt, coords["n"], noise=noise, seed=seed)
        res = ttnn.sgd(
            ttnn.Network.init(5, 0.05, seed=int(run.init_seed)),
            tgt,
            h=1e-2,
            steps=30,
            batch=4,
            data=(x, y),
            epochs=3,
            shuffle=coords["shuffle"],
            seed=seed if coords["shuffle"] else None,
        )
        _same(run.u.values, res.u[-1])
        _same(run.a.values, res.a[-1])
        assert run.l2.item() == res.l2[-1]
    # Shuffling changes the runs; the same seeds without shuffling do not.
    assert not np.array_equal(ds.u.sel(shuffle=True).values, ds.u.sel(shuffle=False).values)
    # A value no run can take (more draws than its data holds) is an error naming it;
    # a combination that fails where the values do not is a refused run.
    with pytest.raises(ValueError, match=r"grid\['n'\] value 5 .*exceeds the 15 draws"):
        ttnn.sweep("sgd", grid={"n": [5, 40]}, m=3, h=1e-2, steps=30, batch=4, epochs=3)
    short = ttnn.sweep("sgd", grid={"n": [5, 40], "steps": [3, 30]}, m=3, h=1e-2, batch=4, epochs=3)
    assert short.status.values.ravel().tolist() == ["ok", "refused", "ok", "ok"]
    assert "exceeds the 15 draws" in short.message.values.ravel()[1]


def test_a_teacher_given_as_a_table_is_the_same_sweep():
    # The form a TOML spec (ttnn sweep) uses: same canonical settings, same hashes.
    from ttnn._sweep.spec import make_spec

    table = {"teacher": {"a": TEACHER.a.tolist(), "u": TEACHER.u.tolist(), "eta": 1.0}}
    table["teacher"]["activation"] = "relu"
    kw = dict(h=1e-3, steps=10)
    one = make_spec("sgd", {"eps": [1.0]}, 1, 0, dict(target=TEACHER, **kw))
    two = make_spec("sgd", {"eps": [1.0]}, 1, 0, dict(target=table, **kw))
    assert one.spec_hash() == two.spec_hash()
    assert [r.run_hash for r in one.runs] == [r.run_hash for r in two.runs]


def test_bad_new_sweep_settings_are_named():
    with pytest.raises(TypeError, match="teacher"):
        ttnn.sweep("sgd", h=1e-3, steps=10, target={"teacher": {"a": [0.0, 1.0]}})
    with pytest.raises(ValueError, match="eta"):
        ttnn.sweep(
            "sgd", h=1e-3, steps=10, target={"teacher": {"a": [0.0, 1.0], "u": [0.5], "eta": -1}}
        )
    with pytest.raises(TypeError, match="batch"):
        ttnn.sweep("sgd", h=1e-3, steps=10, batch=1.5)
    # Values no run can take: errors naming them, before anything runs.
    with pytest.raises(ValueError, match=r"grid\['batch'\] value 0.*batch must be >= 1"):
        ttnn.sweep("sgd", grid={"batch": [0, 2]}, h=1e-3, steps=10, m=3)
    with pytest.raises(TypeError, match="shuffle"):
        ttnn.sweep("sgd", h=1e-3, steps=10, n=20, shuffle=1)
    with pytest.raises(ValueError, match="need n"):
        ttnn.sweep("sgd", h=1e-3, steps=10, m=3, epochs=2)
    with pytest.raises(ValueError, match="n must be >= 1"):
        ttnn.sweep("sgd", h=1e-3, steps=10, m=3, n=0)
    with pytest.raises(ValueError, match="loss"):
        ttnn.sweep("gd", loss="l1", epochs=2, n=10, m=2)
