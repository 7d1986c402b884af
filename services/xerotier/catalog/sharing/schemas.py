"""Response schemas of the catalog: the owner's view of a shared model."""

from __future__ import annotations

from xerotier.api.schemas import ModelOut


class SharedModelOut(ModelOut):
    """The owner's view after share / unshare: the model and its catalog footprint."""

    featured: bool
    deploymentCount: int
    sharedAt: str | None
