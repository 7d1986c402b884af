"""``xerotier operator``: run the kopf operator with the handlers of this package."""

from __future__ import annotations

import kopf

from xerotier.operator.handlers import register
from xerotier.settings import Settings


def run_operator(settings: Settings, namespaces: list[str], liveness: str | None = None) -> None:
    """Watch ``namespaces`` (all when empty) until stopped; logs in/out as kopf does (in-cluster or
    kubeconfig). One replica: peering is off (``standalone``)."""
    registry = kopf.OperatorRegistry()
    register(registry, settings)
    kopf.run(
        registry=registry,
        standalone=True,
        clusterwide=not namespaces,
        namespaces=namespaces,
        liveness_endpoint=liveness,
    )
