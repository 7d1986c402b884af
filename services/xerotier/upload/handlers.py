"""Upload use cases: create a model version, record its files, complete it."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from xerotier.db import blob_refs
from xerotier.db.lookups import get_owned
from xerotier.db.model_refs import ensure_registered
from xerotier.db.models import LifecycleEventRow, Model, ModelFile
from xerotier.db.transitions import apply_transition
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus
from xerotier.domain.names import check_model_name
from xerotier.domain.paths import normalize_model_path
from xerotier.domain.semver import DEFAULT_VERSION, Version
from xerotier.errors import Conflict, InvalidInput
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime
from xerotier.storage.blobs import StagedBlob, StoredBlob
from xerotier.upload.batch import Member
from xerotier.upload.formats import FORMATS, check_format, detect_format, unknown_format_message

WORKLOAD_TYPES = ("chat", "code", "reasoning", "embedding", "multilingual")


@dataclass(frozen=True)
class NewModel:
    name: str
    version: str = DEFAULT_VERSION
    format: str | None = None
    workload_type: str | None = None
    version_notes: str | None = None


def _check_new_model(spec: NewModel) -> None:
    check_model_name(spec.name)
    Version.parse(spec.version)
    if spec.format is not None and spec.format not in FORMATS:
        raise InvalidInput(f"Invalid format '{spec.format}': expected one of {', '.join(FORMATS)}")
    if spec.workload_type is not None and spec.workload_type not in WORKLOAD_TYPES:
        raise InvalidInput(
            f"Invalid workloadType '{spec.workload_type}': expected one of {', '.join(WORKLOAD_TYPES)}"
        )


def owned_model(session: Session, model_id: uuid.UUID, project_id: str) -> Model:
    """``get_owned`` (kept for the callers' argument order)."""
    return get_owned(session, project_id, model_id)


def create_model(
    runtime: Runtime,
    project_id: str,
    spec: NewModel,
    source: dict[str, Any] | None = None,
    then: Callable[[Session, Model], object] | None = None,
) -> Model:
    """A new version record in ``uploading``; its parent is the name's current latest.

    ``source`` records where the files come from; ``then`` writes tasks in the same transaction.
    """
    _check_new_model(spec)
    name = check_model_name(spec.name)
    now = datetime.now(UTC)
    try:
        with runtime.unit_of_work() as session:
            latest = session.scalar(
                select(Model).where(Model.project_id == project_id, Model.name == name, Model.is_latest)
            )
            model = Model(
                project_id=project_id,
                name=name,
                version=spec.version,
                parent_version_id=latest.id if latest else None,
                is_latest=latest is None,
                version_notes=spec.version_notes,
                format=spec.format,
                workload_type=spec.workload_type,
                source=source,
                status=ModelStatus.UPLOADING.value,
                status_changed_at=now,
                deadline_at=now + timedelta(seconds=runtime.settings.upload_deadline_seconds),
                created_at=now,
                updated_at=now,
            )
            session.add(model)
            session.flush()
            ensure_registered(session, project_id, name)  # the model's identity, apart from versions
            apply_created_event(session, model)
            if then is not None:
                then(session, model)
    except IntegrityError:
        raise Conflict(f"Model '{name}' version {spec.version} already exists") from None
    return model


def apply_created_event(session: Session, model: Model) -> None:
    session.add(
        LifecycleEventRow(
            model_id=model.id,
            event="create",
            from_status=None,
            to_status=model.status,
            reason="model created",
            created_at=model.created_at,
        )
    )


def check_accepts_files(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> None:
    with runtime.session_factory() as session:
        model = owned_model(session, model_id, project_id)
        _require_uploading(model)


def _require_uploading(model: Model) -> None:
    if model.status != ModelStatus.UPLOADING:
        raise Conflict(f"Model is {model.status}: files can only be uploaded while it is uploading")


def record_file(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, path: str, blob: StagedBlob | StoredBlob
) -> ModelFile:
    """Attach ``blob`` at ``path`` (replacing a file sent before), counting the blob reference.

    A staged blob is placed in the store while this transaction holds its row (``add_ref``: a row
    lock on PostgreSQL, the write lock on SQLite): the collector deletes bytes only under the same
    row, so it can never delete what this upload found stored or just stored (``collector``).
    """
    path = normalize_model_path(path)  # every source: the API, bucket keys, Hub snapshots
    with runtime.unit_of_work() as session:
        model = get_owned(session, project_id, model_id, for_update=True)
        _require_uploading(model)
        _check_no_twin(session, model_id, path)
        previous = session.scalar(
            select(ModelFile).where(ModelFile.model_id == model_id, ModelFile.path == path)
        )
        if previous is not None and previous.sha256 < blob.sha256:  # lock blob rows in digest order
            blob_refs.release_ref(session, previous.sha256)
        blob_refs.add_ref(session, blob.sha256, blob.size)
        if not isinstance(blob, StoredBlob):
            blob.place()  # under the blob row's lock
        if previous is not None:
            if previous.sha256 >= blob.sha256:
                blob_refs.release_ref(session, previous.sha256)
            session.delete(previous)
            session.flush()
        row = ModelFile(
            model_id=model_id,
            path=path,
            size_bytes=blob.size,
            sha256=blob.sha256,
            created_at=datetime.now(UTC),
        )
        session.add(row)
    return row


def store_batch(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, members: list[Member]
) -> list[ModelFile]:
    """Store every member as a blob (their fsyncs overlapped on threads: the file system commits
    them together) and attach them all in one transaction; nothing is attached on error."""

    def store(member: Member) -> StagedBlob:
        writer = runtime.blobs.writer(runtime.settings.max_file_size)
        try:
            writer.write(member.data)
            return writer.stage()
        except BaseException:
            writer.abort()
            raise

    with ThreadPoolExecutor(max_workers=min(16, len(members)), thread_name_prefix="batch-blob") as pool:
        staged = [pool.submit(store, member) for member in members]
    try:
        blobs = [future.result() for future in staged]
        return record_files(
            runtime, project_id, model_id, [(m.path, b) for m, b in zip(members, blobs, strict=True)]
        )
    except BaseException:
        for future in staged:  # nothing of a failed batch stays behind (placed bytes: the collector's)
            if future.exception() is None:
                future.result().abort()
        raise


def record_files(
    runtime: Runtime,
    project_id: str,
    model_id: uuid.UUID,
    files: list[tuple[str, StagedBlob | StoredBlob]],
) -> list[ModelFile]:
    """``record_file`` of many files in one transaction (blob rows locked in digest order; each
    staged blob placed while its row is held, as ``record_file`` does)."""
    files = [(normalize_model_path(path), blob) for path, blob in files]
    paths = [path for path, _ in files]
    with runtime.unit_of_work() as session:
        model = get_owned(session, project_id, model_id, for_update=True)
        _require_uploading(model)
        for path in paths:
            _check_no_twin(session, model_id, path)
        previous = list(
            session.scalars(
                select(ModelFile).where(ModelFile.model_id == model_id, ModelFile.path.in_(paths))
            )
        )
        adds: dict[str, list[int]] = {}
        for _, blob in files:
            adds.setdefault(blob.sha256, []).append(blob.size)
        releases: dict[str, int] = {}
        for row in previous:
            releases[row.sha256] = releases.get(row.sha256, 0) + 1
        for digest in sorted(adds.keys() | releases.keys()):  # adds first: never a transient zero
            for size in adds.get(digest, ()):
                blob_refs.add_ref(session, digest, size)
            for _path, blob in files:  # under the blob row's lock, as in record_file
                if blob.sha256 == digest and not isinstance(blob, StoredBlob):
                    blob.place()
            for _ in range(releases.get(digest, 0)):
                blob_refs.release_ref(session, digest)
        for row in previous:
            session.delete(row)
        session.flush()
        now = datetime.now(UTC)
        rows = [
            ModelFile(model_id=model_id, path=path, size_bytes=blob.size, sha256=blob.sha256, created_at=now)
            for path, blob in files
        ]
        session.add_all(rows)
    return rows


def _check_no_twin(session: Session, model_id: uuid.UUID, path: str) -> None:
    """Refuse a path equal to a stored one only once normalized (a row stored before NFC).

    Only a non-ASCII path can have an NFD twin; ASCII paths (nearly all) cost nothing here.
    """
    if path.isascii():
        return
    for stored in session.scalars(select(ModelFile.path).where(ModelFile.model_id == model_id)):
        if stored != path and unicodedata.normalize("NFC", stored) == path:
            raise Conflict(f"File path {path!r} collides with {stored!r} once Unicode-normalized (NFC)")


def store_stream(runtime: Runtime, stream: BinaryIO) -> StagedBlob:
    """Copy a readable stream next to the blob store (hashing it on the way); nothing kept on error.

    The bytes are placed by ``record_file`` (or dropped by ``abort``).
    """
    writer = runtime.blobs.writer(runtime.settings.max_file_size)
    try:
        while block := stream.read(runtime.settings.upload_chunk_bytes):
            writer.write(block)
        return writer.stage()
    except BaseException:
        writer.abort()
        raise


def store_and_record(
    runtime: Runtime, project_id: str, model_id: uuid.UUID, path: str, stream: BinaryIO
) -> ModelFile:
    """``store_stream`` then ``record_file``; the staged bytes are dropped if recording fails."""
    staged = store_stream(runtime, stream)
    try:
        return record_file(runtime, project_id, model_id, path, staged)
    finally:
        staged.abort()  # a no-op once placed


def list_files(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> list[ModelFile]:
    with runtime.session_factory() as session:
        owned_model(session, model_id, project_id)
        # the tensor index (``header``, up to the size of a safetensors header) is never loaded here
        return list(
            session.scalars(
                select(ModelFile)
                .options(defer(ModelFile.header))
                .where(ModelFile.model_id == model_id)
                .order_by(ModelFile.path)
            )
        )


def complete(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> Model:
    """Close the upload: ``uploading → validating``, validation enqueued in the same transaction."""
    with runtime.unit_of_work() as session:
        model = owned_model(session, model_id, project_id)
        paths = list(session.scalars(select(ModelFile.path).where(ModelFile.model_id == model_id)))
        if model.status == ModelStatus.UPLOADING:
            if not paths:
                raise InvalidInput("Model has no files: upload at least one file before completing")
            fmt = model.format or detect_format(paths)
            if fmt is None:
                raise InvalidInput(unknown_format_message(paths))
            check_format(fmt, paths)
            size = sum(session.scalars(select(ModelFile.size_bytes).where(ModelFile.model_id == model_id)))
        else:
            fmt, size = model.format, model.size_bytes
        apply_transition(
            session,
            model_id,
            model.status,
            LifecycleEvent.COMPLETE,
            reason="upload completed",
            deadline=timedelta(seconds=runtime.settings.validation_deadline_seconds),
            values={"format": fmt, "size_bytes": size},
            then=lambda s: outbox.enqueue(s, names.VALIDATE, model_id=str(model_id)),
        )
    with runtime.session_factory() as session:
        return owned_model(session, model_id, project_id)
