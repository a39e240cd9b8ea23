"""python/ttnn/_core.pyi against the compiled module: the same public names of the
same kinds (function, class, module attribute of the annotated type; method,
read-only property or attribute of a class), and for every function and method the
same parameter names as pybind11's signatures (so a keyword call checked by mypy is
a keyword call the module accepts)."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from ttnn import _core

STUB = Path(_core.__file__).with_name("_core.pyi")
if not STUB.exists():  # an installed .so beside a source-tree stub
    STUB = Path(__file__).resolve().parents[1] / "python" / "ttnn" / "_core.pyi"
ROOT = Path(__file__).resolve().parents[1]


def _public(names: Iterable[str]) -> set[str]:
    return {n for n in names if not n.startswith("_")}


def _split_params(text: str) -> list[str]:
    """Split a pybind11 parameter list at top-level commas (types nest brackets)."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.split(":")[0].split("=")[0].strip() for p in parts]


def _runtime_signatures(obj: object, name: str) -> set[tuple[str, ...]]:
    """Parameter names of every signature pybind11 wrote at the top of ``__doc__``."""
    doc = obj.__doc__ or ""
    sigs = set()
    for m in re.finditer(rf"^(?:\d+\. )?{re.escape(name)}\((.*)\) ->", doc, re.MULTILINE):
        params = tuple(_split_params(m.group(1)))
        if params not in {("*args", "**kwargs")}:  # the header of an overloaded function
            sigs.add(params)
    assert sigs, f"no signature found in the docstring of {name}: {doc[:200]!r}"
    return sigs


def _stub_params(fn: ast.FunctionDef) -> tuple[str, ...]:
    a = fn.args
    return tuple(x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs))


def _stub() -> tuple[
    dict[str, list[ast.FunctionDef]], dict[str, ast.ClassDef], dict[str, ast.expr]
]:
    """The stub's functions, classes and module attributes (name → annotation)."""
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    funcs: dict[str, list[ast.FunctionDef]] = {}
    classes: dict[str, ast.ClassDef] = {}
    values: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            funcs.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            values[node.target.id] = node.annotation
    return funcs, classes, values


def _is_property(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in fn.decorator_list)


def _has_setter(defs: list[ast.FunctionDef]) -> bool:
    return any(
        isinstance(d, ast.Attribute) and d.attr == "setter" for f in defs for d in f.decorator_list
    )


SCALARS = {"bool": bool, "int": int, "float": float, "str": str}


def test_stub_names_match_the_module() -> None:
    funcs, classes, values = _stub()
    stub_names = _public(funcs) | _public(classes) | _public(values)
    assert stub_names == _public(dir(_core)), (
        f"only in the module: {sorted(_public(dir(_core)) - stub_names)}; "
        f"only in the stub: {sorted(stub_names - _public(dir(_core)))}"
    )
    for name in _public(classes):
        assert inspect.isclass(getattr(_core, name)), name
    for name in _public(funcs):
        assert callable(getattr(_core, name)) and not inspect.isclass(getattr(_core, name))


def test_stub_module_attributes_are_values_of_their_annotated_type() -> None:
    funcs, classes, values = _stub()
    for name, annotation in values.items():
        if name.startswith("_"):
            continue
        value = getattr(_core, name)
        assert not callable(value), f"{name} is annotated as a value but is callable"
        kind = ast.unparse(annotation)
        if kind in SCALARS:  # bool is an int: compare the exact type
            assert type(value) is SCALARS[kind], f"{name}: {type(value).__name__}, stub {kind}"
    # The other way round: every public non-callable of the module is a stub attribute.
    runtime_values = {
        n
        for n in _public(dir(_core))
        if not callable(getattr(_core, n)) and not inspect.ismodule(getattr(_core, n))
    }
    assert runtime_values == _public(values), (runtime_values, sorted(values))


def test_stub_functions_have_the_modules_parameter_names() -> None:
    funcs, _, _ = _stub()
    for name, defs in funcs.items():
        if name.startswith("_"):
            continue
        stub = {_stub_params(d) for d in defs}
        assert stub == _runtime_signatures(getattr(_core, name), name), name


def test_stub_classes_have_the_modules_members_and_parameter_names() -> None:
    _, classes, _ = _stub()
    for cname, node in classes.items():
        cls = getattr(_core, cname)
        members: dict[str, list[ast.FunctionDef]] = {}
        attributes: set[str] = set()
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                members.setdefault(item.name, []).append(item)
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                attributes.add(item.target.id)
        runtime = {n for n in vars(cls) if not n.startswith("_")}
        assert _public(members) | _public(attributes) == runtime, (
            f"{cname}: only in the module {sorted(runtime - _public(members) - attributes)}, "
            f"only in the stub {sorted(_public(members) | _public(attributes) - runtime)}"
        )
        for aname in _public(attributes):  # a plain attribute: not a method
            assert not inspect.isroutine(vars(cls)[aname]), f"{cname}.{aname}"
        for mname, defs in members.items():
            if any(_is_property(d) for d in defs):
                prop = vars(cls)[mname]
                assert isinstance(prop, property), f"{cname}.{mname} is not a property"
                # read-only in the module exactly when the stub declares no setter
                assert (prop.fset is not None) == _has_setter(defs), f"{cname}.{mname} setter"
                continue
            if mname.startswith("__") and mname not in ("__init__", "__call__"):
                continue
            assert not isinstance(vars(cls).get(mname), property), f"{cname}.{mname}"
            stub = {_stub_params(d) for d in defs}
            assert stub == _runtime_signatures(getattr(cls, mname), mname), f"{cname}.{mname}"
        if "__init__" not in members:  # a result class: built by the core only
            with pytest.raises(TypeError):
                cls()


def test_results_are_bound_classes_with_read_only_views() -> None:
    import numpy as np

    import ttnn

    net = ttnn.Network.init(m=3, eta=4e-3, seed=0)
    out = _core.sgd(
        net=net._c,
        target=ttnn.target.core_target(ttnn.PiecewiseConstant.paper()),
        h=1e-3,
        eps=1.0,
        steps=10,
        snapshots=3,
        noise="none",
        noise_scale=0.0,
        seed=0,
    )
    assert isinstance(out, _core.SgdResult)
    assert out.steps.dtype == np.int64 and out.steps.tolist() == [0, 5, 10]
    for arr in (out.steps, out.a, out.u, out.l2):
        assert not arr.flags.writeable
    with pytest.raises(AttributeError):
        out.a = None  # type: ignore[misc]


def test_py_typed_is_shipped() -> None:
    assert (Path(_core.__file__).parent / "py.typed").exists()


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy not installed")
def test_mypy_is_clean() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "python/ttnn"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
