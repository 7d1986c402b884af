"""HTTP byte ranges and entity tags of a file download (pure; RFC 9110 §13-14, single ranges).

A ``Range`` header with one range gives ``(start, end)`` (inclusive); several ranges, a unit other
than ``bytes`` or a malformed header are ignored (the whole file, 200), as RFC 9110 allows; a range
that starts past the end is ``RangeNotSatisfiable`` (416).
"""

from __future__ import annotations

from xerotier.errors import RangeNotSatisfiable

__all__ = ["RangeNotSatisfiable", "byte_range", "content_range", "etag_matches", "etag_of"]


def etag_of(sha256: str) -> str:
    return f'"{sha256}"'


def etag_matches(header: str | None, sha256: str) -> bool:
    """Whether ``If-None-Match`` (a list of tags, weak or strong, or ``*``) names this file."""
    if not header:
        return False
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/").strip('"') == sha256:
            return True
    return False


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The single range ``header`` asks of a file of ``size`` bytes, or None for the whole file."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    if not first:  # suffix: the last N bytes
        if not last.isdigit() or int(last) == 0:
            return None if not last.isdigit() else _unsatisfiable(size)
        return (max(size - int(last), 0), size - 1) if size else _unsatisfiable(size)
    if not first.isdigit() or (last and not last.isdigit()):
        return None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    if start >= size:
        return _unsatisfiable(size)
    return start, end


def _unsatisfiable(size: int) -> tuple[int, int]:
    raise RangeNotSatisfiable(f"Range not satisfiable: the file has {size} bytes")


def content_range(start: int, end: int, size: int) -> str:
    return f"bytes {start}-{end}/{size}"
