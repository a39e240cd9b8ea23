"""ttnn's own modules import each other without a circle.

The graph is read from the source (``ast``): an edge A → B for every ``import`` or
``from … import`` in A (at module level or inside a function) that names B, where
``from P import x`` is an edge to the module ``P.x`` when there is one and to ``P``
otherwise (taking a name out of the package ``ttnn`` itself depends on its
``__init__``). The graph must have no strongly connected component of two or more
modules. Implicit parent-package imports are not edges (every submodule has them).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ttnn

ROOT = Path(ttnn.__file__).parent


def _modules(root: Path) -> dict[str, tuple[Path | None, bool]]:
    """Module name → (source or None for an extension/stub, is a package)."""
    mods: dict[str, tuple[Path | None, bool]] = {}
    for p in root.rglob("*.py"):
        parts = list(p.relative_to(root.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        mods[".".join(parts[:-1] if is_pkg else parts)] = (p, is_pkg)
    for p in [*root.rglob("*.pyi"), *root.rglob("*.so"), *root.rglob("*.pyd")]:
        rel = p.relative_to(root.parent)
        mods.setdefault(".".join((*rel.parts[:-1], rel.name.split(".")[0])), (None, False))
    return mods


def import_graph(root: Path) -> dict[str, set[str]]:
    mods = _modules(root)
    edges: dict[str, set[str]] = {}
    for name, (path, is_pkg) in mods.items():
        out: set[str] = set()
        if path is not None:
            pkg = name if is_pkg else name.rpartition(".")[0]
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    out.update(a.name for a in node.names if a.name in mods)
                elif isinstance(node, ast.ImportFrom):
                    if node.level:
                        base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                        mod = ".".join(base + ([node.module] if node.module else []))
                    else:
                        mod = node.module or ""
                    for a in node.names:
                        if f"{mod}.{a.name}" in mods:
                            out.add(f"{mod}.{a.name}")
                        elif mod in mods:
                            out.add(mod)
        out.discard(name)
        edges[name] = out
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of two or more modules (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_the_checker_finds_a_circle(tmp_path: Path) -> None:
    # The checker itself on a package with a circle through a function-level import
    # and one through the package's __init__ (``from . import x`` of an attribute).
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import f\nfrom .c import X\nVERSION = 1\n")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n    return g\n")
    (pkg / "b.py").write_text("from .a import f\n\ndef g():\n    return f\n")
    (pkg / "c.py").write_text("from . import VERSION\nX = 1\n")
    (pkg / "d.py").write_text("from . import c\n")
    edges = import_graph(pkg)
    assert edges["pkg.d"] == {"pkg.c"} and edges["pkg.c"] == {"pkg"}
    assert sorted(circles(edges)) == [["pkg", "pkg.c"], ["pkg.a", "pkg.b"]]


def test_ttnn_has_no_import_circle() -> None:
    edges = import_graph(ROOT)
    assert "ttnn._sweep.runs" in edges and "ttnn._core" in edges  # the graph is ttnn's
    assert circles(edges) == []


def test_import_ttnn_loads_only_modules_in_the_graph() -> None:
    # What ``import ttnn`` loads in a fresh interpreter is covered by the graph above
    # (no module reached by other means), and leaves the figures' package alone.
    code = "import sys, ttnn; print('\\n'.join(m for m in sys.modules if m.startswith('ttnn')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    graph = import_graph(ROOT)
    assert "ttnn" in out and "ttnn._sweep.runs" in out
    assert set(out) <= set(graph)
    assert not any(m.startswith("ttnn.reproduce") for m in out)
