"""Cost of observability, measured side by side in one run.

1. A gateway request through the ASGI stack with and without ``ObservabilityMiddleware``
   (request id, metrics, access log to a null sink), driven in-process (no network).
2. Formatting one log record as JSON (with correlation ids) versus the plain text format.
"""

from __future__ import annotations

import asyncio
import io
import logging
import statistics
import time

from fastapi import FastAPI

from xerotier.gateway.observability import ObservabilityMiddleware
from xerotier.observability import context
from xerotier.observability.logs import TEXT_FORMAT, CorrelationFilter, JsonFormatter

REQUESTS = 3000
ROUNDS = 5
RECORDS = 50_000


def _app(with_middleware: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/models/{model_id}")
    def get_model(model_id: str) -> dict[str, str]:
        return {"id": model_id}

    if with_middleware:
        app.add_middleware(ObservabilityMiddleware)
    return app


async def _drive(app: FastAPI, count: int) -> float:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/models/0b7c9f1e-1111-2222-3333-444455556666",
        "raw_path": b"/v1/models/0b7c9f1e-1111-2222-3333-444455556666",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"x-request-id", b"bench-1")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: dict) -> None:
        return None

    for _ in range(50):  # warm up
        await app(dict(scope), receive, send)
    started = time.perf_counter()
    for _ in range(count):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - started) / count


def _format(formatter: logging.Formatter, count: int) -> float:
    record = logging.LogRecord("xerotier.bench", logging.INFO, __file__, 1, "validated %s", ("m",), None)
    CorrelationFilter().filter(record)
    started = time.perf_counter()
    for _ in range(count):
        formatter.format(record)
    return (time.perf_counter() - started) / count


def main() -> None:
    access = logging.getLogger("xerotier.gateway.access")
    access.handlers[:] = [logging.StreamHandler(io.StringIO())]
    access.propagate = False
    bare, wrapped = _app(False), _app(True)
    rounds: dict[str, list[float]] = {"plain": [], "observed": []}
    for _ in range(ROUNDS):  # interleaved, so drift hits both alike; the median of each is kept
        rounds["plain"].append(asyncio.run(_drive(bare, REQUESTS // ROUNDS)))
        rounds["observed"].append(asyncio.run(_drive(wrapped, REQUESTS // ROUNDS)))
    plain, observed = statistics.median(rounds["plain"]), statistics.median(rounds["observed"])
    print(f"request without middleware: {plain * 1e6:8.1f} µs")
    print(f"request with middleware:    {observed * 1e6:8.1f} µs   ratio {observed / plain:.2f}x")
    tokens = context.bind("req-1", "model-1")
    try:
        text = _format(logging.Formatter(TEXT_FORMAT), RECORDS)
        json_ = _format(JsonFormatter(), RECORDS)
    finally:
        context.unbind(tokens)
    print(f"log record as text:         {text * 1e6:8.2f} µs")
    print(f"log record as JSON:         {json_ * 1e6:8.2f} µs   ratio {json_ / text:.2f}x")
