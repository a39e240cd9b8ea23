"""The project's documentation: nothing in the repository cites a document it lacks,
and the docs site builds in strict mode with its tutorials executed."""

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
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


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built in strict mode with the tutorials executed (once per module)."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("markdown_exec")
    import ttnn

    tmp_path = tmp_path_factory.mktemp("docs")
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
    return tmp_path / "site"


def test_docs_build_strict_with_the_tutorials_executed(site):
    assert (site / "index.html").exists()
    # A tutorial's executed output is in the page (not only its source).
    html = (site / "tutorials" / "sgd-vs-limit" / "index.html").read_text(encoding="utf-8")
    assert "max |u_SGD − u_limit|" in html


#: What a page loads: scripts, style sheets, images, fonts, CSS imports.
LOADED = re.compile(
    r"""<(?:script|link|img|source|iframe)\b[^>]*?\b(?:src|href)=["']?([^"'\s>]+)"""
    r"""|url\(\s*["']?([^"')\s]+)|@import\s+["']([^"']+)""",
    re.I,
)


def _remote(ref: str) -> bool:
    return bool(re.match(r"(?:[a-z][a-z0-9+.-]*:)?//", ref, re.I)) and not ref.startswith("data:")


def _loads(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [next(g for g in m.groups() if g) for m in LOADED.finditer(text)]


def test_the_site_loads_nothing_from_the_network(site):
    # Offline, a formula must still render: no page loads a CDN script, font or style
    # sheet, directly or through a style sheet it loads. (Files no page loads, such
    # as markdown-exec's pyodide assets, do not count.)
    found: dict[str, str] = {}
    todo = sorted(site.rglob("*.html"))
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for ref in _loads(path):
            if _remote(ref):
                found.setdefault(ref, str(path.relative_to(site)))
                continue
            target = (path.parent / ref.split("?")[0].split("#")[0]).resolve()
            if target.suffix == ".css" and target.is_file():
                todo.append(target)
    assert found == {}
    katex = site / "javascripts" / "katex"
    assert katex / "katex.min.css" in seen  # the pages do load the vendored KaTeX
    pages = [(site / "maths" / "dynamics" / "index.html").read_text(encoding="utf-8")]
    assert "javascripts/katex/katex.min.js" in pages[0]
    css = (katex / "katex.min.css").read_text()
    fonts = set(re.findall(r"url\((fonts/[\w-]+\.woff2)\)", css))
    assert fonts and all((katex / f).exists() for f in fonts)


def test_the_checks_for_remote_loads_catch_them():
    html = (
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
        '<link href="//fonts.googleapis.com/css?family=Roboto" rel="stylesheet">'
        '<img src="data:image/png;base64,AAAA"><script src="../javascripts/math.js"></script>'
    )
    refs = [next(g for g in m.groups() if g) for m in LOADED.finditer(html)]
    assert [r for r in refs if _remote(r)] == [
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
        "//fonts.googleapis.com/css?family=Roboto",
    ]


class _Formulas(HTMLParser):
    """The TeX of every pymdownx.arithmatex element of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif "arithmatex" in (dict(attrs).get("class") or "").split():
            self.depth, self.text = 1, []

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
            if not self.depth:
                self.found.append("".join(self.text).strip())

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


RENDER_ALL = r"""
const katex = require(process.argv[1]);
const formulas = JSON.parse(require("fs").readFileSync(0, "utf8"));
const failed = [];
for (const tex of formulas) {
  let body = tex, display = true;
  if (tex.startsWith("\\(")) { body = tex.slice(2, -2); display = false; }
  else if (tex.startsWith("\\[")) { body = tex.slice(2, -2); }
  try { katex.renderToString(body, { displayMode: display, throwOnError: true }); }
  catch (e) { failed.push(tex + "  ->  " + e.message); }
}
console.log(JSON.stringify({ n: formulas.length, failed }));
"""


def test_every_formula_renders_with_the_vendored_katex(site):
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("no node.js here to run KaTeX outside a browser")
    formulas = []
    for page in site.rglob("*.html"):
        parser = _Formulas()
        parser.feed(page.read_text(encoding="utf-8"))
        formulas += parser.found
    assert len(formulas) > 50  # the maths pages are full of them
    broken = r"\(\notamacro{x}\)"  # shows that a formula KaTeX cannot parse is caught
    katex_js = site / "javascripts" / "katex" / "katex.min.js"
    p = subprocess.run(
        [node, "-e", RENDER_ALL, str(katex_js)],
        input=json.dumps([*formulas, broken]),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["n"] == len(formulas) + 1
    assert [f.split("  ->  ")[0] for f in out["failed"]] == [broken]
