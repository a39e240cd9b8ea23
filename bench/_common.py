"""What every bench script shares: the machine description and RESULTS.md sections."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    for line in out.splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(HERE), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_line() -> str:
    return f"{platform.platform()}, {os.cpu_count()} logical CPUs, CPU model `{cpu_model()}`"


def header_lines() -> list[str]:
    """The date, command and machine lines that open every section of RESULTS.md."""
    return [
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- Command: `{shlex.join(['python', *sys.argv])}` (interpreter `{sys.executable}`)",
        f"- Machine: {machine_line()}",
    ]


def load_average() -> float:
    return os.getloadavg()[0]


def load_note(before: float, after: float) -> str:
    """How to read absolute times given the 1-minute load average around a bench."""
    if max(before, after) <= 1.5:
        return "the machine was otherwise idle"
    return (
        "on 2 cores shared with other builds and test runs: absolute times are inflated "
        "and noisy; ratios within one run are the meaningful numbers"
    )


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def write_section(section: str, text: str) -> Path:
    """Replace the section titled ``section`` of RESULTS.md, keeping the others."""
    path = HERE / "RESULTS.md"
    old = path.read_text() if path.exists() else "# ttnn benchmarks\n"
    start = old.find(section)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(section))
        tail = "" if nxt < 0 else old[nxt:]
        new = old[:start] + text.rstrip("\n") + "\n" + tail
    path.write_text(new.rstrip("\n") + "\n")
    return path
