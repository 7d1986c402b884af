"""Model names: the Hub's character set, ``org/name`` at most, never a path trick (pure).

A model name is one or two segments joined by ``/`` (``llama-3-8b``, ``meta-llama/Llama-3-8B``),
each of ASCII letters, digits, ``-``, ``_`` and ``.``; a segment may not be ``.`` or ``..``, and the
whole name is at most ``MAX_NAME_LENGTH`` characters. Names are compared exactly (case matters),
as the Hub's repository ids are. Surrounding whitespace is stripped (as before); anything else out
of the set is refused with the rule.
"""

from __future__ import annotations

import re
from typing import Any

from xerotier.errors import InvalidInput

MAX_NAME_LENGTH = 200
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")
RULE = (
    f"1 to {MAX_NAME_LENGTH} characters: letters, digits, '-', '_', '.', and one '/' between an "
    "organisation and a name (org/name), no '.' or '..' segment"
)


def check_model_name(name: Any) -> str:
    """The name, stripped, if it follows the rule; else ``InvalidInput`` stating the rule."""
    value = name.strip() if isinstance(name, str) else ""
    if not value or len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(f"Invalid model name: {RULE}")
    segments = value.split("/")
    if len(segments) > 2:
        raise InvalidInput(f"Invalid model name: at most one '/' (org/name); {RULE}")
    for segment in segments:
        if segment in (".", ".."):
            raise InvalidInput(f"Invalid model name: '{segment}' is not allowed as a segment; {RULE}")
        if not _SEGMENT.match(segment):
            raise InvalidInput(f"Invalid model name: {RULE}")
    return value
