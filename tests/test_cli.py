"""The command line: the demo runs and reports; bad options fail clearly (no arguments at
all print the help: tests/test_entry_points.py)."""

import subprocess
import sys


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "ttnn", *args], capture_output=True, text=True, timeout=300
    )


def test_demo_reports_both_regimes():
    out = run("demo", "--seeds", "2")
    assert out.returncode == 0, out.stderr
    assert "E1 two-timescale" in out.stdout and "E2 standard" in out.stdout
    assert "median final L2 error" in out.stdout


def test_bad_options_fail_with_a_message():
    for args in (["demo", "--seeds", "0"], ["demo", "--target", "nope"], ["fly"]):
        out = run(*args)
        assert out.returncode != 0
        assert "error" in out.stderr.lower()
