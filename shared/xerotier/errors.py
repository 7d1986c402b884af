"""One error hierarchy for every service.

    XerotierError
    ├── PermanentError            the request or the data is wrong; retrying will not help
    │   ├── InvalidInput          400: bad field, bad path, bad version string …
    │   │   └── RangeNotSatisfiable 416: a download range past the end of the file
    │   ├── AuthenticationRequired 401
    │   ├── Forbidden             403
    │   ├── NotFound              404 (also what a foreign project's private model looks like)
    │   ├── Conflict              409: duplicate, or a state that does not allow the request
    │   │   └── IllegalTransition 409: the lifecycle forbids this status change
    │   ├── PayloadTooLarge       413
    │   └── ValidationFailed      the model's files failed validation (→ status error)
    └── TransientError            a dependency hiccuped; the task retries with backoff
        └── DatabaseNotMigrated   the schema is behind the code; run `xerotier db upgrade`

HTTP status codes and exit codes are mapped only at the edges: ``xerotier.api.http_errors.HTTP_STATUS``
(one table) and the CLI.
"""

from __future__ import annotations


class XerotierError(Exception):
    """Base of every error the registry raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermanentError(XerotierError):
    """Retrying cannot succeed."""


class InvalidInput(PermanentError):
    """Bad field, bad path, bad version string …"""


class AuthenticationRequired(PermanentError):
    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message)


class Forbidden(PermanentError):
    """A catalog role or a tier does not allow it."""


class NotFound(PermanentError):
    """Also what another project's private resource looks like."""


class Conflict(PermanentError):
    """A duplicate, or a state that does not allow the request."""


class IllegalTransition(Conflict):
    """A status change the lifecycle does not allow."""


class RangeNotSatisfiable(InvalidInput):
    """A download's range starts past the end of the file."""


class PayloadTooLarge(PermanentError):
    """A body or a file over its limit."""


class ValidationFailed(PermanentError):
    """The model's files are not servable; the message becomes ``validationError``."""


class TransientError(XerotierError):
    """A dependency failed in a way that may pass: retry with backoff."""


class DatabaseNotMigrated(TransientError):
    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(
            f"Database schema is at {current or 'nothing'}, code expects {head}: run `xerotier db upgrade`"
        )
