"""Numbers the registry can store and serve: finite floats, integers that fit their column (pure).

JSON as Python reads it accepts ``NaN``, ``Infinity`` and ``1e400`` (which becomes ``inf``), and
integers of any length up to the int/str limit (4,300 digits, then a ``ValueError``). None of these
can be stored and served back: PostgreSQL ``INTEGER`` is 32-bit, ``BIGINT`` and SQLite 64-bit, and
a response holding ``inf`` cannot be encoded as JSON. ``loads`` reads a document and names the first
such value by its path in the document; ``check_column`` checks one value against its column.
"""

from __future__ import annotations

import json
import math
from typing import Any

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
MAX_DIGITS = 4000  # below Python's int/str limit (4300): never reaches it


class NotStorable(ValueError):
    """A value no column can hold; ``where`` is the field's path, ``what`` why."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"field {where}: {what}")
        self.where = where
        self.what = what


class _Huge:
    def __init__(self, digits: int) -> None:
        self.digits = digits


class _Constant:
    def __init__(self, text: str) -> None:
        self.text = text


def _parse_int(text: str) -> int | _Huge:
    if len(text) > MAX_DIGITS:
        return _Huge(len(text))
    return int(text)


def _parse_float(text: str) -> float:
    return float(text)


def loads(raw: bytes | str, **kwargs: Any) -> Any:
    """``json.loads`` that refuses, by path, what cannot be stored (``NotStorable``)."""
    doc = json.loads(raw, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_Constant, **kwargs)
    check_tree(doc)
    return doc


def _describe(value: object) -> str | None:
    if isinstance(value, _Huge):
        return f"an integer of {value.digits} digits cannot be stored"
    if isinstance(value, _Constant):
        return f"{value.text} is not a finite number"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} (out of range or not a number) is not a finite number"
    if isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= INT64[1]:
        return "integer beyond 64 bits cannot be stored"
    return None


def check_tree(doc: object, root: str = "") -> None:
    """Every number in ``doc`` (nested dicts/lists) finite and within 64 bits, else ``NotStorable``."""
    pending: list[tuple[str, object]] = [(root, doc)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, dict):
            pending.extend((f"{where}.{key}" if where else str(key), item) for key, item in value.items())
        elif isinstance(value, list | tuple):
            pending.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
        else:
            problem = _describe(value)
            if problem is not None:
                raise NotStorable(where or "(the document)", problem)


def check_column(where: str, value: object, bits: int | None) -> None:
    """``value`` fits an integer column of ``bits`` (32/64), or is a finite float (``bits`` None)."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotStorable(where, f"{value!r} is not a finite number")
        return
    if isinstance(value, int):
        low, high = INT32 if bits == 32 else INT64
        if not low <= value <= high:
            raise NotStorable(where, f"{value} is beyond the {bits}-bit range of its column")


def finite_or_none(value: Any) -> Any:
    """For output: a non-finite float (stored before these checks) reads as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def sanitized(doc: Any) -> Any:
    """``doc`` with every non-finite float replaced by None (output of stored JSON)."""
    if isinstance(doc, float):
        return finite_or_none(doc)
    if isinstance(doc, dict):
        return {key: sanitized(item) for key, item in doc.items()}
    if isinstance(doc, list):
        return [sanitized(item) for item in doc]
    return doc
