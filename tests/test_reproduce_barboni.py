"""``ttnn reproduce barboni2025``: the experiment runs at a tiny scale and its claims
come from its data; the claim logic on synthetic curves where each claim holds and
where it fails."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ttnn.reproduce import EXPERIMENTS, resolve
from ttnn.reproduce import barboni_experiments as bx
from ttnn.reproduce.claims import claims_table

pytest.importorskip("matplotlib")

TINY = dict(
    lams=(1e-1, 1e-3),
    Ms=(8, 128),
    seeds=2,
    iterations=60,
    N=64,
    particles=64,
    cells=64,
    log_snapshots=5,
    even_snapshots=3,
)


def test_registered_outside_all() -> None:
    assert "barboni2025" in EXPERIMENTS and not EXPERIMENTS["barboni2025"].in_all
    assert "barboni2025" not in resolve(["all"])


def test_tiny_run_claims_from_its_data(tmp_path: Path) -> None:
    metrics, data = bx.barboni2025("quick", seed=1, settings=TINY)
    assert metrics["claims"] == bx.claims(data["curves"], data["iteration"], (8, 128), (0.1, 1e-3))
    its = data["iteration"]
    assert its[0] == 0 and its[-1] == 60
    # Seed means: recompute one curve from its two runs by hand.
    from ttnn import circle

    teacher = circle.Teacher(gamma=bx.GAMMA, particles=64, seed=1)
    runs = [
        circle.CircleRun(
            M=8,
            lam=1e-3,
            method="2ts",
            N=64,
            iterations=60,
            snapshots=tuple(its),
            distances=("mmd_teacher", "mmd_pde"),
            seed=10_000 + r,
            pde_cells=64,
        )
        for r in range(2)
    ]
    res = circle.train_ensemble(teacher, runs)
    want = (res[0].J + res[1].J) / 2  # type: ignore[union-attr]
    np.testing.assert_array_equal(data["curves"]["J"]["0.001"]["2ts"]["8"], want)
    a = metrics["claims"]["a"]
    J = data["curves"]["J"]
    for lam in ("0.1", "0.001"):
        v = J[lam]["varpro"]["128"]
        assert a["decades"][f"lam={lam},M=128"] == pytest.approx(np.log10(v[0] / v[-1]))
    files = EXPERIMENTS["barboni2025"].plot(data, tmp_path)
    assert [f.name for f in files] == ["barboni2025_relu1d_2ts.png", "barboni2025_density.png"]
    table = claims_table(dict(experiments={"barboni2025": metrics}))
    assert table.count("\n") == 2 + 4 and "hold" in table


def synthetic(**change: float) -> dict[str, Any]:
    """Curves where every claim holds: J falls 3 decades, the MMD to the teacher 1.5
    (1.2 at M = 32), 2TS equals VarPro at λ = 0.1 and sits 0.5 decades above at 1e-3,
    and the MMD to the PDE is 1/M."""
    n = 5
    t = np.linspace(0, 1, n)
    out: dict[str, Any] = {q: {} for q in ("J", "mmd_teacher", "mmd_pde")}
    for lam in ("0.1", "0.001"):
        for q in out:
            out[q][lam] = {"varpro": {}, "2ts": {}}
        for M in (32, 128):
            fall = change.get("J_fall", 3.0)
            J = 10 ** (-fall * t)
            mfall = 1.2 if M == 32 else change.get("mmd_fall", 1.5)
            mmd = 10 ** (-mfall * t)
            pde = np.full(n, change.get("pde128", 1 / 128) if M == 128 else 1 / 32)
            lag = change.get("lag", 0.5) if lam == "0.001" else change.get("track", 0.0)
            for method, shift in (("varpro", 0.0), ("2ts", lag)):
                j = J * 10 ** (shift * (t > 0))
                out["J"][lam][method][str(M)] = j.tolist()
                out["mmd_teacher"][lam][method][str(M)] = mmd.tolist()
                out["mmd_pde"][lam][method][str(M)] = pde.tolist()
    return out


def verdicts(curves: dict[str, Any]) -> dict[str, bool]:
    found = bx.claims(curves, [0, 1, 2, 3, 4], (32, 128), (0.1, 0.001))
    return {k: v["holds"] for k, v in found.items()}


@pytest.mark.parametrize(
    ("change", "fails"),
    [
        ({}, set()),
        (dict(J_fall=1.5), {"a"}),
        (dict(mmd_fall=0.9), {"b"}),
        (dict(mmd_fall=1.1), {"b"}),  # > 1 decade, but not more than at M = 32
        (dict(track=0.5), {"c"}),
        (dict(lag=0.1), {"c"}),
        (dict(pde128=1 / 16), {"d"}),
    ],
)
def test_claim_logic(change: dict[str, float], fails: set[str]) -> None:
    v = verdicts(synthetic(**change))
    assert {k for k, ok in v.items() if not ok} == fails


def test_claim_numbers_are_the_data() -> None:
    found = bx.claims(synthetic(), [0, 1, 2, 3, 4], (32, 128), (0.1, 0.001))
    assert found["a"]["min_decades"] == pytest.approx(3.0)
    assert found["b"]["decades"]["lam=0.1,M=32"] == pytest.approx(1.2)
    assert found["c"]["mean_gap_at_smallest_lam"]["128"] == pytest.approx(0.5)
    assert found["d"]["final_mmd_pde"] == {"32": 1 / 32, "128": 1 / 128}
    bad = copy.deepcopy(synthetic())
    bad["J"]["0.1"]["varpro"]["128"][-1] = 0.0  # reaching 0 counts as an infinite fall
    assert bx.claims(bad, [0, 1, 2, 3, 4], (32, 128), (0.1, 0.001))["a"]["holds"]
