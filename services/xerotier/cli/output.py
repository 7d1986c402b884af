"""Printing results as JSON or as a table (``--output json|table``)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def emit(data: Any, fmt: OutputFormat, columns: list[tuple[str, str]] | None = None) -> None:
    """Print ``data`` (a dict or a list of dicts) in ``fmt``; ``columns`` are (header, key) for tables."""
    if fmt is OutputFormat.json:
        print(json.dumps(data, indent=2))
        return
    rows = data if isinstance(data, list) else None
    if rows is None:
        table = Table(show_header=False, box=None)
        for key, value in data.items():
            table.add_row(key, "-" if value is None else str(value))
        console.print(table)
        return
    table = Table()
    for header, _ in columns or []:
        table.add_column(header)
    for row in rows:
        table.add_row(*[_cell(row, key) for _, key in columns or []])
    console.print(table)


def _cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if key == "sizeBytes":
        return human_bytes(value)
    return "-" if value is None else str(value)
