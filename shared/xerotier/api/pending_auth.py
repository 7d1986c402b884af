"""Reads that start while their key is being verified; nothing is answered until it is.

Who a key speaks for (its id, project and project slug) never changes, so the gateway remembers it
once the key has been verified, by the whole key (``deps.memo_key``: a wrong secret behind a known
lookup is not remembered). A later ``GET`` or ``HEAD`` with that key runs its route at once,
while the lookup that verifies the key (is it revoked? is the secret right?) runs beside it on
another connection. The answer, whatever it is, is held until that verification completes, and is
replaced by the verification's error if the key no longer passes (``hold`` / ``verification_error``,
used by the gateway's ``AnswerAfterVerification`` middleware). Every request still asks the
database, so a revoked key is refused by the very next request; only one round trip of waiting is
saved. Writes always wait for the verification before their route runs.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, Generic, TypeVar

from xerotier.errors import XerotierError

#: Scope key: present when the app holds answers for pending verifications (a future, or None).
PENDING = "xerotier.pending_verification"
SAFE_METHODS = frozenset({"GET", "HEAD"})

T = TypeVar("T")


class KnownKeys(Generic[T]):
    """Identities of keys verified before, by lookup id; the oldest are forgotten past ``limit``."""

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._known: OrderedDict[str, T] = OrderedDict()

    def get(self, lookup: str) -> T | None:
        return self._known.get(lookup)

    def remember(self, lookup: str, identity: T) -> None:
        self._known[lookup] = identity
        if len(self._known) > self._limit:
            self._known.popitem(last=False)

    def forget(self, lookup: str) -> None:
        self._known.pop(lookup, None)

    def __len__(self) -> int:
        return len(self._known)


def can_hold(scope: dict[str, Any], method: str) -> bool:
    """Whether this request may run before its key is verified: a safe method, in an app that
    holds answers (the middleware marked the scope)."""
    return method in SAFE_METHODS and PENDING in scope


def hold(scope: dict[str, Any], verification: asyncio.Future[Any]) -> None:
    """Hold the answer to this request until ``verification`` completes."""
    scope[PENDING] = verification


async def verification_error(scope: dict[str, Any]) -> XerotierError | None:
    """Wait for the request's pending verification, if any: its error, or None when it passed (or
    none was pending). Other exceptions propagate."""
    pending = scope.get(PENDING)
    if pending is None:
        return None
    scope[PENDING] = None
    try:
        await pending
    except XerotierError as error:
        return error
    return None


def abandon(scope: dict[str, Any]) -> None:
    """Cancel a verification nobody waited for (the client went away before the answer)."""
    pending = scope.pop(PENDING, None)
    if pending is None:
        return
    if not pending.done():
        pending.cancel()
    elif not pending.cancelled():
        pending.exception()  # retrieved: no "exception was never retrieved" in the log
