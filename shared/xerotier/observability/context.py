"""The correlation ids of the work in hand: a request id and a model id, carried by contextvars."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

REQUEST_ID_HEADER = "X-Request-ID"
#: Celery message headers that carry the ids from a producer to the task it enqueues.
TASK_REQUEST_ID = "x_request_id"
TASK_MODEL_ID = "x_model_id"

request_id_var: ContextVar[str | None] = ContextVar("xerotier_request_id", default=None)
model_id_var: ContextVar[str | None] = ContextVar("xerotier_model_id", default=None)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_UUID_IN_PATH = re.compile(
    r"/models/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """The caller's request id if it is a short, safe token; a fresh one otherwise (never trusted raw)."""
    if value and _SAFE_ID.match(value):
        return value
    return new_request_id()


def model_id_from_path(path: str) -> str | None:
    """The model UUID named in a request path (``…/models/<uuid>/…``), if any."""
    match = _UUID_IN_PATH.search(path)
    return match.group(1).lower() if match else None


def bind(request_id: str | None, model_id: str | None) -> tuple[Token, Token]:
    return request_id_var.set(request_id), model_id_var.set(model_id)


def unbind(tokens: tuple[Token, Token]) -> None:
    request_token, model_token = tokens
    request_id_var.reset(request_token)
    model_id_var.reset(model_token)


def set_model_id(model_id: str | None) -> None:
    """Name the model the current work is about (a handler that creates one learns its id late)."""
    model_id_var.set(model_id)
