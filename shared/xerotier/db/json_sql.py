"""JSON objects rendered by PostgreSQL exactly as Python's ``json.dumps`` of our row dicts would write
them, so a hot page can be joined as text without becoming Python objects.

Three values need care: times (``datetime.isoformat`` of a UTC time), floats (Python writes
``1.0`` where PostgreSQL writes ``1``) and metadata objects (SQL NULL and JSON ``null`` both read as
``{}``). Every other column type is already written the same way by both.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import JSON, BigInteger, ColumnElement, Text, case, cast, func, literal_column


def key(name: str) -> ColumnElement[Any]:
    """One of our own constant field names as a SQL string literal (never a user's value)."""
    if "'" in name or "\\" in name:
        raise ValueError(f"not a plain field name: {name!r}")
    return literal_column(f"'{name}'")


def isoformat_utc(column: Any) -> ColumnElement[Any]:
    """``datetime.isoformat()`` of a UTC time, in SQL: six fraction digits, or none when zero
    (one ``to_char``, about 1 µs a value; NULL stays NULL, a JSON null)."""
    utc = column.op("AT TIME ZONE")(literal_column("'UTC'"))
    text = func.to_char(utc, literal_column('\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\''))
    return func.replace(text, literal_column("'.000000+'"), literal_column("'+'"))


def python_float(column: Any) -> ColumnElement[Any]:
    """A double as ``json.dumps`` writes it: an integral value below 1e16 keeps its ``.0``.

    Both write the shortest text that reads back the same double. Python switches to an exponent
    from 1e16 on, PostgreSQL from 1e15, and PostgreSQL drops the ``.0`` of a whole number; a whole
    number below 1e16 is therefore written from its exact integer."""
    whole = (column == func.trunc(column)) & (func.abs(column) < literal_column("1e16"))
    digits = cast(cast(column, BigInteger), Text)
    return case((whole, cast(digits.concat(literal_column("'.0'")), JSON)), else_=func.to_json(column))


def object_or_empty(column: Any) -> ColumnElement[Any]:
    """A JSON object column; SQL NULL, JSON ``null`` and any non-object read as ``{}``
    (Python's ``value or {}`` on a dict column)."""
    return case(
        (func.json_typeof(column) == key("object"), column),
        else_=cast(key("{}"), JSON),
    )


def json_object_text(pairs: list[tuple[str, Any]]) -> ColumnElement[Any]:
    """``json_build_object`` of the (field name, SQL value) pairs, in order, as text."""
    arguments: list[Any] = []
    for name, value in pairs:
        arguments += [key(name), value]
    return cast(func.json_build_object(*arguments), Text)


def row_object_text(
    fields: dict[str, Any], *, metadata: Any, times: Collection[str], floats: Collection[str]
) -> ColumnElement[Any]:
    """A row as JSON text, field by field in order: ``fields`` maps a name to its column, or to None
    for a key lifted out of the ``metadata`` object column; ``extraMetadata`` is that object
    (``{}`` when absent). Fields named in ``times`` and ``floats`` are written as Python would."""
    extra = object_or_empty(metadata)
    pairs: list[tuple[str, Any]] = []
    for name, column in fields.items():
        if name == "extraMetadata":
            pairs.append((name, extra))
        elif column is None:
            pairs.append((name, extra.op("->")(key(name))))
        elif name in times:
            pairs.append((name, isoformat_utc(column)))
        elif name in floats:
            pairs.append((name, python_float(column)))
        else:
            pairs.append((name, column))
    return json_object_text(pairs)
