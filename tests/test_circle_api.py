"""The public circle API (ttnn.circle): arguments checked before any work, the single
run as the one-run ensemble bit for bit, results equal to the private core's call, and
the wrapped fields (the maths is tested in test_circle.py against ttnn.reference)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ttnn
from ttnn import _core, circle
from ttnn.reference import circle as ref


@pytest.fixture(scope="module")
def teacher() -> circle.Teacher:
    return circle.Teacher(gamma=100.0, particles=256, seed=3)


def small(**kw: Any) -> circle.CircleRun:
    base: dict[str, Any] = dict(M=16, N=128, iterations=40, snapshots=(0, 5, 40))
    base.update(kw)
    return circle.CircleRun(**base)


def test_teacher(teacher: circle.Teacher) -> None:
    np.testing.assert_array_equal(teacher.angles, _core.circle_sample_rho(256, 100.0, 3))
    th = np.linspace(-np.pi, np.pi, 7)
    np.testing.assert_allclose(teacher.density(th), ref.rho(th, 100.0), rtol=1e-13)
    m = teacher.cell_masses(64)
    # Masses of ρ_γ on the cells: their sum is the total mass, 1.
    assert m.shape == (64,) and abs(m.sum() - 1.0) < 1e-13
    with pytest.raises(ValueError, match="gamma"):
        circle.Teacher(gamma=-1.0)
    with pytest.raises(ValueError, match="particles"):
        circle.Teacher(particles=0)
    with pytest.raises(ValueError, match="seed"):
        circle.Teacher(seed=-1)


@pytest.mark.parametrize(
    ("kw", "exc", "name"),
    [
        (dict(M=0), ValueError, "M"),
        (dict(M=2.5), TypeError, "M"),
        (dict(lam=0.0), ValueError, "lam"),
        (dict(lam=float("nan")), ValueError, "lam"),
        (dict(method="sgd"), ValueError, "method"),
        (dict(regularisation="none"), ValueError, "regularisation"),
        (dict(data="batch"), ValueError, "data"),
        (dict(N=0), ValueError, "N"),
        (dict(iterations=0), ValueError, "iterations"),
        (dict(snapshots=1), ValueError, "snapshots"),
        (dict(snapshots=(0, 50)), ValueError, "snapshots"),
        (dict(snapshots=(5, 5)), ValueError, "snapshots"),
        (dict(snapshots="all"), TypeError, "snapshots"),
        (dict(distances=("mmd",)), ValueError, "distances"),
        (dict(distances="mmd_teacher"), TypeError, "distances"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(init_seed=1.5), TypeError, "init_seed"),
        (dict(dt=0.0), ValueError, "dt"),
        (dict(pde_cells=2), ValueError, "pde_cells"),
    ],
)
def test_bad_settings_name_the_argument(
    teacher: circle.Teacher, kw: dict, exc: type, name: str
) -> None:
    with pytest.raises(exc, match=rf"\b{name}\b"):
        small(**kw)
    calls: list[Any] = []
    with pytest.raises(exc, match=rf"\b{name}\b"):
        circle.train(
            teacher,
            progress=lambda d, t: calls.append(d),
            **dict(dict(M=16, N=128, iterations=40), **kw),
        )
    assert calls == []  # refused before any work


def test_bad_call_arguments(teacher: circle.Teacher) -> None:
    with pytest.raises(TypeError, match=r"unknown setting\(s\) \['m'\]"):
        circle.train(teacher, m=3)
    with pytest.raises(TypeError, match="teacher"):
        circle.train_ensemble(None, [small()])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threads"):
        circle.train(teacher, small(), threads=0)
    with pytest.raises(ValueError, match="on_error"):
        circle.train_ensemble(teacher, [small()], on_error="skip")
    with pytest.raises(TypeError, match=r"runs\[1\]"):
        circle.train_ensemble(teacher, [small(), {"M": 3}])  # type: ignore[list-item]
    with pytest.raises(ValueError, match=r"runs\[1\]\.iterations"):
        circle.train_ensemble(teacher, [small(), small(iterations=50)])
    with pytest.raises(TypeError, match="not both"):
        circle.train(teacher, small(), M=3)


def test_single_is_the_one_run_ensemble_and_the_core_call(teacher: circle.Teacher) -> None:
    runs = [
        small(method="varpro", seed=1),
        small(method="2ts", lam=1e-1, seed=2, M=9),
        small(data="population", init_seed=7),
    ]
    many = circle.train_ensemble(teacher, runs, threads=2)
    one_thread = circle.train_ensemble(teacher, runs, threads=1)
    for run, res, res1 in zip(runs, many, one_thread, strict=True):
        single = circle.train(teacher, run)
        assert isinstance(res, circle.CircleResult) and isinstance(res1, circle.CircleResult)
        # The private core, called by hand with the documented draws.
        X = None if run.data == "population" else _core.circle_gaussian_inputs(run.N, run.seed, 0)
        pb = _core.CircleProblem(teacher.angles, X)
        th0 = _core.circle_uniform_angles(
            run.M, run.seed if run.init_seed is None else run.init_seed, 1
        )
        raw = _core.circle_run(
            pb,
            th0,
            run.lam,
            run.method,
            run.regularisation == "biased",
            run.iterations,
            list(run.record),
            run.dt,
        )
        for q, rq in (
            ("theta", "theta"),
            ("u", "u"),
            ("J", "criterion"),
            ("risk", "risk"),
            ("mmd_teacher", "mmd_teacher"),
            ("w1_teacher", "w1_teacher"),
        ):
            for other in (res, res1, single):
                np.testing.assert_array_equal(getattr(other, q), getattr(raw, rq), err_msg=q)
        np.testing.assert_array_equal(single.iteration, [0, 5, 40])
        np.testing.assert_array_equal(single.t, np.array([0, 5, 40]) * 2.0**-10)
        assert single.theta.shape == (3, run.M) and single.mmd_pde is None
        assert single.settings is run
    # The biased regularisation reaches the core too (another ensemble: it is shared).
    b = circle.train(teacher, small(regularisation="biased"))
    pb = _core.CircleProblem(teacher.angles, _core.circle_gaussian_inputs(128, 0, 0))
    raw = _core.circle_run(
        pb, _core.circle_uniform_angles(16, 0, 1), 1e-2, "varpro", True, 40, [0, 5, 40]
    )
    np.testing.assert_array_equal(b.J, raw.criterion)


def test_mmd_pde_and_xarray(teacher: circle.Teacher) -> None:
    run = small(distances=("mmd_pde", "mmd_teacher"), pde_cells=256, snapshots=3)
    res = circle.train(teacher, run)
    assert run.distances == ("mmd_teacher", "mmd_pde") and res.w1_teacher is None
    assert run.record == (0, 20, 40)
    p = circle.pde(list(res.t), gamma=teacher.gamma, cells=256)
    assert res.mmd_pde is not None
    for k in range(3):
        want = _core.circle_mmd(res.theta[k], p.theta, None, p.f[k])
        assert res.mmd_pde[k] == pytest.approx(want, rel=1e-12, abs=1e-15)
    ds = res.to_xarray()
    assert dict(ds.sizes) == {"iteration": 3, "neuron": 16}
    assert set(ds.data_vars) == {"theta", "u", "J", "risk", "mmd_teacher", "mmd_pde"}
    np.testing.assert_array_equal(ds["t"].values, res.t)
    assert ds.attrs["method"] == "varpro" and ds.attrs["M"] == 16
    theta, u = res.final
    np.testing.assert_array_equal(theta, res.theta[-1])
    np.testing.assert_array_equal(u, res.u[-1])


def test_on_error_record_keeps_the_others(teacher: circle.Teacher) -> None:
    # λ at the smallest subnormal: 1/λ overflows and the criterion is inf at once.
    bad = small(lam=5e-324)
    good = small()
    out = circle.train_ensemble(teacher, [good, bad], on_error="record")
    assert isinstance(out[0], circle.CircleResult)
    assert isinstance(out[1], ttnn.DivergenceError) and "run 1" in str(out[1])
    with pytest.raises(ttnn.DivergenceError, match="run 1"):
        circle.train_ensemble(teacher, [good, bad])
    with pytest.raises(ttnn.DivergenceError) as info:
        circle.train(teacher, bad)
    assert "run 0" not in str(info.value)  # a single run raises its own error


def test_pde() -> None:
    p = circle.pde([0.0, 0.5, 2.0], gamma=100.0, cells=128)
    assert p.f.shape == (3, 128) and p.theta.shape == (128,)
    h = 2 * np.pi / 128
    # Conservative scheme: the mass stays 1 up to rounding (sum of 128 terms).
    np.testing.assert_allclose(p.f.sum(axis=1) * h, 1.0, atol=1e-12)
    np.testing.assert_allclose(p.f[0], 1 / (2 * np.pi), rtol=1e-15)
    assert p.to_xarray()["f"].dims == ("t", "theta")
    for kw, exc, name in [
        (dict(times=[1.0, 0.5]), ValueError, "times"),
        (dict(times=[-1.0]), ValueError, "times"),
        (dict(times=[]), ValueError, "times"),
        (dict(times=[1.0], cells=2), ValueError, "cells"),
        (dict(times=[1.0], gamma=float("inf")), ValueError, "gamma"),
        (dict(times=[1.0], rtol=0.0), ValueError, "rtol"),
    ]:
        with pytest.raises(exc, match=name):
            circle.pde(**kw)


def test_log_iterations() -> None:
    its = circle.log_iterations(1000, 5)
    assert its[0] == 0 and its[-1] == 1000 and list(its) == sorted(set(its))
    with pytest.raises(ValueError, match="count"):
        circle.log_iterations(1000, 1)
