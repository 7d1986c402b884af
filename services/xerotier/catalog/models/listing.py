"""Keyset pagination of model lists (pure): an opaque cursor holding the last row's sort key."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass

from xerotier.domain.lifecycle import ModelStatus
from xerotier.errors import InvalidInput

WORKLOAD_TYPES = ("chat", "code", "reasoning", "embedding", "multilingual")
MAX_LIMIT = 500


@dataclass(frozen=True)
class ListFilter:
    all_versions: bool = False
    status: str | None = None
    architecture: str | None = None
    workload_type: str | None = None
    name_prefix: str | None = None
    tags: tuple[tuple[str, str], ...] = ()  # key:value pairs, all required (model or version tags)

    def check(self) -> None:
        if self.status is not None and self.status not in {s.value for s in ModelStatus}:
            allowed = ", ".join(s.value for s in ModelStatus)
            raise InvalidInput(f"Invalid status '{self.status}': expected one of {allowed}")
        if self.workload_type is not None and self.workload_type not in WORKLOAD_TYPES:
            raise InvalidInput(
                f"Invalid workloadType '{self.workload_type}': expected one of {', '.join(WORKLOAD_TYPES)}"
            )


def encode_cursor(name: str, model_id: uuid.UUID) -> str:
    raw = json.dumps([name, str(model_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, uuid.UUID]:
    """The ``(name, id)`` a cursor continues after, or ``InvalidInput``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, model_id = json.loads(raw)
        if not isinstance(name, str):
            raise ValueError
        return name, uuid.UUID(model_id)
    except (binascii.Error, ValueError, TypeError, AttributeError, UnicodeDecodeError):
        raise InvalidInput("Invalid cursor: pass the nextCursor of a previous page unchanged") from None


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching names that start with ``prefix`` (``\\`` escapes)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def prefix_successor(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix``, in code point order (the
    order of ``COLLATE "C"`` and SQLite's ``BINARY``), or None when there is none.

    ``name >= prefix AND name < successor`` is then one bounded index range whatever plan the
    database picks (a generic plan for ``LIKE $1`` cannot derive the upper bound itself).
    """
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters: skip to the next one
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None
