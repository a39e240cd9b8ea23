"""The ways in: ``ttnn.reproduce`` after ``import ttnn`` (lazily), ``python -m ttnn`` and
``ttnn`` without arguments (help, exit 0), ``--version``, and figures that leave the
caller's Matplotlib state alone."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ttnn
from ttnn.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(ttnn.__file__).parents[1]), env.get("PYTHONPATH", "")]
    )
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)


def test_import_ttnn_leaves_matplotlib_and_reproduce_unimported_until_used():
    code = (
        "import sys, ttnn\n"
        "assert 'matplotlib' not in sys.modules, 'import ttnn imported matplotlib'\n"
        "assert 'ttnn.reproduce' not in sys.modules\n"
        "run = ttnn.reproduce.run\n"
        "assert 'ttnn.reproduce' in sys.modules and callable(run)\n"
        "assert 'reproduce' in dir(ttnn)\n"
        "print('ok')\n"
    )
    p = _run(sys.executable, "-c", code)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "ok"


def test_unknown_attribute_still_raises_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        ttnn.no_such_thing  # noqa: B018


def test_python_dash_m_ttnn_without_arguments_prints_help_and_exits_0():
    p = _run(sys.executable, "-m", "ttnn")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: ttnn")
    for command in ("demo", "reproduce", "sweep", "--version"):
        assert command in p.stdout
    assert p.stderr == ""


def test_main_without_arguments_prints_help(capsys):
    # ``ttnn`` (the console script of pyproject.toml) is ttnn.cli:main.
    assert main([]) == 0
    assert capsys.readouterr().out.startswith("usage: ttnn")


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"ttnn {ttnn.__version__}\n"
    p = _run(sys.executable, "-m", "ttnn", "--version")
    assert (p.returncode, p.stdout) == (0, f"ttnn {ttnn.__version__}\n")


def test_console_script_declared_and_runs():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'ttnn = "ttnn.cli:main"' in text
    exe = shutil.which("ttnn")
    if exe is None:
        pytest.skip("the ttnn console script is not installed here (pip install . installs it)")
    p = _run(exe)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: ttnn")


def test_a_bad_command_is_still_a_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_reproduce_keeps_the_callers_backend_and_opens_no_pyplot_figure(tmp_path):
    code = (
        "import matplotlib\n"
        "matplotlib.use('svg')\n"
        "import ttnn.reproduce\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
        f"ttnn.reproduce.run(['fig5'], scale='quick', out={str(tmp_path)!r})\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
        "import matplotlib.pyplot as plt\n"
        "assert plt.get_fignums() == [], plt.get_fignums()\n"
        "print('ok')\n"
    )
    p = _run(sys.executable, "-c", code)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "ok"
    assert (tmp_path / "fig5_standard.png").stat().st_size > 0
