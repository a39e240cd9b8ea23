"""``ttnn reproduce`` at the quick scale: the paper's claims in the returned
metrics, determinism across thread counts, the files, and CLI errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ttnn
import ttnn.reproduce
from ttnn.reproduce import EXPERIMENTS, experiments, resolve

SEEDS = range(10)  # at the quick scale, 8 of these 10 E1 runs cover every break


@pytest.fixture(scope="module")
def e1_e2():
    """E1 (fig3) and E2 (fig5) metrics over a few seeds, quick scale."""
    out = []
    for s in SEEDS:
        m1, _ = experiments.fig3(scale="quick", seed=s)
        m2, _ = experiments.fig5(scale="quick", seed=s)
        out.append((m1["runs"][0], m2["runs"][0]))
    return out


def test_e1_covers_every_break_with_small_error(e1_e2):
    e1 = [r1 for r1, _ in e1_e2]
    assert sum(r["all_covered"] for r in e1) >= 7, e1
    # A perfect fit at width η leaves Σ Δ² η / 28 ≈ 0.004 here.
    assert np.median([r["final_l2"] for r in e1]) < 0.05, e1


def test_e2_standard_regime_ends_far_higher(e1_e2):
    l1 = np.array([r1["final_l2"] for r1, _ in e1_e2])
    l2 = np.array([r2["final_l2"] for _, r2 in e1_e2])
    assert np.median(l2) > 5 * np.median(l1), (l1, l2)
    assert np.sum(l2 > l1) >= 8, (l1, l2)
    assert sum(r2["all_covered"] for _, r2 in e1_e2) <= 4


def test_e3_error_falls_as_eps_falls():
    m, data = experiments.fig7(scale="quick", seed=0)
    med = {float(k): v["median_final_l2"] for k, v in m["per_eps"].items()}
    assert set(med) == {0.01, 0.1, 1.0}
    assert med[0.01] < med[0.1] < med[1.0], med
    assert med[0.01] < 0.5 * med[0.1] and med[0.1] < 0.5 * med[1.0], med
    assert len(m["runs"]) == 30 and all(len(v) == 10 for v in data["final_by_eps"].values())
    # Repeats differ: fresh initialisation and data per repeat.
    assert len({r["final_l2"] for r in m["runs"]}) == 30


def test_e1_run_is_shared_between_fig3_and_fig4():
    cache = {}
    _, d3 = experiments.fig3(scale="quick", seed=1, cache=cache)
    _, d4 = experiments.fig4(scale="quick", seed=1, cache=cache)
    assert d3["sgd"] is d4["sgd"]
    assert len(d3["sgd"].steps) == 100 and d3["sgd"].steps[-1] == 1_750_000


def test_limit_curve_is_optional(monkeypatch):
    net = ttnn.Network.init(20, 4e-3, seed=0)
    tgt = ttnn.PiecewiseConstant.paper()
    monkeypatch.delattr(ttnn, "two_timescale_limit", raising=False)
    lim, why = experiments._limit_curve(net, tgt, 0.035, 100)
    assert lim is None and "two_timescale_limit" in why


def test_registry_and_resolve():
    assert list(EXPERIMENTS)[:4] == ["fig3", "fig4", "fig5", "fig7"]
    assert resolve(["all"]) == list(EXPERIMENTS)
    assert resolve(["fig7", "fig3", "fig7"]) == ["fig3", "fig7"]
    with pytest.raises(ValueError, match="fig9"):
        resolve(["fig9"])
    with pytest.raises(ValueError, match="scale"):
        experiments.fig5(scale="huge")


def cli(*args, threads=None):
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    return subprocess.run(
        [sys.executable, "-m", "ttnn", "reproduce", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def numbers(metrics):
    """The metrics without the wall times (the only entries allowed to differ)."""
    return {k: v for k, v in metrics.items() if k != "wall_time_s"}


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    dirs = {}
    for threads in (1, 2):
        d = tmp_path_factory.mktemp(f"omp{threads}")
        out = cli("all", "--scale", "quick", "--out", str(d), "--seed", "3", threads=threads)
        assert out.returncode == 0, out.stderr
        dirs[threads] = (d, out)
    return dirs


def test_same_seed_same_metrics_with_one_or_two_threads(cli_runs):
    m1 = json.loads((cli_runs[1][0] / "metrics.json").read_text())
    m2 = json.loads((cli_runs[2][0] / "metrics.json").read_text())
    assert set(m1["experiments"]) == set(EXPERIMENTS)
    assert set(m1["wall_time_s"]) == set(EXPERIMENTS)
    assert numbers(m1) == numbers(m2)
    assert m1["seed"] == 3 and m1["scale"] == "quick"


def test_every_figure_written_and_wall_times_printed(cli_runs):
    d, out = cli_runs[1]
    m = json.loads((d / "metrics.json").read_text())
    files = [f for e in m["experiments"].values() for f in e["files"]]
    assert {
        "fig3_iterates.png",
        "fig3_iterates.gif",
        "fig4_l2.png",
        "fig5_standard.png",
        "fig7_boxplot.png",
    } <= set(files)
    for f in files:
        assert (d / f).stat().st_size > 1000, f
    assert (d / "fig3_iterates.png").read_bytes()[:4] == b"\x89PNG"
    assert (d / "fig3_iterates.gif").read_bytes()[:3] == b"GIF"
    for name in EXPERIMENTS:
        assert f"{name}: " in out.stdout and " s" in out.stdout


def test_different_seed_different_numbers(tmp_path, cli_runs):
    out = cli("fig5", "--scale", "quick", "--out", str(tmp_path), "--seed", "4")
    assert out.returncode == 0, out.stderr
    a = json.loads((tmp_path / "metrics.json").read_text())["experiments"]["fig5"]
    b = json.loads((cli_runs[1][0] / "metrics.json").read_text())["experiments"]["fig5"]
    assert a["runs"][0]["final_l2"] != b["runs"][0]["final_l2"]


@pytest.mark.parametrize(
    "args",
    [
        ["fig9"],
        [],
        ["fig3", "--scale", "huge"],
        ["fig3", "--target", "nope"],
        ["fig3", "--seed", "-1"],
        ["fig3", "--seed", "x"],
        ["fig3", "--bogus"],
    ],
)
def test_cli_rejects_bad_input(args, tmp_path):
    out = cli(*args, "--out", str(tmp_path / "o"))
    assert out.returncode != 0
    assert "error" in out.stderr.lower()
    assert not (tmp_path / "o" / "metrics.json").exists()


def test_limit_curve_lights_up_when_available(monkeypatch, tmp_path):
    """With a stand-in ``two_timescale_limit`` (the neurons frozen at their
    initial positions), the limit enters the metrics and the figures."""

    class FakeLimit:
        def __init__(self, net, k):
            self.tau = np.linspace(0, 0.035, k)
            self.a = np.tile(net.a, (k, 1))
            self.u = np.tile(net.u, (k, 1))
            self.l2 = np.full(k, 0.5)
            self.final = net

    calls = []

    def fake(net, target, tau_end, eta="finite", snapshots=2):
        calls.append((tau_end, eta, snapshots))
        return FakeLimit(net, snapshots)

    monkeypatch.setattr(ttnn, "two_timescale_limit", fake, raising=False)
    m = ttnn.reproduce.run(["fig3", "fig4"], "quick", tmp_path, 0, "code")
    assert calls == [(0.035, "finite", 100)]
    assert m["experiments"]["fig3"]["limit_final_l2"] == 0.5
    assert "limit_note" not in m["experiments"]["fig4"]
    assert (tmp_path / "fig3_iterates.gif").stat().st_size > 1000
