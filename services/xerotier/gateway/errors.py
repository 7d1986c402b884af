"""The one error envelope: ``{"error": {"message", "type", "code"}}`` for every failure."""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from xerotier.api.http_errors import http_status_of
from xerotier.errors import XerotierError
from xerotier.observability import context

log = logging.getLogger("xerotier.gateway")


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def envelope(
    status: int,
    message: str,
    error_type: str,
    code: str | None = None,
    request_id: str | None = None,
) -> JSONResponse:
    headers = {"X-Request-ID": request_id} if request_id else None
    return JSONResponse(
        status_code=status,
        content={"error": {"message": message, "type": error_type, "code": code}},
        headers=headers,
    )


def request_id_of(request: Request) -> str:
    """This request's id: the one the observability middleware gave it, else the caller's
    ``X-Request-ID`` when it is a plain token, else a fresh one (never echo junk).

    The scope comes first: outside the middleware the context variable may still hold an earlier
    request's id (uvicorn can start a keep-alive connection's next request in that context).
    """
    bound = request.scope.get("state", {}).get("request_id") or context.request_id_var.get()
    if bound:
        return bound
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", "invalid"))
    return "Invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(XerotierError)
    async def _domain(_request: Request, exc: XerotierError) -> JSONResponse:
        status, error_type = http_status_of(exc)
        return envelope(status, exc.message, error_type)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return envelope(400, _describe_validation(exc), "invalid_request_error")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return envelope(exc.status_code, message, kind)

    @app.exception_handler(DataError)
    async def _bad_value(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the request carried (a NUL character in a filter, a number
        # out of range): the client's input, not our fault — without echoing SQL or the value.
        request_id = request_id_of(request)
        log.info("database refused a request value (request %s): %s", request_id, getattr(exc, "orig", exc))
        return envelope(
            400,
            "Invalid request: a parameter holds a value that cannot be stored or compared "
            "(e.g. a NUL character or an out-of-range number)",
            "invalid_request_error",
            request_id=request_id,
        )

    @app.exception_handler(OperationalError)
    async def _db_down(request: Request, exc: OperationalError) -> JSONResponse:
        request_id = request_id_of(request)
        log.error("database unavailable (request %s): %s", request_id, exc)
        return envelope(
            503,
            f"Database temporarily unavailable; retry (request id {request_id})",
            "service_unavailable",
            request_id=request_id,
        )

    @app.exception_handler(DBAPIError)
    async def _db(request: Request, exc: DBAPIError) -> JSONResponse:
        request_id = request_id_of(request)
        log.error("database error (request %s): %s", request_id, exc)
        return envelope(
            500, f"Internal server error (request id {request_id})", "internal_error", request_id=request_id
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_error(request_id_of(request), exc)


def unexpected_error(request_id: str, exc: Exception) -> JSONResponse:
    """A bug: the detail goes to the log, the caller gets a generic 500 naming the request id."""
    log.error("unhandled error (request %s)", request_id, exc_info=exc)
    return envelope(
        500, f"Internal server error (request id {request_id})", "internal_error", request_id=request_id
    )
