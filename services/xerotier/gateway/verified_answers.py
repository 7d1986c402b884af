"""No answer leaves before the caller's key is verified (see ``xerotier.api.pending_auth``).

A pure ASGI middleware: it marks each request as one whose answer can be held, and when the route
answers (or fails) while a verification is pending, it waits for it first. A key that no longer
passes turns the answer, whatever it was, into the verification's error; nothing of the route's
answer is sent.
"""

from __future__ import annotations

from typing import Any

from xerotier.api.pending_auth import PENDING, abandon, verification_error
from xerotier.errors import XerotierError
from xerotier.gateway.errors import envelope


class AnswerAfterVerification:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[PENDING] = None  # get_caller may hold the answer on a verification here
        refused: XerotierError | None = None

        async def refuse(error: XerotierError) -> None:
            nonlocal refused
            refused = error
            await envelope(error.http_status, error.message, error.error_type)(scope, receive, send)

        async def send_when_verified(message: dict[str, Any]) -> None:
            if refused is not None:
                return  # the route's answer is dropped
            if message["type"] == "http.response.start" and (error := await verification_error(scope)):
                await refuse(error)
                return
            await send(message)

        try:
            await self.app(scope, receive, send_when_verified)
        except Exception:
            if refused is not None:
                return
            error = await verification_error(scope)
            if error is None:
                raise  # the key passed (or none was pending): the route's own failure
            await refuse(error)
        finally:
            abandon(scope)
