"""The project's documentation: nothing in the repository cites a document it lacks,
and the docs site builds in strict mode with its tutorials executed."""

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Spelled in two pieces so that this file does not cite it itself.
EXTERNAL_SPEC = "DESIGN" + ".md"
#: Directories that are not the project's own text (build output, VCS, vendored code).
SKIP_DIRS = {".git", "build", "dist", "site", "__pycache__", "third_party", ".venv", "node_modules"}
TEXT_SUFFIXES = {
    ".py",
    ".pyi",
    ".md",
    ".txt",
    ".toml",
    ".cfg",
    ".yml",
    ".yaml",
    ".cpp",
    ".hpp",
    ".h",
    ".cc",
    ".json",
    ".in",
    "",
}
#: A path into the docs, optionally with an anchor: docs/maths/dynamics.md#online-sgd.
DOCS_REF = re.compile(r"(?<![\w/.-])docs/([\w./-]*[\w])(#[\w-]+)?")


def _project_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        for name in filenames:
            path = Path(dirpath) / name
            if path.suffix in TEXT_SUFFIXES and not name.startswith("."):
                try:
                    yield path, path.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue


def _slug(heading: str) -> str:
    # Python-Markdown's default toc slug (what MkDocs uses for heading ids).
    value = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def _anchors(md: Path) -> set[str]:
    ids = set()
    for line in md.read_text(encoding="utf-8").splitlines():
        m = re.match(r"#{1,6}\s+(.*?)\s*$", line)
        if m:
            title = m.group(1)
            explicit = re.search(r"\{\s*#([\w-]+)\s*\}\s*$", title)
            if explicit:
                ids.add(explicit.group(1))
                title = title[: explicit.start()]
            ids.add(_slug(title))
        ids.update(re.findall(r'id="([\w-]+)"', line))
    return ids


def test_the_slug_rule_matches_markdowns():
    assert _slug("Online SGD") == "online-sgd"
    assert _slug("The η → 0 limit") == "the-0-limit"
    assert _slug("Two-timescale limits") == "two-timescale-limits"


def test_no_file_cites_a_document_the_repository_lacks():
    bad = []
    for path, text in _project_files():
        rel = path.relative_to(ROOT)
        for n, line in enumerate(text.splitlines(), start=1):
            if EXTERNAL_SPEC in line:
                bad.append(f"{rel}:{n}: cites {EXTERNAL_SPEC}, which is not in the repository")
            for m in DOCS_REF.finditer(line):
                target = ROOT / "docs" / m.group(1)
                if not target.exists():
                    bad.append(f"{rel}:{n}: docs/{m.group(1)} does not exist")
                elif m.group(2) and target.suffix == ".md":
                    anchor = m.group(2)[1:]
                    if anchor not in _anchors(target):
                        bad.append(f"{rel}:{n}: docs/{m.group(1)} has no section #{anchor}")
    assert not bad, "\n".join(bad)


def test_the_checker_catches_what_it_should(tmp_path):
    # The patterns above on made-up lines: a missing page, a missing anchor, a good one.
    missing = "maths/nope.md"  # not written out whole, or the scan above would flag it
    line = f"see docs/{missing} and docs/maths/dynamics.md#online-sgd, ../docs/x"
    found = [m.group(1) for m in DOCS_REF.finditer(line)]
    assert found == ["maths/nope.md", "maths/dynamics.md"]
    assert "online-sgd" in _anchors(ROOT / "docs" / "maths" / "dynamics.md")
    assert "no-such-section" not in _anchors(ROOT / "docs" / "maths" / "dynamics.md")


def test_docs_build_strict_with_the_tutorials_executed(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("markdown_exec")
    import ttnn

    env = dict(os.environ)
    # The tutorials import the ttnn these tests import; one thread each, as CI has 2 cores.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(ttnn.__file__).parents[1]), env.get("PYTHONPATH", "")]
    )
    env.setdefault("OMP_NUM_THREADS", "2")
    env["NO_MKDOCS_2_WARNING"] = "1"  # Material's banner about its future, not about us
    p = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-6000:]
    site = tmp_path / "site"
    assert (site / "index.html").exists()
    # A tutorial's executed output is in the page (not only its source).
    html = (site / "tutorials" / "sgd-vs-limit" / "index.html").read_text(encoding="utf-8")
    assert "max |u_SGD − u_limit|" in html
