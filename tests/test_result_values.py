"""Run results as Python values: read-only, comparable, short to print, storable."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ttnn


@pytest.fixture(scope="module")
def results() -> dict[str, object]:
    tgt = ttnn.PiecewiseConstant.paper()
    net = ttnn.Network.init(m=6, eta=4e-3, seed=0)
    X = np.random.default_rng(0).random((40, 2))
    y = (X > 0.5).sum(axis=1).astype(float)
    gd_net = ttnn.AdditiveNetwork.init_paper(d=2, m=3, eta=1e-2, seed=0)
    return {
        "sgd": ttnn.sgd(net, tgt, h=1e-3, eps=1e-2, steps=2000, seed=1, snapshots=300),
        "replay": ttnn.sgd(net, h=1e-3, data=(X[:, 0], y), snapshots=3),  # l2 is None
        "flow": ttnn.gradient_flow(net, tgt, eps=1e-2, t_end=1.0, snapshots=7),
        "limit": ttnn.two_timescale_limit(net, tgt, tau_end=1e-3, snapshots=5),
        "zero": ttnn.two_timescale_limit(
            ttnn.Network.init(m=20, eta=4e-3, seed=1), tgt, tau_end=1e-3, limit="zero", snapshots=4
        ),
        "gd": ttnn.full_batch_gd(gd_net, X, y, step_a=1.0, step_u=0.01, epochs=20, snapshots=4),
        "gd_bias": ttnn.full_batch_gd(
            ttnn.AdditiveNetwork(gd_net.a, gd_net.u, 1e-2, bias=0.5),
            X,
            y,
            step_a=1.0,
            step_u=0.01,
            epochs=20,
            snapshots=4,
        ),
    }


KINDS = ["sgd", "replay", "flow", "limit", "zero", "gd", "gd_bias"]


def _arrays(res: object) -> dict[str, np.ndarray]:
    return {k: v for k, v in vars(res).items() if isinstance(v, np.ndarray)}


@pytest.mark.parametrize("kind", KINDS)
def test_arrays_are_read_only(results: dict, kind: str) -> None:
    res = results[kind]
    arrays = _arrays(res)
    assert {"a", "u"} <= set(arrays)
    for name, arr in arrays.items():
        with pytest.raises(ValueError, match="read-only"):
            arr.flat[0] = 1.0
        assert not arr.flags.writeable, name
    with pytest.raises(AttributeError):
        res.a = np.zeros(3)  # type: ignore[misc]


@pytest.mark.parametrize("kind", KINDS)
def test_equality_copy_and_pickle(results: dict, kind: str) -> None:
    res = results[kind]
    for other in (copy.deepcopy(res), copy.copy(res), pickle.loads(pickle.dumps(res))):
        assert other == res
        assert not (other != res)
        # Pickle does not keep an array's flags: the rebuilt result must freeze again.
        assert all(not a.flags.writeable for a in _arrays(other).values())
    assert res != "something else"
    with pytest.raises(TypeError):
        hash(res)


def test_equality_sees_one_changed_entry(results: dict) -> None:
    res = results["sgd"]
    u = np.array(res.u)
    u[-1, -1] = np.nextafter(u[-1, -1], 2.0)  # one ulp in one entry
    assert type(res)(**{**vars(res), "u": u}) != res
    assert type(res)(**{**vars(res), "h": res.h * 2}) != res
    # Same values, another shape: a result refuses to be built (Result._check_values).
    with pytest.raises(ValueError, match="l2 must be 1-D"):
        type(res)(**{**vars(res), "l2": res.l2[:, None]})


def test_stats_are_read_only(results: dict) -> None:
    stats = results["flow"].stats
    assert stats["accepted"] > 0
    with pytest.raises(TypeError):
        stats["accepted"] = 0


def test_constructor_does_not_freeze_the_callers_arrays(results: dict) -> None:
    res = results["sgd"]
    u = np.array(res.u)
    type(res)(**{**vars(res), "u": u})
    assert u.flags.writeable


@pytest.mark.parametrize("kind", KINDS)
def test_repr_is_short(results: dict, kind: str) -> None:
    text = repr(results[kind])
    assert text.startswith(type(results[kind]).__name__ + "(")
    assert len(text.splitlines()) <= 4
    assert len(text) < 400  # the sgd result holds 300 × 6 positions
    assert "snapshots" in text


def test_repr_names_settings_and_ends() -> None:
    tgt = ttnn.PiecewiseConstant.paper()
    res = ttnn.sgd(ttnn.Network.init(m=3, eta=4e-3, seed=0), tgt, h=1e-3, steps=10, snapshots=2)
    text = repr(res)
    assert "h=0.001" in text and "eps=1.0" in text and "steps: 0 → 10" in text
    assert f"{res.l2[-1]:.4g}" in text


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip(results: dict, kind: str, tmp_path) -> None:
    res = results[kind]
    path = tmp_path / f"{kind}.npz"
    res.save(path)
    back = ttnn.load(path)
    assert type(back) is type(res)
    assert back == res
    assert all(not a.flags.writeable for a in _arrays(back).values())
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def test_save_refuses_other_suffixes_and_load_other_files(results: dict, tmp_path) -> None:
    with pytest.raises(ValueError, match="npz"):
        results["sgd"].save(tmp_path / "x.nc")
    np.savez(tmp_path / "plain.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="not a saved ttnn result"):
        ttnn.load(tmp_path / "plain.npz")


@pytest.mark.parametrize("kind", ["sgd", "flow", "limit", "zero"])
def test_to_xarray_univariate(results: dict, kind: str) -> None:
    pytest.importorskip("xarray")
    res = results[kind]
    ds = res.to_xarray()
    k, m = res.u.shape
    # The names of a sweep's Dataset: a whole over coef (bias first).
    assert dict(ds.sizes) == {"snapshot": k, "neuron": m, "coef": m + 1}
    assert ds["u"].dims == ("snapshot", "neuron") and ds["a"].dims == ("snapshot", "coef")
    np.testing.assert_array_equal(ds["u"].values, res.u)
    np.testing.assert_array_equal(ds["a"].values, res.a)
    np.testing.assert_array_equal(ds["coef"].values, np.arange(m + 1))
    assert "a0" not in ds
    np.testing.assert_array_equal(ds["l2"].values, res.l2)
    np.testing.assert_array_equal(ds["tau"].values, res.tau)
    assert ds.attrs["eta"] == res.eta and ds.attrs["activation"] == res.activation
    assert ds.attrs["ttnn_result"] == type(res).__name__


def test_to_xarray_sgd_and_gd_axes(results: dict) -> None:
    pytest.importorskip("xarray")
    sgd = results["sgd"].to_xarray()
    np.testing.assert_array_equal(sgd["step"].values, results["sgd"].steps)
    assert "steps" not in sgd.coords
    assert sgd.attrs["h"] == 1e-3 and sgd.attrs["batch"] == 1
    assert "l2" not in results["replay"].to_xarray()
    flow = results["flow"].to_xarray()
    assert flow.attrs["stats_accepted"] == results["flow"].stats["accepted"]
    gd = results["gd_bias"]
    ds = gd.to_xarray()
    assert ds["a"].dims == ("snapshot", "neuron", "dim")
    assert dict(ds.sizes) == {"snapshot": 4, "neuron": 3, "dim": 2}
    np.testing.assert_array_equal(ds["bias"].values, gd.bias)
    np.testing.assert_array_equal(ds["criterion"].values, gd.criterion)
    np.testing.assert_array_equal(ds["epoch"].values, gd.epochs)
    assert ds.attrs["step_u"] == 0.01 and ds.attrs["loss"] == "norm"
    assert "bias" not in results["gd"].to_xarray()


def test_to_xarray_legacy_names_still_work_with_a_warning(results: dict) -> None:
    pytest.importorskip("xarray")
    res = results["sgd"]
    with pytest.warns(DeprecationWarning, match="legacy"):
        old = res.to_xarray(legacy=True)
    np.testing.assert_array_equal(old["steps"].values, res.steps)
    np.testing.assert_array_equal(old["a0"].values, res.a[:, 0])
    np.testing.assert_array_equal(old["a"].values, res.a[:, 1:])
    assert old["a"].dims == ("snapshot", "neuron")
    with pytest.warns(DeprecationWarning):
        gd = results["gd_bias"].to_xarray(legacy=True)
    np.testing.assert_array_equal(gd["epochs"].values, results["gd_bias"].epochs)
