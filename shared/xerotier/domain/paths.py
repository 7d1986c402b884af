"""File paths inside a model: relative, normalized, and never pointing outside it (pure).

Paths are Unicode NFC (an NFD twin names the same file), and may not hold characters that make two
different paths look alike or a path read differently than it is stored: control characters,
format characters (zero-width spaces and joiners, bidirectional overrides and isolates, the BOM,
soft hyphens), line or paragraph separators, lone surrogates.
"""

from __future__ import annotations

import unicodedata

from xerotier.errors import InvalidInput

MAX_PATH_LENGTH = 1024
MAX_SEGMENT_LENGTH = 255
_INVISIBLE = frozenset({"Cf", "Zl", "Zp", "Cs", "Co"})  # format, separators, surrogates, private use


def normalize_model_path(raw: str) -> str:
    """The canonical form of ``raw``, or ``InvalidInput`` saying what is wrong with it."""
    if not raw:
        raise InvalidInput("Invalid file path: empty")
    if len(raw) > MAX_PATH_LENGTH:
        raise InvalidInput(f"Invalid file path: longer than {MAX_PATH_LENGTH} characters")
    if "\x00" in raw:
        raise InvalidInput("Invalid file path: contains a NUL byte")
    if "\\" in raw:
        raise InvalidInput("Invalid file path: contains a backslash; use '/' between folders")
    if any(unicodedata.category(ch) == "Cc" for ch in raw):
        raise InvalidInput("Invalid file path: contains a control character")
    invisible = next((ch for ch in raw if unicodedata.category(ch) in _INVISIBLE), None)
    if invisible is not None:
        raise InvalidInput(
            f"Invalid file path: contains U+{ord(invisible):04X} ({unicodedata.name(invisible, 'unnamed')}), "
            "an invisible, zero-width or bidirectional character"
        )
    raw = unicodedata.normalize("NFC", raw)
    if len(raw) > MAX_PATH_LENGTH:
        raise InvalidInput(f"Invalid file path: longer than {MAX_PATH_LENGTH} characters")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise InvalidInput("Invalid file path: must be relative to the model")
    segments = raw.split("/")
    for segment in segments:
        if segment in ("", "."):
            raise InvalidInput("Invalid file path: empty or '.' folder name")
        if segment == "..":
            raise InvalidInput("Invalid file path: '..' is not allowed")
        if len(segment) > MAX_SEGMENT_LENGTH:
            raise InvalidInput(f"Invalid file path: a name is longer than {MAX_SEGMENT_LENGTH} characters")
    return "/".join(segments)
