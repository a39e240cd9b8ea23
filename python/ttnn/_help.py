"""Text for the command lines' ``--help`` (shared by ``ttnn`` and its sweep commands)."""

from __future__ import annotations

import re


def plain(doc: str | None) -> str:
    """A module docstring as plain text for ``--help``: reST's double backquotes and
    roles (``:mod:`x```) become plain words."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", doc or "")
    return text.replace("``", "")
