"""The operator's reconcile step and deletion policy against a real ``xerotier up`` over HTTP
(no Kubernetes: ``reconcile`` and ``release`` are what the kopf handlers call): promotion of a
new version, idempotent re-runs, and ``Retain`` / ``Delete`` deletion, refused while the registry
refuses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from xerotier.client.http import ApiError, XerotierClient
from xerotier.operator.api import RegistryApi
from xerotier.operator.reconcile import reconcile, release
from xerotier.operator.spec import parse_spec
from xerotier.operator.status import Observation

pytestmark = pytest.mark.e2e


def spec(version: str, folder: Path, **extra: object) -> dict:
    source = {"localPath": str(folder)}
    return {"project": "default", "model": "operated", "version": version, "source": source, **extra}


def converge(api: RegistryApi, raw: dict, done, timeout: float = 90) -> Observation:  # type: ignore[no-untyped-def]
    """Reconcile like the operator's timer until ``done(observation)``."""
    wanted, known, seen = parse_spec(raw), None, None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = reconcile(api, wanted, known)
        known = seen.model["id"] if seen.model else known
        if done(seen):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"did not converge: last observation {seen}")


def versions(api: RegistryApi, model_id: str) -> dict[str, bool]:
    rows = api.client.request("GET", f"{api.base}/models/{model_id}/versions")["versions"]
    return {row["version"]: row["isLatest"] for row in rows}


def test_promote_moves_latest_to_the_new_version_and_reruns_change_nothing(embedded, tiny_checkpoint):
    with XerotierClient(embedded.url, embedded.api_key) as http:
        api = RegistryApi(http, "default")
        first = converge(api, spec("1.0.0", tiny_checkpoint), lambda o: o.message == "ready")
        assert first.model is not None and first.model["isLatest"]  # the first ready version
        second = converge(
            api, spec("1.1.0", tiny_checkpoint, promote=True), lambda o: o.model and o.model["isLatest"]
        )
        assert second.promoted and second.message == "ready; promoted to latest"
        assert versions(api, second.model["id"]) == {"1.1.0": True, "1.0.0": False}
        # Level-triggered: running again on the converged state does nothing new.
        again = reconcile(api, parse_spec(spec("1.1.0", tiny_checkpoint, promote=True)), second.model["id"])
        assert (again.message, again.promoted) == ("ready", False)
        old = reconcile(api, parse_spec(spec("1.0.0", tiny_checkpoint)), first.model["id"])
        assert old.message == "ready" and not old.model["isLatest"]  # without promote, it stays behind
        assert versions(api, second.model["id"]) == {"1.1.0": True, "1.0.0": False}


def test_deletion_policies(embedded, tiny_checkpoint):
    with XerotierClient(embedded.url, embedded.api_key) as http:
        api = RegistryApi(http, "default")
        one = converge(api, spec("1.0.0", tiny_checkpoint), lambda o: o.message == "ready").model
        two = converge(
            api, spec("2.0.0", tiny_checkpoint, promote=True), lambda o: o.model and o.model["isLatest"]
        ).model
        assert one and two
        assert "Retain" in release(api, None, two["id"]) and api.get(two["id"]) is not None
        assert "Retain" in release(api, "Retain", two["id"]) and api.get(two["id"]) is not None
        # The latest while another version exists: the registry refuses, so the finalizer retries.
        with pytest.raises(ApiError) as refused:
            release(api, "Delete", two["id"])
        assert refused.value.status == 409 and api.get(two["id"]) is not None
        assert release(api, "Delete", one["id"]).startswith("deleted") and api.get(one["id"]) is None
        assert release(api, "Delete", two["id"]).startswith("deleted") and api.get(two["id"]) is None
        assert "already gone" in release(api, "Delete", two["id"])  # a retried finalizer converges
