"""Structured logs: one JSON object per line, with the request id and model id of the work in hand."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from xerotier.observability.context import model_id_var, request_id_var

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class CorrelationFilter(logging.Filter):
    """Stamps every record with the current request id and model id (``None`` when there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "model_id"):
            record.model_id = model_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", "model_id", …extra, "exc"}`` per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "model_id": getattr(record, "model_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry and isinstance(value, str | int | float | bool):
                entry[key] = value  # structured extras only (libraries pass objects we do not dump)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(model_id)s]: %(message)s"


def configure_logging(level: str, fmt: str = "text") -> None:
    """Route every logger to stderr in ``fmt`` (``json`` or ``text``), with the correlation ids."""
    if fmt not in ("json", "text"):
        raise ValueError(f"log format must be json or text, not {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "kopf"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
