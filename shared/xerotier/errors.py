"""One error hierarchy for every service.

    XerotierError
    ├── PermanentError            the request or the data is wrong; retrying will not help
    │   ├── InvalidInput          400: bad field, bad path, bad version string …
    │   ├── AuthenticationRequired 401
    │   ├── Forbidden             403
    │   ├── NotFound              404 (also what a foreign project's private model looks like)
    │   ├── Conflict              409: duplicate, or a state that does not allow the request
    │   │   └── IllegalTransition 409: the lifecycle forbids this status change
    │   ├── PayloadTooLarge       413
    │   └── ValidationFailed      the model's files failed validation (→ status error)
    └── TransientError            a dependency hiccuped; the task retries with backoff
        └── DatabaseNotMigrated   the schema is behind the code; run `xerotier db upgrade`

HTTP status codes and exit codes are mapped only at the edges (gateway, CLI).
"""

from __future__ import annotations


class XerotierError(Exception):
    """Base of every error the registry raises on purpose."""

    http_status = 500
    error_type = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermanentError(XerotierError):
    """Retrying cannot succeed."""


class InvalidInput(PermanentError):
    http_status = 400
    error_type = "invalid_request_error"


class AuthenticationRequired(PermanentError):
    http_status = 401
    error_type = "authentication_error"

    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message)


class Forbidden(PermanentError):
    http_status = 403
    error_type = "permission_error"


class NotFound(PermanentError):
    http_status = 404
    error_type = "not_found_error"


class Conflict(PermanentError):
    http_status = 409
    error_type = "conflict_error"


class IllegalTransition(Conflict):
    """A status change the lifecycle does not allow."""


class PayloadTooLarge(PermanentError):
    http_status = 413
    error_type = "invalid_request_error"


class ValidationFailed(PermanentError):
    """The model's files are not servable; the message becomes ``validationError``."""

    http_status = 422
    error_type = "validation_error"


class TransientError(XerotierError):
    """A dependency failed in a way that may pass: retry with backoff."""

    http_status = 503
    error_type = "service_unavailable"


class DatabaseNotMigrated(TransientError):
    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(
            f"Database schema is at {current or 'nothing'}, code expects {head}: run `xerotier db upgrade`"
        )
