"""A Griffe extension for the API reference: the docstrings use reStructuredText roles
(:func:`sgd`, :class:`ttnn.Network`, :mod:`.experiments`), which Markdown would show
literally. Each role becomes a plain code span."""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|obj|exc):`~?([^`]+)`")


class RstRoles(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(r"`\1`", obj.docstring.value)
