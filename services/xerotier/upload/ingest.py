"""Upload events: register files as they land in a bucket, complete on the marker object.

Each event re-reads the object's *current* bytes, so a duplicate or out-of-order event records the
same content again (a no-op on the blob store) and an event for a model that is no longer
``uploading`` is ignored. A marker that lists the expected files (``{"files": [...]}``) completes
the upload only once all of them are recorded, whatever order their events arrive in.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xerotier.db.models import Model, ModelFile, Project
from xerotier.domain.lifecycle import ModelStatus
from xerotier.errors import Conflict, InvalidInput, PermanentError
from xerotier.runtime import Runtime
from xerotier.storage.objects import LocalObjectSource, ObjectSource, S3ObjectSource
from xerotier.upload import handlers
from xerotier.upload.bucket_events import LandingPath, landing_path, manifest_paths, parse_notification

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    key: str
    result: str  # recorded | completed | waiting | ignored | missing | rejected
    detail: str | None = None
    model_id: str | None = None


def object_source(runtime: Runtime) -> ObjectSource:
    settings = runtime.settings
    if settings.ingest_root is not None:
        return LocalObjectSource(settings.ingest_root)
    return S3ObjectSource(settings.s3_endpoint_url, settings.s3_region)


def ingest_notification(
    runtime: Runtime, doc: Any, project_id: str | None = None, source: ObjectSource | None = None
) -> list[Outcome]:
    """Apply every record of a bucket notification; ``project_id`` restricts it to one project."""
    source = source or object_source(runtime)
    outcomes = []
    for event in parse_notification(doc):
        try:
            outcomes.append(_apply(runtime, source, event.action, event.bucket, event.key, project_id))
        except PermanentError as exc:
            log.warning("upload event for %s/%s rejected: %s", event.bucket, event.key, exc.message)
            outcomes.append(Outcome(event.key, "rejected", exc.message))
    return outcomes


def _apply(
    runtime: Runtime, source: ObjectSource, action: str, bucket: str, key: str, project_id: str | None
) -> Outcome:
    if action != "created":
        return Outcome(key, "ignored", f"{action} events do not change an upload")
    where = landing_path(key, runtime.settings.ingest_marker)
    project = _project(runtime, where.project)
    if project is None or (project_id is not None and project.id != project_id):
        return Outcome(key, "rejected", f"Project {where.project!r} not found")
    model = _open_model(runtime, project.id, where, bucket)
    if model.status != ModelStatus.UPLOADING:
        return Outcome(key, "ignored", f"model is {model.status}", str(model.id))
    stream = source.open(bucket, key)
    if stream is None:
        return Outcome(key, "missing", "object is gone", str(model.id))
    with stream:
        if where.file_path is None:
            expected = manifest_paths(stream.read(1 << 20))
            _set_source(runtime, model.id, completeRequested=True, expectedFiles=expected)
        else:
            handlers.store_and_record(runtime, project.id, model.id, where.file_path, stream)
    return _maybe_complete(runtime, project.id, model.id, key)


def _project(runtime: Runtime, ref: str) -> Project | None:
    with runtime.session_factory() as session:
        return session.scalar(select(Project).where(or_(Project.slug == ref, Project.id == ref)))


def _find(session: Session, project_id: str, where: LandingPath) -> Model | None:
    return session.scalar(
        select(Model).where(
            Model.project_id == project_id, Model.name == where.model_name, Model.version == where.version
        )
    )


def _open_model(runtime: Runtime, project_id: str, where: LandingPath, bucket: str) -> Model:
    with runtime.session_factory() as session:
        model = _find(session, project_id, where)
    if model is not None:
        return model
    try:
        model = handlers.create_model(runtime, project_id, handlers.NewModel(where.model_name, where.version))
    except Conflict:  # another event created it first
        with runtime.session_factory() as session:
            found = _find(session, project_id, where)
        if found is None:
            raise
        return found
    prefix = f"{where.project}/{where.model_name}/{where.version}/"
    _set_source(runtime, model.id, kind="bucket", bucket=bucket, prefix=prefix)
    return model


def _set_source(runtime: Runtime, model_id: uuid.UUID, **values: Any) -> None:
    with runtime.unit_of_work() as session:
        query = select(Model).where(Model.id == model_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        model = session.scalar(query)
        if model is not None:
            model.source = {**(model.source or {}), **values}


def _maybe_complete(runtime: Runtime, project_id: str, model_id: uuid.UUID, key: str) -> Outcome:
    with runtime.session_factory() as session:
        model = session.get(Model, model_id)
        assert model is not None
        source = model.source or {}
        paths = set(session.scalars(select(ModelFile.path).where(ModelFile.model_id == model_id)))
    if not source.get("completeRequested"):
        return Outcome(key, "recorded", model_id=str(model_id))
    missing = sorted(set(source.get("expectedFiles") or []) - paths)
    if missing:
        return Outcome(key, "waiting", f"{len(missing)} listed file(s) not landed yet", str(model_id))
    try:
        handlers.complete(runtime, project_id, model_id)
    except InvalidInput as exc:
        return Outcome(key, "rejected", exc.message, str(model_id))
    except Conflict:  # completed by a concurrent event
        pass
    return Outcome(key, "completed", model_id=str(model_id))
