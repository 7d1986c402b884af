"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text

from xerotier.runtime import Runtime

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _check_database(runtime: Runtime) -> str | None:
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"database unreachable: {type(exc).__name__}"
    return None


def _check_broker(runtime: Runtime) -> str | None:
    try:
        with runtime.celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"broker unreachable: {type(exc).__name__}"
    return None


@router.get("/readyz")
async def readyz(request: Request) -> Any:
    runtime: Runtime = request.app.state.runtime
    problems = [
        p
        for p in (
            await run_in_threadpool(_check_database, runtime),
            await run_in_threadpool(_check_broker, runtime),
        )
        if p
    ]
    if problems:
        return JSONResponse(status_code=503, content={"status": "unavailable", "problems": problems})
    return {"status": "ready", "database": "ok", "broker": "ok"}
