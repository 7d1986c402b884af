"""Pure rules of versioning: what "the same version" is, version ordering, what a promotion does.

"The same version" is the same SemVer precedence: ``1.0.0+a`` and ``1.0.0+b`` are one version (a
second one is a 409), because precedence ignores build metadata and a resolver could not choose
between them. ``1.0.0-rc.1`` and ``1.0.0`` are different versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import TypeVar

from xerotier.domain.lifecycle import SERVABLE, ModelStatus
from xerotier.domain.semver import Version
from xerotier.errors import InvalidInput

T = TypeVar("T")


class PromotionKind(StrEnum):
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    FIRST_READY = "first-ready"


class PromotionOutcome(StrEnum):
    APPLY = "apply"  # the version is servable: it becomes latest now
    PENDING = "pending"  # uploading or validating: it becomes latest when ready
    REFUSE = "refuse"  # error: it cannot become latest


def precedence_core(text: str) -> str:
    """The part of a version string that decides its identity (build metadata stripped)."""
    return text.split("+", 1)[0]


# Characters of the sort key below the identifier characters [0-9A-Za-z-] (lowest: '-', 0x2D).
_END, _NEXT = "!", "#"


def _number_key(digits: str) -> str:
    """A decimal number as text that sorts bytewise in numeric order (its length first)."""
    return f"{len(digits):03d}{digits}"


def sort_key(text: str) -> str:
    """A text whose bytewise order (``COLLATE "C"``, SQLite's ``BINARY``) is the SemVer precedence
    of ``text``: what a keyset page of versions sorts on. Build metadata is ignored; an unparsable
    version gets ``""``, below every version (as ``newest_first`` puts it last).

    Numbers are written length-first (``10`` after ``9``); a release is ``~`` after its core, above
    its pre-releases (``-`` …); a pre-release identifier is ``0``+number or ``1``+text (numeric ones
    rank lower), separated by ``#`` and ended by ``!``, both below any identifier character, so a
    shorter identifier or a prefix of identifiers ranks lower, as SemVer says.
    """
    try:
        version = Version.parse(text)
    except InvalidInput:
        return ""
    core = ".".join(_number_key(str(n)) for n in (version.major, version.minor, version.patch))
    if not version.prerelease:
        return core + "~"
    parts = ("0" + _number_key(p) if p.isdigit() else "1" + p for p in version.prerelease)
    return core + "-" + _NEXT.join(parts) + _END


def newest_first(items: Iterable[T], version_of: Callable[[T], str]) -> list[T]:
    """``items`` sorted by SemVer precedence of their version, highest first (unparsable ones last)."""

    def key(item: T) -> tuple:
        try:
            return (1, Version.parse(version_of(item)).precedence_key())
        except Exception:
            return (0, ())

    return sorted(items, key=key, reverse=True)


def promotion_outcome(status: ModelStatus | str) -> PromotionOutcome:
    """What promoting a version in ``status`` does."""
    status = ModelStatus(status)
    if status in SERVABLE:
        return PromotionOutcome.APPLY
    if status is ModelStatus.ERROR:
        return PromotionOutcome.REFUSE
    return PromotionOutcome.PENDING


def is_older(candidate: str, latest: str) -> bool:
    """Whether ``candidate`` has lower precedence than ``latest`` (what a rollback goes to)."""
    return Version.parse(candidate) < Version.parse(latest)
