"""One level-triggered reconciliation step: observe the registry, do the next thing, report.

Idempotent by construction: it looks the version up (by the id it recorded, else by name and
version) before acting; creating twice is answered by the registry's uniqueness (409) and treated
as "already there"; re-uploading a file replaces it; completing or promoting is only tried from the
state that needs it. Re-running it on any state converges.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from xerotier.client.http import ApiError
from xerotier.operator.api import RegistryApi, model_files
from xerotier.operator.spec import DELETE, ModelSpec
from xerotier.operator.status import Observation

log = logging.getLogger(__name__)


def _locate(api: RegistryApi, spec: ModelSpec, known_id: str | None) -> dict[str, Any] | None:
    if known_id:
        model = api.get(known_id)
        if model and model.get("name") == spec.model and model.get("version") == spec.version:
            return model
    return api.find(spec.model, spec.version)


def _create(api: RegistryApi, spec: ModelSpec) -> dict[str, Any] | None:
    source = spec.source
    try:
        if source.kind == "huggingFace":
            assert source.repo is not None
            return api.import_hub(spec.model, spec.version, source.repo, source.revision, spec.version_notes)
        return api.create(spec.model, spec.version, spec.version_notes)
    except ApiError as exc:
        if exc.status == 409:  # created meanwhile (another pass, another operator): look again
            return api.find(spec.model, spec.version)
        raise


def _upload(api: RegistryApi, model_id: str, folder: Path) -> dict[str, Any]:
    files = model_files(folder)
    if not files:
        raise FileNotFoundError(f"{folder} holds no files")
    for relative, path in files:
        api.put_file(model_id, relative, path)
    return api.complete(model_id)


def reconcile(api: RegistryApi, spec: ModelSpec, known_id: str | None = None) -> Observation:
    """Move the registry one step towards ``spec``; return what it now shows."""
    model = _locate(api, spec, known_id)
    if model is None:
        if spec.source.kind == "s3":
            return Observation(None, f"waiting for bucket notifications under {spec.source.prefix}")
        model = _create(api, spec)
        if model is None:
            return Observation(None, "version not found after a conflicting create; retrying")
        log.info("created %s %s (%s)", spec.model, spec.version, model["id"])
    status = model.get("status")
    if status == "uploading":
        if spec.source.kind != "localPath":
            return Observation(model, "importing")
        assert spec.source.path is not None
        try:
            model = _upload(api, model["id"], Path(spec.source.path))
        except FileNotFoundError as exc:
            return Observation(model, f"cannot read the source: {exc}")
        return Observation(model, "uploaded; validating")
    if status == "validating":
        return Observation(model, "validating")
    if status == "error":
        return Observation(model, model.get("validationError") or "the registry reports an error")
    if spec.promote and not model.get("isLatest"):
        try:
            api.promote(model["id"], spec.version)
        except ApiError as exc:
            return Observation(model, f"ready; promotion failed: {exc.message}")
        model = api.get(model["id"]) or model
        return Observation(model, "ready; promoted to latest", promoted=True)
    return Observation(model, "ready" if status == "ready" else "serving")


def release(api: RegistryApi, policy: str | None, model_id: str | None) -> str:
    """What removing the resource does to the registry, by its deletion policy; say what happened.

    Raises ``ApiError`` while the registry refuses (the version serves an endpoint, or it is the
    latest while other versions exist): the finalizer stays and the deletion is retried.
    """
    if policy != DELETE or not model_id:
        return f"deletion policy Retain: model version {model_id} stays in the registry"
    try:
        api.delete(model_id)
    except ApiError as exc:
        if exc.status in (404, 405):
            return f"model version {model_id} was already gone from the registry"
        raise
    return f"deleted model version {model_id} from the registry"
