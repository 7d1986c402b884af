"""kopf handlers for ``Model`` resources: a periodic level-triggered reconcile and a finalizer.

Deletion policy (``spec.deletionPolicy``): ``Retain`` (default) leaves the model version in the
registry — a registry is a record, and a deleted resource is easily re-created and re-adopted by
name and version. ``Delete`` deletes the version through the API; while the registry refuses (the
version serves an endpoint, or it is the latest while other versions exist: 409) the finalizer
stays and the deletion is retried.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from xerotier.client.http import ApiError, XerotierClient
from xerotier.operator.api import RegistryApi
from xerotier.operator.reconcile import reconcile, release
from xerotier.operator.spec import GROUP, PLURAL, VERSION, SpecError, parse_spec
from xerotier.operator.status import Observation, status_patch
from xerotier.settings import Settings

FINALIZER = "xerotier.ai/finalizer"


def _comparable(status: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if k != "kopf"}


def register(registry: kopf.OperatorRegistry, config: Settings) -> None:
    """Register the handlers with ``config`` (the registry URL and key, the re-check period)."""

    def client() -> XerotierClient:
        return XerotierClient(config.api_url, config.api_key)

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        """In a pod: its service account; elsewhere: ``$KUBECONFIG`` or ``~/.kube/config``."""
        return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.persistence.finalizer = FINALIZER
        settings.posting.level = logging.WARNING
        settings.watching.server_timeout = 60

    @kopf.timer(GROUP, VERSION, PLURAL, interval=config.operator_interval_seconds, registry=registry)
    def reconcile_model(spec: Any, status: Any, meta: Any, patch: Any, logger: Any, **_: Any) -> None:
        generation = int(meta.get("generation") or 1)
        try:
            wanted = parse_spec(dict(spec))
        except SpecError as exc:
            seen = Observation(None, str(exc), spec_error=True)
            promote = False
        else:
            promote = wanted.promote
            with client() as http:
                try:
                    seen = reconcile(RegistryApi(http, wanted.project), wanted, status.get("modelId"))
                except ApiError as exc:
                    if exc.status in (0, 429) or exc.status >= 500:  # transient: keep the status, retry
                        raise kopf.TemporaryError(
                            exc.message, delay=config.operator_interval_seconds
                        ) from exc
                    seen = Observation(None, f"{exc.status}: {exc.message}", spec_error=True)
        new = status_patch(seen, promote=promote, generation=generation, previous=dict(status))
        if _comparable(new) != _comparable(dict(status)):
            patch.status.update(new)
            logger.info("phase %s: %s", new["phase"], new["message"])

    @kopf.on.delete(GROUP, VERSION, PLURAL, registry=registry)
    def release_model(spec: Any, status: Any, logger: Any, **_: Any) -> None:
        with client() as http:
            api = RegistryApi(http, str(spec.get("project")))
            try:
                message = release(api, spec.get("deletionPolicy"), status.get("modelId"))
            except ApiError as exc:
                raise kopf.TemporaryError(f"registry refused the deletion: {exc.message}", delay=30) from exc
        logger.info(message)
