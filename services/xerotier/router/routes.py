"""The OpenAI-compatible front door: ``/v1/chat/completions``, ``/v1/completions``, ``/v1/embeddings``.

``model`` names an endpoint of the caller's project (its id or its model's name). Each request is
routed to the engine of the version the endpoint serves now; see ``handlers`` and ``forward``.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.schemas import error_responses
from xerotier.errors import InvalidInput
from xerotier.router import handlers
from xerotier.router.forward import EngineUnreachable, engine_failure, forward
from xerotier.router.handlers import NotServing, Route
from xerotier.router.prompt import count_tokens, render_chat, text_of_messages
from xerotier.router.sampling import prepare_body
from xerotier.router.schemas import STREAMED, ChatCompletion, Completion, Embeddings
from xerotier.runtime import Runtime

router = APIRouter(tags=["router"])
RETRY_AFTER_SECONDS = 5


def _client(request: Request, runtime: Runtime) -> httpx.AsyncClient:
    client = getattr(request.app.state, "router_http", None)
    if client is None:
        timeout = httpx.Timeout(runtime.settings.router_engine_timeout_seconds, connect=5.0)
        transport = httpx.AsyncHTTPTransport(
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],  # small requests go at once
            limits=httpx.Limits(max_keepalive_connections=64),
        )
        client = httpx.AsyncClient(timeout=timeout, transport=transport)
        request.app.state.router_http = client
    return client


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise InvalidInput("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise InvalidInput("model must name an endpoint of your project (its id or its model's name)")
    return body


def _prompt_tokens(runtime: Runtime, found: Route, body: dict[str, Any], kind: str) -> int | None:
    """The prompt's length in the model's own tokens; None when the model has no tokenizer.json."""
    tok = handlers.tokenizer_of(runtime, found)
    if tok is None:
        return None
    tokenizer, specials = tok
    if kind == "chat":
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            raise InvalidInput("messages must be a non-empty list of message objects")
        if found.chat_template:
            text = render_chat(found.chat_template, messages, specials)
        else:
            text = text_of_messages(messages)
        return count_tokens(tokenizer, text, add_special_tokens=False)
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise InvalidInput("prompt must be a string")
    return count_tokens(tokenizer, prompt, add_special_tokens=True)


def _prepare(runtime: Runtime, found: Route, body: dict[str, Any], kind: str) -> dict[str, Any]:
    if kind == "embeddings":
        return body | {"model": found.served_name}
    return prepare_body(
        body,
        served_name=found.served_name,
        context_length=found.context_length,
        prompt_tokens=_prompt_tokens(runtime, found, body, kind),
        default_temperature=found.default_temperature,
        default_top_p=found.default_top_p,
    )


def _not_serving(waited: NotServing, seconds: float) -> JSONResponse:
    target = f" {waited.version}" if waited.version else ""
    reason = f": {waited.reason}" if waited.reason else ""
    return JSONResponse(
        {
            "error": {
                "message": f"The endpoint is not serving yet (status {waited.status}; loading{target} was "
                f"requested, waited {seconds:g} s){reason}",
                "type": "service_unavailable",
                "code": "not_loaded",
            }
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _plan(
    runtime: Runtime, project_id: str, body: dict[str, Any], kind: str, wait: float, touch: bool
) -> tuple[Route, dict[str, Any]] | NotServing:
    """Route, count, clamp and record the request: the request's one hop to the thread pool."""
    found = handlers.wait_for_route(runtime, project_id, body["model"], wait)
    if isinstance(found, NotServing):
        return found
    prepared = _prepare(runtime, found, body, kind)
    if touch:
        handlers.touch(runtime, found.endpoint_id, _touch_every(runtime))
    return found, prepared


async def _serve(request: Request, caller: Caller, kind: str, path: str) -> Response:
    runtime = get_rt(request)
    body = await _body(request)
    wait = runtime.settings.router_load_wait_seconds
    client = _client(request, runtime)
    stream = bool(body.get("stream")) and kind != "embeddings"
    for attempt in range(2):
        planned = await run_in_threadpool(_plan, runtime, caller.project_id, body, kind, wait, attempt == 0)
        if isinstance(planned, NotServing):
            return _not_serving(planned, wait)
        found, prepared = planned
        try:
            return await forward(client, found, path, prepared, stream)
        except EngineUnreachable as exc:
            last = (found, str(exc))  # unloaded after a switch: route again to the serving version
    return engine_failure(last[0], f"unreachable ({last[1]})")


def _touch_every(runtime: Runtime) -> float:
    idle = runtime.settings.endpoint_idle_seconds
    return min(5.0, idle / 4) if idle > 0 else 5.0


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={**error_responses(400, 401, 403, 404, 502, 503), 200: {"content": STREAMED}},
)
async def chat_completions(request: Request, caller: Caller = Depends(get_caller)) -> Response:
    """OpenAI chat completions (``stream: true`` for server-sent events)."""
    return await _serve(request, caller, "chat", "/v1/chat/completions")


@router.post(
    "/completions",
    response_model=Completion,
    responses={**error_responses(400, 401, 403, 404, 502, 503), 200: {"content": STREAMED}},
)
async def completions(request: Request, caller: Caller = Depends(get_caller)) -> Response:
    """OpenAI text completions (``stream: true`` for server-sent events)."""
    return await _serve(request, caller, "completion", "/v1/completions")


@router.post(
    "/embeddings",
    response_model=Embeddings,
    responses=error_responses(400, 401, 403, 404, 502, 503),
)
async def embeddings(request: Request, caller: Caller = Depends(get_caller)) -> Response:
    """OpenAI embeddings."""
    return await _serve(request, caller, "embeddings", "/v1/embeddings")
