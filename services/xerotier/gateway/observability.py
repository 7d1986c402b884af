"""Gateway observability: a request id on every request, access logs, and ``GET /metrics``.

A pure ASGI middleware (streamed upload bodies pass through untouched) binds the request id
(the caller's ``X-Request-ID`` when it is a safe token, else a fresh one) and the model id named in
the path, echoes the request id in the response, counts requests by method, route template and
status, and times them. Tasks enqueued while serving carry both ids (``xerotier.observability``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import MutableMapping
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from xerotier.gateway.errors import unexpected_error
from xerotier.observability import context, correlation
from xerotier.observability.cluster import ClusterCollector

log = logging.getLogger("xerotier.gateway.access")

#: One registry per process for the HTTP metrics (route templates keep the label set small).
HTTP_REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "xerotier_http_requests",
    "HTTP requests, by method, route template and status",
    ["method", "route", "status"],
    registry=HTTP_REGISTRY,
)
LATENCY = Histogram(
    "xerotier_http_request_duration_seconds",
    "HTTP request latency, by method and route template",
    ["method", "route"],
    registry=HTTP_REGISTRY,
)
UNMATCHED = "<unmatched>"


_PROJECT_PREFIX = re.compile(r"^/[^/]+/v1/")


def route_template(scope: dict[str, Any]) -> str:
    """The matched route's template with its mount prefix (``/v1`` or ``/{project_id}/v1``)."""
    template = getattr(scope.get("route"), "path", None)
    if not template:
        return UNMATCHED
    if template.startswith(("/v1/", "/{project_id}/v1/")):
        return template
    path = scope.get("path", "")
    if path.startswith("/v1/"):
        return "/v1" + template
    if _PROJECT_PREFIX.match(path):
        return "/{project_id}/v1" + template
    return template


class ObservabilityMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        request_id = context.accept_request_id(headers.get(context.REQUEST_ID_HEADER.lower()))
        tokens = context.bind(request_id, context.model_id_from_path(scope.get("path", "")))
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        responding = False
        started = time.perf_counter()

        async def send_wrapper(message: MutableMapping[str, Any]) -> None:
            nonlocal status, responding
            if message["type"] == "http.response.start":
                status, responding = message["status"], True
                message.setdefault("headers", [])
                header = context.REQUEST_ID_HEADER.lower().encode()
                if not any(name.lower() == header for name, _ in message["headers"]):
                    message["headers"] = [
                        *message["headers"],
                        (context.REQUEST_ID_HEADER.encode(), request_id.encode()),
                    ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if responding:
                raise  # too late for an envelope: the server ends the connection
            # Answered here rather than re-raised to the server, which would close a keep-alive
            # connection that the caller's next request may already be travelling on.
            await unexpected_error(request_id, exc)(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope.get("method", "")
            if route != "/metrics":
                REQUESTS.labels(method, route, str(status)).inc()
                LATENCY.labels(method, route).observe(elapsed)
            log.info(
                "%s %s %d %.1fms",
                method,
                route,
                status,
                elapsed * 1000,
                extra={
                    "http_method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": elapsed * 1000,
                },
            )
            context.unbind(tokens)


router = APIRouter(tags=["observability"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus exposition: HTTP metrics of this process plus the registry-wide gauges."""
    registry = CollectorRegistry()
    registry.register(ClusterCollector(request.app.state.runtime))
    body = generate_latest(HTTP_REGISTRY) + generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def install_observability(app: Any) -> None:
    """Add the middleware and ``/metrics`` to the gateway app; carry ids into tasks."""
    correlation.install()
    app.add_middleware(ObservabilityMiddleware)
    app.include_router(router)
