"""The pieces of answering after verification that need no server: the bounded memory of verified
keys, and what a pending verification turns into."""

from __future__ import annotations

import asyncio

from xerotier.api.pending_auth import PENDING, KnownKeys, abandon, can_hold, hold, verification_error
from xerotier.errors import AuthenticationRequired


def test_known_keys_are_bounded_and_forget_the_oldest_first() -> None:
    known: KnownKeys[str] = KnownKeys(limit=2)
    known.remember("a", "caller-a")
    known.remember("b", "caller-b")
    known.remember("c", "caller-c")
    assert (known.get("a"), known.get("b"), known.get("c"), len(known)) == (None, "caller-b", "caller-c", 2)
    known.forget("b")
    known.forget("never-seen")
    assert known.get("b") is None and len(known) == 1


def test_only_safe_methods_in_an_app_that_holds_answers_may_run_early() -> None:
    marked = {PENDING: None}
    assert can_hold(marked, "GET") and can_hold(marked, "HEAD")
    assert not can_hold(marked, "POST") and not can_hold(marked, "DELETE")
    assert not can_hold({}, "GET")  # no middleware to hold the answer: wait for the key


def test_a_pending_verification_gives_its_error_once() -> None:
    async def scenario() -> tuple[object, object, object]:
        passed, failed = {PENDING: None}, {PENDING: None}
        hold(passed, asyncio.ensure_future(asyncio.sleep(0, result="caller")))
        hold(failed, asyncio.ensure_future(_refuse()))
        return (
            await verification_error(passed),
            await verification_error(failed),
            await verification_error(failed),
        )

    passed, failed, again = asyncio.run(scenario())
    assert passed is None
    assert isinstance(failed, AuthenticationRequired)
    assert again is None  # consumed: nothing is pending any more


def test_an_abandoned_verification_is_cancelled() -> None:
    async def scenario() -> bool:
        scope: dict = {PENDING: None}
        pending = asyncio.ensure_future(asyncio.sleep(10))
        hold(scope, pending)
        abandon(scope)
        await asyncio.sleep(0)
        return pending.cancelled() and PENDING not in scope

    assert asyncio.run(scenario())


async def _refuse() -> None:
    raise AuthenticationRequired()
