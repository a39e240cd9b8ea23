"""`ttnn reproduce NAME --out DIR` into a directory that already holds results keeps
them: the named experiments' entries of metrics.json and claims.md are replaced, the
others stay; another scale (or seed, or target) is refused before any work."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import ttnn
from ttnn import reproduce
from ttnn.cli import main
from ttnn.reproduce.claims import claims_table

COMMITTED = Path(__file__).resolve().parents[1] / "docs" / "figures" / "metrics.json"


def _paper_dir(tmp_path: Path) -> Path:
    """A directory holding the committed paper-scale run of every experiment."""
    d = tmp_path / "out"
    d.mkdir()
    shutil.copy(COMMITTED, d / "metrics.json")
    return d


def _numbers(entry):
    return {k: v for k, v in entry.items() if k != "files"}


def test_one_experiment_into_a_full_directory_replaces_only_its_entries(tmp_path, capsys):
    d = _paper_dir(tmp_path)
    before = json.loads(COMMITTED.read_text())
    assert len(before["experiments"]) > 2
    assert main(["reproduce", "fig5", "--out", str(d)]) == 0  # paper scale, seed 0: as held
    after = json.loads((d / "metrics.json").read_text())
    # The same experiments in the registry's order; all but fig5 untouched.
    assert list(after["experiments"]) == list(before["experiments"])
    assert list(after["wall_time_s"]) == list(before["wall_time_s"])
    for name in before["experiments"]:
        if name != "fig5":
            assert after["experiments"][name] == before["experiments"][name], name
            assert after["wall_time_s"][name] == before["wall_time_s"][name], name
    # fig5's entry is the one a run into an empty directory writes.
    fresh = reproduce.run(["fig5"], "paper", tmp_path / "fresh")
    assert _numbers(after["experiments"]["fig5"]) == _numbers(fresh["experiments"]["fig5"])
    assert (d / "fig5_standard.png").exists()
    # claims.md: every experiment's row, and the total of the wall times held.
    claims = (d / "claims.md").read_text()
    assert claims.startswith(claims_table(after))
    for row in claims_table(before).splitlines():
        if not row.startswith("| E2"):  # fig5's row carries this run's numbers
            assert row in claims
    total = float(re.search(r"total ([0-9.]+) s\.", claims).group(1))
    assert total == pytest.approx(sum(after["wall_time_s"].values()), abs=0.051)
    assert "Scale paper, seed 0" in claims


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--scale", "quick"], "scale 'paper'"),
        (["--seed", "4"], "seed 0"),
        (["--target", "text"], "target 'code'"),
    ],
)
def test_another_scale_seed_or_target_is_refused_before_any_work(
    tmp_path, capsys, monkeypatch, args, named
):
    d = _paper_dir(tmp_path)

    def no_work(**kwargs):
        raise AssertionError("computed although the directory holds another scale")

    monkeypatch.setitem(
        reproduce.EXPERIMENTS,
        "fig5",
        reproduce.Experiment(no_work, reproduce.EXPERIMENTS["fig5"].plot, "fig5"),
    )
    assert main(["reproduce", "fig5", "--out", str(d), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ttnn: error: ") and named in err[0], err
    assert "--out" in err[0]
    assert (d / "metrics.json").read_bytes() == COMMITTED.read_bytes()
    assert sorted(p.name for p in d.iterdir()) == ["metrics.json"]


def test_a_foreign_metrics_json_is_not_overwritten(tmp_path, capsys):
    d = tmp_path / "out"
    d.mkdir()
    (d / "metrics.json").write_text('{"mine": 1}')
    assert main(["reproduce", "fig5", "--scale", "quick", "--out", str(d)]) == 2
    assert "not a metrics.json written by ttnn reproduce" in capsys.readouterr().err
    assert (d / "metrics.json").read_text() == '{"mine": 1}'


def _fake(name: str, value: float, calls: list[str]):
    def compute(scale, seed, target, progress, cache):
        calls.append(name)
        return {"settings": {"value": value}}, value

    def plot(data, out):
        path = Path(out) / f"{name}.txt"
        path.write_text(str(data))
        return [path]

    return reproduce.Experiment(compute, plot, f"fake {name}")


@pytest.fixture
def fakes(monkeypatch):
    """Two fast experiments in place of the registry (the merge logic alone)."""
    calls: list[str] = []
    monkeypatch.setattr(
        reproduce, "EXPERIMENTS", {"a": _fake("a", 1.0, calls), "b": _fake("b", 2.0, calls)}
    )
    monkeypatch.setattr(reproduce, "claims_table", lambda m: "table\n")
    return calls


def test_runs_one_at_a_time_add_up_to_the_run_of_both(tmp_path, fakes):
    reproduce.run(["b"], "quick", tmp_path)
    reproduce.run(["a"], "quick", tmp_path)
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert list(m["experiments"]) == ["a", "b"] == list(m["wall_time_s"])  # registry order
    assert m["experiments"]["a"] == {"settings": {"value": 1.0}, "files": ["a.txt"]}
    assert m["experiments"]["b"] == {"settings": {"value": 2.0}, "files": ["b.txt"]}
    assert m["scale"] == "quick"
    reproduce.run(["a"], "quick", tmp_path)  # again: replaced, not duplicated
    again = json.loads((tmp_path / "metrics.json").read_text())
    assert again["experiments"] == m["experiments"]
    assert fakes == ["b", "a", "a"]


def test_a_failure_while_rewriting_leaves_metrics_without_the_stale_entry(
    tmp_path, fakes, monkeypatch
):
    reproduce.run(["a", "b"], "quick", tmp_path)

    def broken(data, out):
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(
        reproduce.EXPERIMENTS,
        "a",
        reproduce.Experiment(reproduce.EXPERIMENTS["a"].compute, broken, ""),
    )
    with pytest.raises(OSError):
        reproduce.run(["a"], "quick", tmp_path)
    # a's figure may be half rewritten: metrics.json no longer vouches for it; b's stays.
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert list(m["experiments"]) == ["b"] == list(m["wall_time_s"])


def test_a_quick_run_says_its_real_total(tmp_path, fakes):
    from ttnn.reproduce.claims import wall_times_line

    # Two quick experiments of 0.04 s and 0.2 s: the total is 0.24 s, once "total 0 s".
    line = wall_times_line(
        {"scale": "quick", "seed": 0, "target": "code", "wall_time_s": {"a": 0.04, "b": 0.2}}
    )
    assert line.endswith("Wall times (s): a 0.0, b 0.2; total 0.2 s.")
    assert line.startswith("Scale quick, seed 0, target values code.")
    reproduce.run(["a"], "quick", tmp_path)
    claims = (tmp_path / "claims.md").read_text()
    wall = json.loads((tmp_path / "metrics.json").read_text())["wall_time_s"]["a"]
    assert f"total {wall:.1f} s." in claims and "Scale quick" in claims


def test_run_refuses_mixed_scales_from_python_too(tmp_path, fakes):
    reproduce.run(["a"], "paper", tmp_path)
    with pytest.raises(ValueError, match="scale 'paper'.*not at scale 'quick'"):
        ttnn.reproduce.run(["b"], "quick", tmp_path)
    assert fakes == ["a"]
