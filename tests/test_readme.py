"""The README's API tour runs as written, so the front page cannot drift from the API."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs():
    text = README.read_text()
    blocks = re.findall(r"## A short tour\n\n```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "the README must hold exactly one tour code block"
    namespace: dict = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    # The tour's stated facts: snapshot shapes, and the limit's fields line up.
    lim, res = namespace["lim"], namespace["res"]
    assert lim.a.shape[0] == lim.u.shape[0] == lim.l2.shape[0] == lim.tau.shape[0]
    assert res.a.shape[1] == res.u.shape[1] + 1


def test_readme_claims_table_is_the_one_generated_from_the_committed_metrics():
    import json

    from ttnn.reproduce.claims import claims_table

    metrics = json.loads((README.parent / "docs" / "figures" / "metrics.json").read_text())
    text = README.read_text()
    block = re.search(r"<!-- claims:[^\n]*-->\n(.*?)<!-- /claims -->", text, re.S)
    assert block is not None, "the README must hold the generated claims table"
    assert block.group(1) == claims_table(metrics)
    assert metrics["scale"] == "paper"
