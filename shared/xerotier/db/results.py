"""Reading what a statement did."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Result


def rowcount(result: Result[Any]) -> int:
    """Rows an ``UPDATE`` / ``DELETE`` matched (its result is a ``CursorResult``)."""
    assert isinstance(result, CursorResult)
    return result.rowcount
