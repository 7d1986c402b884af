"""Error classes to HTTP: the one table every HTTP edge (the gateway's envelope, the Hub protocol)
answers from. The error tree itself (``xerotier.errors``) knows nothing of HTTP."""

from __future__ import annotations

from xerotier.errors import (
    AuthenticationRequired,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    TransientError,
    ValidationFailed,
    XerotierError,
)

#: The one mapping of error classes to HTTP: (status, envelope type). A class not listed takes its
#: nearest listed base (``IllegalTransition`` → ``Conflict``, ``DatabaseNotMigrated`` → transient).
HTTP_STATUS: dict[type[XerotierError], tuple[int, str]] = {
    InvalidInput: (400, "invalid_request_error"),
    AuthenticationRequired: (401, "authentication_error"),
    Forbidden: (403, "permission_error"),
    NotFound: (404, "not_found_error"),
    Conflict: (409, "conflict_error"),
    PayloadTooLarge: (413, "invalid_request_error"),
    RangeNotSatisfiable: (416, "invalid_request_error"),
    ValidationFailed: (422, "validation_error"),
    TransientError: (503, "service_unavailable"),
    XerotierError: (500, "internal_error"),
}


def http_status_of(exc: XerotierError) -> tuple[int, str]:
    """The status and envelope type of ``exc``: its class's row, or its nearest listed base's."""
    return next(HTTP_STATUS[cls] for cls in type(exc).__mro__ if cls in HTTP_STATUS)
