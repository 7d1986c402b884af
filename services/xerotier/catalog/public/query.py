"""Catalog filters and keyset cursors: parsing and validation only (pure, no database)."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime

from xerotier.errors import InvalidInput

#: The seed's five workload types; a model without one is ``chat`` (the default).
WORKLOAD_TYPES: tuple[str, ...] = ("chat", "code", "reasoning", "embedding", "multilingual")
DEFAULT_WORKLOAD = "chat"
MAX_PAGE = 200
MAX_SEARCH = 200


@dataclass(frozen=True)
class Cursor:
    """Position after the last row of a page: its ``shared_at`` and id (newest first)."""

    shared_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.shared_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            when, _, ident = raw.partition("|")
            cursor = cls(datetime.fromisoformat(when), uuid.UUID(ident))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidInput("Invalid cursor: pass the nextCursor of a previous page unchanged") from None
        if cursor.shared_at.tzinfo is None:
            raise InvalidInput("Invalid cursor: pass the nextCursor of a previous page unchanged")
        return cursor


@dataclass(frozen=True)
class CatalogFilter:
    workload_type: str | None = None
    architecture: str | None = None
    is_multimodal: bool | None = None
    min_parameters: int | None = None
    max_parameters: int | None = None
    min_context_length: int | None = None
    max_context_length: int | None = None
    is_pre_quantized: bool | None = None
    search: str | None = None  # case-insensitive substring of the name
    featured: bool | None = None
    catalog_role: str | None = None

    def __post_init__(self) -> None:
        if self.workload_type is not None and self.workload_type not in WORKLOAD_TYPES:
            raise InvalidInput(
                f"Invalid workloadType '{self.workload_type}': expected one of {', '.join(WORKLOAD_TYPES)}"
            )
        _range("parameter", self.min_parameters, self.max_parameters)
        _range("context length", self.min_context_length, self.max_context_length)
        if self.search is not None and len(self.search) > MAX_SEARCH:
            raise InvalidInput(f"Search text is longer than {MAX_SEARCH} characters")


def _range(what: str, low: int | None, high: int | None) -> None:
    for value in (low, high):
        if value is not None and value < 0:
            raise InvalidInput(f"The {what} range cannot be negative")
    if low is not None and high is not None and low > high:
        raise InvalidInput(f"The {what} range is empty: minimum {low} is above maximum {high}")


def like_pattern(text: str) -> str:
    """``text`` as a LIKE substring pattern, with the wildcard characters escaped (escape ``\\``)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
