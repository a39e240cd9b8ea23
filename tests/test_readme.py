"""The README's API tour runs as written, so the front page cannot drift from the API."""

import re
import sys
from pathlib import Path

import pytest

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


def test_every_install_line_installs_from_the_clone():
    # ttnn is not on a package index: "pip install ttnn[sweep]" fails in a fresh venv,
    # so every extra is installed from the source directory, pip install ".[sweep]".
    root = Path(__file__).resolve().parents[1]
    files = [root / "README.md", root / "CONTRIBUTING.md", *sorted((root / "docs").rglob("*.md"))]
    files += sorted((root / "python").rglob("*.py"))
    bad = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"""(?<![\w.-])["']?ttnn\[""", line):
                bad.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert bad == []
    # The extras that the install lines name exist in pyproject.toml.
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    extras = set(
        tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    named = set()
    for path in files[:2] + [root / "docs" / "index.md"]:
        for group in re.findall(
            r"""pip install [^\n`]*?["']\.\[([\w,]+)\]["']""", path.read_text()
        ):
            named.update(group.split(","))
    assert named and named <= extras, named - extras
