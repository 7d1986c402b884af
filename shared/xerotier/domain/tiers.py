"""Service tiers and catalog roles: which tier may select which model (pure logic).

    role        selectable from
    deployable  self_hosted only      (the role every model gets when it is shared)
    shared      every tier            (assigned by an operator today; no automatic promotion)

A model that is not in the catalog (private, or unshared) has no role and is treated like
``deployable``: its own project may run it on ``self_hosted`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xerotier.errors import Forbidden, InvalidInput


class CatalogRole(StrEnum):
    DEPLOYABLE = "deployable"
    SHARED = "shared"


SELF_HOSTED = "self_hosted"


@dataclass(frozen=True)
class Tier:
    slug: str
    name: str
    description: str

    @property
    def is_shared(self) -> bool:
        return self.slug != SELF_HOSTED


#: Every tier, in display order. ``self_hosted`` runs on the caller's own backends.
TIERS: tuple[Tier, ...] = (
    Tier(SELF_HOSTED, "Self-hosted", "Runs on your own GPU backends."),
    Tier("shared_standard", "Shared standard", "Runs on the shared pool, best-effort capacity."),
    Tier("shared_priority", "Shared priority", "Runs on the shared pool with reserved capacity."),
)
TIER_SLUGS: tuple[str, ...] = tuple(t.slug for t in TIERS)
SHARED_TIER_SLUGS: tuple[str, ...] = tuple(t.slug for t in TIERS if t.is_shared)
ROLES: tuple[str, ...] = tuple(r.value for r in CatalogRole)


def allowed_tiers(role: str | None) -> tuple[str, ...]:
    """The tiers a model with catalog ``role`` may be selected from."""
    return TIER_SLUGS if role == CatalogRole.SHARED else (SELF_HOSTED,)


def parse_tier(slug: str) -> str:
    """``slug`` if it names a tier, else ``InvalidInput`` listing the valid slugs."""
    if slug not in TIER_SLUGS:
        raise InvalidInput(f"Unknown tier '{slug}'; choose from {', '.join(TIER_SLUGS)}")
    return slug


def parse_role(role: str) -> CatalogRole:
    try:
        return CatalogRole(role)
    except ValueError:
        raise InvalidInput(f"Unknown catalog role '{role}'; choose from {', '.join(ROLES)}") from None


def check_tier_allows(role: str | None, tier: str) -> None:
    """Raise ``Forbidden`` when a model with ``role`` may not be selected from ``tier``."""
    parse_tier(tier)
    if tier not in allowed_tiers(role):
        shown = role or "none (not shared)"
        raise Forbidden(
            f"Tier '{tier}' requires a model with catalog role 'shared'; this model's role is {shown}, "
            f"selectable only from {SELF_HOSTED}"
        )


def demotion_due(role: str | None, active_shared_tier_endpoints: int) -> bool:
    """A ``shared`` model goes back to ``deployable`` when no active shared-tier endpoint uses it."""
    return role == CatalogRole.SHARED and active_shared_tier_endpoints == 0
