"""Carry the request id and model id from a producer to every task it causes (Celery signals).

A publish copies the current ids into the message headers (the model id falls back to the task's
``model_id`` keyword). A task run binds the ids from its headers before it starts, so its logs and
the tasks it enqueues in turn carry the same request id. The outbox keeps the request id with
each task, so a task the relay publishes long after its request (a crash, a broker outage) still
carries it; a task no request caused is given its own task id.
"""

from __future__ import annotations

from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun

from xerotier.observability import context

_tokens: dict[str, tuple] = {}


def _on_publish(body: Any = None, headers: dict | None = None, **_: Any) -> None:
    if headers is None:
        return
    kwargs = body[1] if isinstance(body, tuple | list) and len(body) > 1 else {}
    model_id = context.model_id_var.get() or (kwargs.get("model_id") if isinstance(kwargs, dict) else None)
    request_id = context.request_id_var.get()
    if request_id and context.TASK_REQUEST_ID not in headers:
        headers[context.TASK_REQUEST_ID] = request_id
    if model_id and context.TASK_MODEL_ID not in headers:
        headers[context.TASK_MODEL_ID] = str(model_id)


def _header(task: Any, name: str) -> str | None:
    request = getattr(task, "request", None)
    value = getattr(request, name, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(name)
    return str(value) if value is not None else None


def _on_prerun(task_id: str | None = None, task: Any = None, kwargs: dict | None = None, **_: Any) -> None:
    request_id = _header(task, context.TASK_REQUEST_ID) or task_id
    model_id = _header(task, context.TASK_MODEL_ID) or (kwargs or {}).get("model_id")
    _tokens[task_id or ""] = context.bind(request_id, str(model_id) if model_id else None)


def _on_postrun(task_id: str | None = None, **_: Any) -> None:
    tokens = _tokens.pop(task_id or "", None)
    if tokens is not None:
        try:
            context.unbind(tokens)
        except ValueError:  # bound in another context (thread pools): just clear
            context.bind(None, None)


def install() -> None:
    """Connect the hooks (idempotent: each has a fixed dispatch uid)."""
    before_task_publish.connect(_on_publish, weak=False, dispatch_uid="xerotier.correlation.publish")
    task_prerun.connect(_on_prerun, weak=False, dispatch_uid="xerotier.correlation.prerun")
    task_postrun.connect(_on_postrun, weak=False, dispatch_uid="xerotier.correlation.postrun")
