"""Structured logs and correlation ids (pure: no I/O beyond a log record)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from xerotier.observability import context
from xerotier.observability.logs import CorrelationFilter, JsonFormatter, configure_logging


def _emit(logger_name: str, message: str, **extra: object) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.info(message, extra=extra)
    finally:
        logger.removeHandler(handler)
    return json.loads(stream.getvalue())


def test_json_line_carries_the_bound_ids_and_extras():
    tokens = context.bind("req-1", "m-1")
    try:
        entry = _emit("xt.test.bound", "hello %s", route="/v1/models", status=200)
    finally:
        context.unbind(tokens)
    assert entry["message"] == "hello %s"
    assert (entry["request_id"], entry["model_id"]) == ("req-1", "m-1")
    assert (entry["route"], entry["status"], entry["level"]) == ("/v1/models", 200, "INFO")
    assert entry["logger"] == "xt.test.bound"


def test_ids_are_null_outside_any_request_and_restored_after_unbind():
    outer = context.bind("outer", None)
    inner = context.bind("inner", "m")
    context.unbind(inner)
    assert context.request_id_var.get() == "outer" and context.model_id_var.get() is None
    context.unbind(outer)
    entry = _emit("xt.test.unbound", "x")
    assert entry["request_id"] is None and entry["model_id"] is None


@pytest.mark.parametrize(
    "given, kept",
    [
        ("abc-123", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("bad id", False),
        ("x\ny", False),
        ("", False),
    ],
)
def test_caller_request_ids_are_kept_only_when_safe(given, kept):
    result = context.accept_request_id(given)
    assert (result == given) is kept
    assert 1 <= len(result) <= 128


def test_model_id_is_read_from_the_path_only_when_it_is_a_uuid():
    uid = "0B7C9F1E-1111-2222-3333-444455556666"
    assert context.model_id_from_path(f"/proj_x/v1/models/{uid}/complete") == uid.lower()
    assert context.model_id_from_path("/v1/models/not-a-uuid") is None
    assert context.model_id_from_path("/v1/models") is None


def test_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="json or text"):
        configure_logging("INFO", "xml")
