"""Issue 23's reliability failures, one regression test each: thread counts that
killed the interpreter, silent NaN/inf from finite inputs, a criterion that
overflowed while every parameter was finite, and messages that named no argument
(docs/guide/errors.md)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from _sigint import assert_stops_within_a_second

import ttnn
from ttnn import _core
from ttnn import reference as ref

T = ttnn.PiecewiseConstant.paper()
PYTHON_DIR = Path(ttnn.__file__).resolve().parent.parent


def _child(code: str, address_space_gib: float = 4.0) -> subprocess.CompletedProcess[str]:
    """``code`` in a child interpreter under an address-space limit (as in the
    issue's probe), so that a crash of OpenMP shows as a return code, not as
    the death of the test run."""
    limit = int(address_space_gib * 2**30)
    prelude = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
        "import numpy as np, ttnn\n"
    )
    env = {"PYTHONPATH": str(PYTHON_DIR), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


# -- 1. thread counts ---------------------------------------------------------------


@pytest.mark.parametrize("threads", [2**31 - 1, 10**6, 1025])
def test_out_of_range_threads_are_a_value_error_naming_threads(threads):
    net = ttnn.Network.init(m=3, eta=0.01)
    with pytest.raises(ValueError, match="threads"):
        ttnn.sgd_ensemble([net], T, h=1e-3, steps=10, threads=threads)
    an = ttnn.AdditiveNetwork.init_paper(2, 2)
    X = np.random.default_rng(0).random((4, 2))
    with pytest.raises(ValueError, match="threads"):
        ttnn.full_batch_gd_ensemble(
            [an], X, np.ones(4), step_a=1.0, step_u=1.0, epochs=1, threads=threads
        )


def test_sweep_refuses_out_of_range_threads_before_any_run(tmp_path):
    pytest.importorskip("xarray")
    with pytest.raises(ValueError, match="threads"):
        ttnn.sweep("sgd", {"m": [3]}, repeats=1, threads=2**31 - 1, steps=2, h=1e-3)


def test_threads_are_capped_at_the_runs_in_python():
    assert ttnn._validate.threads(None) == 0  # OpenMP's default, as before
    assert ttnn._validate.threads(8) == 8
    assert ttnn._validate.threads(8, runs=3) == 3
    assert ttnn._validate.threads(1, runs=3) == 1


@pytest.mark.skipif(
    bool(os.environ.get("TTNN_SANITIZED")),
    reason="ASan reserves terabytes of shadow address space: no 4 GB address-space limit",
)
def test_the_core_clamps_any_thread_count_without_dying():
    # The bindings take any int: before the clamp (cpp/include/ttnn/parallel.hpp),
    # 2**31 - 1 made libgomp exit the process and 1024 threads for 1024 runs
    # failed to start under 4 GB ("Thread creation failed", exit 1).
    out = _child(
        """
        from ttnn import _core
        an = ttnn.AdditiveNetwork.init_paper(2, 2)
        X = np.random.default_rng(0).random((4, 2))
        outs = _core.additive_gd_ensemble(nets=[an._c], X=[X], y=[np.ones(4)], step_a=[1.0],
            step_u=[1.0], epochs=[2], snapshots=2, threads=2**31 - 1, loss="norm")
        net = ttnn.Network.init(m=3, eta=0.01)
        res = ttnn.sgd_ensemble([net] * 1024, ttnn.PiecewiseConstant.paper(), h=1e-3,
                                steps=3, seed=1, threads=1024)
        one = ttnn.sgd(net, ttnn.PiecewiseConstant.paper(), h=1e-3, steps=3, seed=1)
        assert res[0] == one
        print("survived", len(outs), len(res))
        """
    )
    assert out.returncode == 0, out.stderr[-1000:]
    assert "survived 1 1024" in out.stdout


# -- 3. silent NaN / inf --------------------------------------------------------------


@pytest.mark.parametrize("jump", [1.4e154, 1e200, 1e300])
def test_zero_eta_limit_with_a_huge_jump_is_the_scaled_unit_jump(jump):
    # values (0, J): the cell means, hence a, scale by J and the losses by J²,
    # while a larger jump only makes the flanking pair reach its break sooner.
    # By τ = 1 the pair of the unit jump is already frozen (on the break), so u
    # must equal it exactly; l2 and a are compared with the unit run scaled.
    net = ttnn.Network(np.zeros(5), [0.1, 0.3, 0.6, 0.8], 0.01)
    one = ttnn.two_timescale_limit(
        net, ttnn.PiecewiseConstant([0.5], [0.0, 1.0]), 1.0, limit="zero", snapshots=3
    )
    big = ttnn.two_timescale_limit(
        net, ttnn.PiecewiseConstant([0.5], [0.0, jump]), 1.0, limit="zero", snapshots=3
    )
    assert one.u[-1][2] == 0.5  # the unit pair is frozen by then
    np.testing.assert_array_equal(big.u[-1], one.u[-1])
    assert np.all(np.isfinite(big.a)) and np.all(np.isfinite(big.u))
    np.testing.assert_allclose(big.a, jump * one.a, rtol=1e-14)
    with np.errstate(over="ignore"):
        want = jump * (jump * one.l2)
    # inf only where the true value exceeds the double range (docs/guide/errors.md).
    for got, w, small in zip(big.l2, want, one.l2, strict=True):
        if math.isinf(w):
            assert got == math.inf and small * jump > sys.float_info.max / jump
        else:
            assert got == pytest.approx(w, rel=1e-13)
    assert not np.any(np.isnan(big.l2)) and not np.any(np.isnan(big.limit_loss))


def test_zero_eta_limit_refuses_a_jump_beyond_the_double_range():
    net = ttnn.Network(np.zeros(5), [0.1, 0.3, 0.6, 0.8], 0.01)
    tgt = ttnn.PiecewiseConstant([0.5], [-1.7e308, 1.7e308])
    with pytest.raises(ValueError, match="target"):
        ttnn.two_timescale_limit(net, tgt, 1.0, limit="zero", snapshots=3)


def test_a_result_with_non_finite_parameters_is_never_handed_out():
    res = ttnn.sgd(ttnn.Network.init(m=3, eta=0.01), T, h=1e-3, steps=4, snapshots=3)
    u = np.array(res.u)
    u[1, 0] = np.nan
    with pytest.raises(ttnn.DivergenceError, match="snapshot 1") as info:
        type(res)(**{**vars(res), "u": u})
    assert info.value.step == res.steps[1]
    l2 = np.array(res.l2)
    l2[0] = np.nan
    with pytest.raises(ValueError, match="l2"):
        type(res)(**{**vars(res), "l2": l2})


# -- 5. the full-batch criterion --------------------------------------------------------


def _exact_norm_over_n(r: np.ndarray) -> Fraction:
    """(‖r‖₂ / n)² exactly, from the doubles of r."""
    return sum((Fraction(float(v)) ** 2 for v in r), Fraction(0)) / len(r) ** 2


@pytest.mark.parametrize("act", ["cubic", "relu"])
@pytest.mark.parametrize("scale", [1.0, 1e160, 1e300])
def test_full_batch_criterion_is_finite_while_the_weights_are(act, scale):
    rng = np.random.default_rng(3)
    a, u = scale * rng.random((4, 2)), rng.random((4, 2))
    X, y = rng.random((16, 2)), rng.random(16)
    net = ttnn.AdditiveNetwork(a, u, 0.1, act)
    crit = net.criterion(X, y)
    r = ref.additive_forward(a, u, 0.1, X, act) - y
    assert np.all(np.isfinite(r))
    # C² against the exact sum of squares: rounding of r's sums (cond ~ 1) and of
    # the scaled norm, a few ulps.
    assert float(Fraction(crit) ** 2 / _exact_norm_over_n(r)) == pytest.approx(1.0, rel=1e-13)
    assert ref.additive_criterion(a, u, 0.1, X, y, act) == pytest.approx(crit, rel=1e-13)
    ga, gu, _ = net.criterion_gradient(X, y)
    rga, rgu, _ = ref.additive_gradient(a, u, 0.1, X, y, act)
    np.testing.assert_allclose(ga, rga, rtol=1e-12, atol=1e-12 * np.max(np.abs(rga)))
    np.testing.assert_allclose(gu, rgu, rtol=1e-12, atol=1e-12 * np.max(np.abs(rgu)))
    # The run no longer stops "at epoch 0": its first criterion is the one above.
    res = ttnn.full_batch_gd(net, X, y, step_a=1e-3, step_u=1e-3, epochs=3)
    assert res.criterion[0] == crit and np.all(np.isfinite(res.criterion))


def test_full_batch_mse_beyond_the_double_range_is_inf_not_nan():
    rng = np.random.default_rng(4)
    net = ttnn.AdditiveNetwork(1e200 * rng.random((3, 2)), rng.random((3, 2)), 0.1)
    X, y = rng.random((8, 2)), np.zeros(8)
    assert net.criterion(X, y, loss="mse") == math.inf  # true value ~1e400
    assert math.isfinite(net.criterion(X, y))


# -- 6. messages in the user's terms ------------------------------------------------------


def test_an_ensemble_of_one_network_not_in_a_list_names_nets():
    with pytest.raises(TypeError, match=r"nets must be a sequence.*\[net\]"):
        ttnn.sgd_ensemble(ttnn.Network.init(m=3, eta=0.01), T, h=1e-3, steps=2)
    an = ttnn.AdditiveNetwork.init_paper(2, 2)
    with pytest.raises(TypeError, match="nets must be a sequence"):
        ttnn.full_batch_gd_ensemble(
            an, np.ones((2, 2)), np.ones(2), step_a=1.0, step_u=1.0, epochs=1
        )
    with pytest.raises(TypeError, match="nets must be a sequence"):
        ttnn.sgd_ensemble(3, T, h=1e-3, steps=2)


def test_a_ragged_list_of_points_names_x():
    net = ttnn.Network.init(m=3, eta=0.01)
    with pytest.raises(TypeError, match="^x must be real numbers"):
        net([[0.1, 0.2], [0.3]])


def test_huge_epochs_of_a_replay_name_epochs():
    net = ttnn.Network.init(m=3, eta=0.01)
    x = np.linspace(0, 1, 10)
    for shuffle in (True, False):
        with pytest.raises(ValueError, match=r"^epochs \(\d+\) × len\(data\) \(10\)") as info:
            ttnn.sgd(net, None, h=1e-3, data=(x, x), epochs=2**62, shuffle=shuffle)
        assert "draws" not in str(info.value)


def test_a_progress_callable_of_the_wrong_arity_is_refused_before_the_run():
    net = ttnn.Network.init(m=3, eta=0.01)
    with pytest.raises(TypeError, match=r"progress must be a callable taking \(done, total\)"):
        ttnn.sgd(net, T, h=1e-3, steps=5, progress=lambda done: None)
    calls = []
    ttnn.sgd(net, T, h=1e-3, steps=5, progress=lambda *args: calls.append(args))
    ttnn.sgd(net, T, h=1e-3, steps=5, progress=print if False else (lambda d, t, x=0: None))
    assert calls


def _tamper(path: Path, out: Path, **change) -> None:
    with np.load(path, allow_pickle=False) as z:
        files = {k: z[k] for k in z.files}
    attrs = json.loads(str(files["__attrs__"]))
    for k, v in change.items():
        if k in attrs["fields"]:
            attrs["fields"][k] = v
        else:
            files[k] = v
    files["__attrs__"] = np.array(json.dumps(attrs))
    np.savez(out, **files)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"u": "nan"}, ValueError, "field u is not finite"),
        ({"u": "shape"}, ValueError, "u has 2 snapshots, expected 3"),
        ({"eta": "0.01"}, TypeError, "eta must be a real number"),
        ({"eta": -1.0}, ValueError, "eta must be > 0"),
        ({"l2": "nan"}, ValueError, "l2 holds NaN"),
        ({"activation": 3}, TypeError, "activation must be a string"),
    ],
)
def test_load_refuses_nan_wrong_shapes_and_wrong_kinds(tmp_path, change, error, match):
    res = ttnn.sgd(ttnn.Network.init(m=3, eta=0.01), T, h=1e-3, steps=4, snapshots=3)
    good = tmp_path / "good.npz"
    res.save(good)
    assert ttnn.load(good) == res
    ((key, val),) = change.items()
    if val == "nan":
        arr = np.array(getattr(res, key))
        arr[-1] = np.nan
        val = arr
    elif val == "shape":
        val = np.array(getattr(res, key))[:2]
    bad = tmp_path / "bad.npz"
    _tamper(good, bad, **{key: val})
    with pytest.raises(error, match=match):
        ttnn.load(bad)


def test_progress_check_accepts_builtins_without_a_signature():
    # The core calls progress(done, total); a builtin taking them passes the check.
    assert ttnn._validate.progress(max) is max
    with pytest.raises(TypeError, match="progress"):
        ttnn._validate.progress(lambda: None)


def test_core_is_the_module_under_test():
    assert _core.__file__.startswith(str(PYTHON_DIR))


# -- 2. Ctrl-C inside a long epoch ------------------------------------------------------


def test_sigint_stops_full_batch_gd_inside_a_long_relu_epoch():
    # One relu epoch here is n·d·m = 10⁹ terms twice, tens of seconds: the core
    # polled only between epochs (polls now come every ~2²⁰ terms, a few ms).
    setup = """
        rng = np.random.default_rng(0)
        net = ttnn.AdditiveNetwork(rng.random((2500, 8)), rng.random((2500, 8)), 0.1, "relu")
        X, y = rng.random((50_000, 8)), rng.random(50_000)
        """
    call = "ttnn.full_batch_gd(net, X, y, step_a=1e-3, step_u=1e-3, epochs=1000)"
    assert_stops_within_a_second(setup, call, wait=1.0, threads=1, what="full_batch_gd")


# -- 4. memory guards that count what the core allocates ----------------------------------


def test_batch_guard_counts_the_measured_bytes_per_sample(monkeypatch):
    # Under 1.5 GiB, batch = 4.5e7 was accepted (32 bytes assumed per sample) and
    # peaked at 2.49 GiB; measured 53 bytes per sample (tools/measure_memory.py).
    monkeypatch.setenv("TTNN_MEMORY_LIMIT_GIB", "1.5")
    net = ttnn.Network.init(m=3, eta=0.01)
    for b in (4.5e7, 2e8):
        with pytest.raises(ValueError, match="batch"):
            ttnn.sgd(net, T, h=1e-3, steps=2, batch=b)
    assert ttnn._validate.BATCH_BYTES >= 53


def test_dense_relu_limit_and_rosenbrock_are_guarded(monkeypatch):
    # m = 30 000: the full Rosenbrock method's dense Jacobian alone is 7.2 GB per
    # matrix (a bare MemoryError before); refused before any allocation.
    monkeypatch.setenv("TTNN_MEMORY_LIMIT_GIB", "4")
    u = np.linspace(0, 1, 30_000)
    relu = ttnn.Network(np.zeros(30_001), u, 1e-4, "relu")
    with pytest.raises(ValueError, match="neurons"):
        ttnn.two_timescale_limit(relu, T, 1.0, snapshots=2, method="rosenbrock")
    cubic = ttnn.Network(np.zeros(30_001), u, 1e-4)
    with pytest.raises(ValueError, match="rosenbrock"):
        ttnn.gradient_flow(cubic, T, 1.0, 1.0, snapshots=2, method="rosenbrock")


def test_working_set_per_neuron_is_counted(monkeypatch):
    # m = 10⁸ passed the guard (snapshots alone, 6.4 GB estimated) though a run
    # holds ≥ 22 GB; the run's working set per neuron is now counted. Here 0.5 GiB
    # and m = 4·10⁶ (≥ 1.1 GB measured): refused before the run, though the
    # snapshots (2 × 16 × 8·10⁶ bytes ≈ 0.24 GiB) alone would fit.
    monkeypatch.setenv("TTNN_MEMORY_LIMIT_GIB", "0.5")
    m = 4 * 10**6
    net = ttnn.Network(np.zeros(m + 1), np.linspace(0, 1, m), 4 / m)
    with pytest.raises(ValueError, match="needs about"):
        ttnn.sgd(net, T, h=1e-3, steps=1)
    with pytest.raises(ValueError, match="needs about"):
        ttnn.gradient_flow(net, T, 1.0, 1.0, snapshots=2)


def test_full_batch_guard_counts_the_points(monkeypatch):
    # 10⁶ point·dims need ~55 MB (tools/measure_memory.py); only the snapshots
    # (a few KB) were counted.
    monkeypatch.setenv("TTNN_MEMORY_LIMIT_GIB", "0.04")
    net = ttnn.AdditiveNetwork.init_paper(4, 3)
    X = np.random.default_rng(0).random((250_000, 4))
    with pytest.raises(ValueError, match="points"):
        ttnn.full_batch_gd(net, X, np.zeros(250_000), step_a=1.0, step_u=1.0, epochs=1)
