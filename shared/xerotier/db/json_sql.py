"""JSON objects rendered by PostgreSQL exactly as Python's ``json.dumps`` of our row dicts would write
them, so a hot page can be joined as text without becoming Python objects.

Three values need care: times (``datetime.isoformat`` of a UTC time), floats (Python writes
``1.0`` where PostgreSQL writes ``1``) and metadata objects (SQL NULL and JSON ``null`` both read as
``{}``). Every other column type is already written the same way by both.
"""

from __future__ import annotations

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
