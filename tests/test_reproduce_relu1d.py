"""``ttnn reproduce relu1d``: E5's ReLU teacher in 1-D as online SGD, both regimes."""

from __future__ import annotations

import json

from ttnn import reproduce


def test_relu1d_two_timescale_covers_the_kinks_standard_misses(tmp_path):
    """10 paired repeats at the quick scale (observed on seeds 0 and 1: every kink
    covered in 10/10 two-timescale runs against 1/10 standard ones; mean coverage
    1.0 vs 0.50-0.53; lower final L2 error in 5-8 of 10 pairs)."""
    reproduce.run(["relu1d"], scale="quick", out=tmp_path, seed=0)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    e = metrics["experiments"]["relu1d"]
    tt, st = e["per_regime"]["two_timescale"], e["per_regime"]["standard"]
    assert tt["mean_frac_covered"] >= 0.9 and st["mean_frac_covered"] <= 0.7
    assert tt["frac_runs_all_covered"] >= 0.8 > st["frac_runs_all_covered"] + 0.4
    assert e["paired"]["two_timescale_covers_more"] >= 7
    assert e["paired"]["standard_covers_more"] <= 1
    assert tt["median_final_l2"] < st["median_final_l2"]
    assert e["settings"]["eps"] == {"standard": 1.0, "two_timescale": 0.01}
    assert len(e["runs"]) == 20 and len({r["final_l2"] for r in e["runs"]}) == 20
    assert e["files"] == ["relu1d_boxplot.png", "relu1d_fit.png"]
    for f in e["files"]:
        assert (tmp_path / f).stat().st_size > 10_000
    assert "relu1d (beyond the paper)" in (tmp_path / "claims.md").read_text()
