"""Printing results as a table, JSON or YAML (``-o/--output table|json|yaml``).

Tables never cut a value: on a terminal a column too narrow folds onto the next line (``--wide`` lays
the table out at its natural width instead); piped, a table is plain tab-separated lines with every
value in full, so ``xeroctl models list | cut -f1`` gives ids. One record (``get``) is printed one field
a line with readable values: sizes, yes/no, lists joined, nested objects as an indented sub-table.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


@dataclass
class Layout:
    """How tables are laid out: ``wide`` ignores the terminal's width; ``plain`` forces tab-separated."""

    wide: bool = False
    plain: bool | None = None  # None: plain when stdout is not a terminal


layout = Layout()
SIZE_KEYS = ("sizeBytes", "totalBytes", "memoryBytes")


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def is_plain() -> bool:
    """Tab-separated output: asked for, or stdout is a pipe or a file."""
    if layout.plain is not None:
        return layout.plain
    return not sys.stdout.isatty()


def human(key: str, value: Any) -> str:
    """A scalar or a list as a person reads it (a table cell or a ``get`` field)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and (key in SIZE_KEYS or key.endswith("Bytes")):
        return human_bytes(value)
    if isinstance(value, int) and (key.endswith("Count") or key.endswith("Length")):
        return f"{value:,}"
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return ", ".join(human(key, v) for v in value) if value else "-"
        return json.dumps(value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def plain(value: Any) -> str:
    """A value in full on one line, for tab-separated output (no units, nothing folded)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value).replace("\t", " ").replace("\n", " ")


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))


def print_yaml(data: Any) -> None:
    import yaml

    print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False), end="")


def emit(
    data: Any,
    fmt: OutputFormat,
    columns: list[tuple[str, str]] | None = None,
    *,
    wide: bool | None = None,
) -> None:
    """Print ``data`` (a dict or a list of dicts) in ``fmt``; ``columns`` are (header, key) for tables."""
    if fmt is OutputFormat.json:
        print_json(data)
        return
    if fmt is OutputFormat.yaml:
        print_yaml(data)
        return
    if isinstance(data, list):
        emit_rows(data, columns or _columns_of(data), wide=wide)
    elif isinstance(data, dict):
        emit_record(data)
    else:
        print(plain(data))


def _columns_of(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return [(k.upper(), k) for k in keys]


def emit_rows(
    rows: list[dict[str, Any]], columns: list[tuple[str, str]], *, wide: bool | None = None
) -> None:
    """A table of rows; every id and name in full (folded, never cut)."""
    if is_plain():
        print("\t".join(header for header, _ in columns))
        for row in rows:
            print("\t".join(plain(row.get(key)) for _, key in columns))
        return
    table = Table()
    cells = [[_cell(row, key) for _, key in columns] for row in rows]
    minimum = 1
    for i, (header, key) in enumerate(columns):
        # ids and names keep their whole width; other columns fold first, down to their header's
        width = max([len(header), *(len(r[i]) for r in cells)]) if is_identifier(key) else len(header)
        table.add_column(header, overflow="fold", min_width=width)
        minimum += width + 3
    for row_cells in cells:
        table.add_row(*row_cells)
    if wide or layout.wide:
        Console(width=100_000, soft_wrap=True).print(table)
    elif minimum <= console.width:
        console.print(table)
    else:  # too narrow for the ids in full: one block per row, a field a line
        for n, row in enumerate(rows):
            if n:
                console.print()
            console.print(_record_table({header: row.get(key) for header, key in columns}, keys=columns))


def is_identifier(key: str) -> bool:
    """A column a user copies into the next command: never folded while anything else can be."""
    return key in ("id", "name", "slug", "modelName", "version", "path", "sha256") or key.endswith("Id")


def emit_record(record: dict[str, Any]) -> None:
    """One record, a field a line; nested objects and lists of objects as indented sub-tables."""
    if is_plain():
        for key, value in record.items():
            print(f"{key}\t{plain(value)}")
        return
    console.print(_record_table(record))


def _record_table(record: dict[str, Any], keys: list[tuple[str, str]] | None = None) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    units = dict(keys or [])  # header -> the API key, for units
    for key, value in record.items():
        if key in units:
            table.add_row(key, human(units[key], value))
            continue
        if isinstance(value, dict) and value:
            table.add_row(key, _record_table(value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            sub = Table(box=None, pad_edge=False)
            for _, col in _columns_of(value):
                sub.add_column(col, overflow="fold")
            for row in value:
                sub.add_row(*[human(col, row.get(col)) for _, col in _columns_of(value)])
            table.add_row(key, sub)
        else:
            table.add_row(key, human(key, value))
    return table


def _cell(row: dict[str, Any], key: str) -> str:
    return human(key, row.get(key))
