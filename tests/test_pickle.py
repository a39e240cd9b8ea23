"""Every public object pickles and comes back equal (a Dask worker or a
multiprocessing pool needs it), and has a short repr (a few lines, no arrays)."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

import ttnn

TARGET = ttnn.PiecewiseConstant.paper()
X = np.random.default_rng(0).random((40, 2))
Y = X.sum(axis=1)


def _round_trip(obj):
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _objects():
    net = ttnn.Network.init(5, 4e-3, seed=1)
    teacher = ttnn.Network([0.5, 1.0, -2.0], [0.3, 0.6], 0.05, activation="relu")
    add = ttnn.AdditiveNetwork.init_paper(2, 4, seed=2)
    add_bias = ttnn.AdditiveNetwork(add.a, add.u, 0.02, activation="relu", bias=-0.5)
    return {
        "Network": net,
        "Network(teacher, relu)": teacher,
        "PiecewiseConstant": TARGET,
        "PiecewiseConstant(text)": ttnn.PiecewiseConstant.paper("text"),
        "AdditiveNetwork": add,
        "AdditiveNetwork(bias)": add_bias,
        "UniformNoise": ttnn.UniformNoise(0.5),
        "GaussianNoise": ttnn.GaussianNoise(2.0),
        "DivergenceError": ttnn.DivergenceError("SGD diverged at step 7", 7),
        "DivergenceError(run)": ttnn.DivergenceError("run 3: SGD diverged", 9, run=3),
    }


@pytest.mark.parametrize("name", list(_objects()))
def test_round_trip_equal_and_short_repr(name):
    obj = _objects()[name]
    back = _round_trip(obj)
    assert type(back) is type(obj)
    assert back == obj and not (back != obj)
    assert hash(back) == hash(obj)
    text = repr(obj)
    assert len(text.splitlines()) <= 3 and len(text) < 200, text
    assert "array(" not in text


def test_equality_is_on_content():
    net = ttnn.Network.init(5, 4e-3, seed=1)
    assert net == ttnn.Network.init(5, 4e-3, seed=1)
    assert net != ttnn.Network.init(5, 4e-3, seed=2)
    assert net != net.replace(a=net.a + 1.0)
    assert net != ttnn.Network(net.a, net.u, 5e-3)
    assert net != ttnn.Network(net.a, net.u, net.eta, activation="relu")
    assert net != TARGET and TARGET != ttnn.PiecewiseConstant.paper("text")
    add = ttnn.AdditiveNetwork.init_paper(2, 4, seed=2)
    assert add != ttnn.AdditiveNetwork(add.a, add.u, add.eta, bias=0.0)
    err = ttnn.DivergenceError("x", 3)
    assert err != ttnn.DivergenceError("x", 4) and err != ttnn.DivergenceError("x", 3, run=0)
    assert err != FloatingPointError("x")


def test_unpickled_objects_compute_the_same():
    net = _round_trip(ttnn.Network.init(6, 4e-3, seed=3))
    tgt = _round_trip(TARGET)
    x = np.linspace(0, 1, 101)
    np.testing.assert_array_equal(net(x), ttnn.Network.init(6, 4e-3, seed=3)(x))
    np.testing.assert_array_equal(tgt(x), TARGET(x))
    a = ttnn.sgd(net, tgt, h=1e-3, steps=300, seed=4)
    b = ttnn.sgd(ttnn.Network.init(6, 4e-3, seed=3), TARGET, h=1e-3, steps=300, seed=4)
    np.testing.assert_array_equal(a.u, b.u)
    add = ttnn.AdditiveNetwork.init_paper(2, 4, seed=2)
    np.testing.assert_array_equal(_round_trip(add)(X), add(X))
    # A pickled network is independent: its arrays stay read-only.
    assert not net.u.flags.writeable and not net.a.flags.writeable


def _results():
    net = ttnn.Network.init(20, 0.05, seed=0)
    add = ttnn.AdditiveNetwork.init_paper(2, 4, seed=0)
    return {
        "SGDResult": ttnn.sgd(net, TARGET, h=1e-3, steps=200, snapshots=3),
        "FlowResult": ttnn.gradient_flow(net, TARGET, 1.0, 0.05, snapshots=3),
        "LimitResult": ttnn.two_timescale_limit(net, TARGET, 0.01, snapshots=3),
        "GDResult": ttnn.full_batch_gd(add, X, Y, step_a=0.5, step_u=0.01, epochs=10),
        "GDResult(bias)": ttnn.full_batch_gd(
            ttnn.AdditiveNetwork(add.a, add.u, add.eta, bias=0.0),
            X,
            Y,
            step_a=0.5,
            step_u=0.01,
            epochs=10,
        ),
    }


def _same_fields(x, y) -> None:
    # Field by field, arrays bit for bit (whatever the result classes' own __eq__).
    assert type(x) is type(y)
    for f in dataclasses.fields(x):
        vx, vy = getattr(x, f.name), getattr(y, f.name)
        if isinstance(vx, np.ndarray):
            assert isinstance(vy, np.ndarray) and vx.dtype == vy.dtype, f.name
            np.testing.assert_array_equal(vx, vy, err_msg=f.name)
        else:
            assert vx == vy, f.name


@pytest.mark.parametrize("name", list(_results()))
def test_results_round_trip(name):
    res = _results()[name]
    back = _round_trip(res)
    _same_fields(back, res)
    assert back.final == res.final  # the rebuilt network too


def test_recorded_failures_of_an_ensemble_round_trip():
    nets = [ttnn.Network.init(4, 4e-3, seed=i) for i in range(2)]
    rec = ttnn.sgd_ensemble(nets, TARGET, h=[1e-3, 100.0], steps=2000, on_error="record")
    back = _round_trip(rec)
    _same_fields(back[0], rec[0])
    err = back[1]
    assert isinstance(err, ttnn.DivergenceError) and err == rec[1]
    assert (err.run, err.step) == (1, rec[1].step) and str(err).startswith("run 1: ")
