"""The tensor headers validation extracted, written to a model's file rows in one statement.

The headers travel as one JSON document ``{path: header or null}`` joined to the rows by path
(``UPDATE … FROM json_each(…)``, PostgreSQL and SQLite ≥ 3.33 alike): one round trip and one
statement per model however many shards it has (a 1,000-shard model was 1,000 ``UPDATE``s).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import TextClause, Uuid, bindparam, text
from sqlalchemy.orm import Session

_WRITE = {
    "postgresql": "UPDATE model_files AS f SET header = CASE WHEN json_typeof(v.value) = 'null'"
    " THEN NULL ELSE v.value END FROM json_each(CAST(:doc AS json)) AS v"
    " WHERE f.model_id = :model_id AND f.path = v.key",
    "sqlite": "UPDATE model_files SET header = v.value FROM json_each(:doc) AS v"
    " WHERE model_files.model_id = :model_id AND model_files.path = v.key",
}


def _statement(dialect: str) -> TextClause:
    return text(_WRITE.get(dialect, _WRITE["postgresql"])).bindparams(bindparam("model_id", type_=Uuid()))


def write_headers(session: Session, model_id: uuid.UUID, headers: dict[str, dict[str, Any] | None]) -> int:
    """Set ``header`` of each of the model's files named in ``headers`` (None: no header, SQL NULL);
    returns the number of rows written."""
    if not headers:
        return 0
    doc = json.dumps(headers, separators=(",", ":"))
    result = session.execute(_statement(session.get_bind().dialect.name), {"doc": doc, "model_id": model_id})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
