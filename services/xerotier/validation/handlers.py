"""Validation use cases: validate a model's files and record ready or error."""

from __future__ import annotations

import logging
import lzma
import struct
import uuid
import zlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DataError

from xerotier.db.file_headers import write_headers
from xerotier.db.models import Model, ModelFile
from xerotier.db.transitions import apply_transition
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus
from xerotier.errors import ValidationFailed
from xerotier.runtime import Runtime
from xerotier.validation.inspect import FileRef, Inspection, inspect_checkpoint

log = logging.getLogger(__name__)


def validate_model(runtime: Runtime, model_id: uuid.UUID) -> str:
    """Validate ``model_id`` if it is validating; return the status it ended in (or was in)."""
    with runtime.session_factory() as session:
        model = session.get(Model, model_id)
        if model is None:
            return "missing"
        if model.status != ModelStatus.VALIDATING:
            return model.status  # duplicate or late delivery: nothing to do
        files = [
            FileRef(row.path, row.size_bytes, row.sha256)
            for row in session.scalars(
                select(ModelFile).where(ModelFile.model_id == model_id).order_by(ModelFile.path)
            )
        ]
        fmt, name = model.format, model.name
        # the client's workloadType is kept; a previous suggestion of ours may be refreshed
        suggest = model.workload_type is None or bool(
            (model.extra_metadata or {}).get("workloadTypeSuggested")
        )

    try:
        found = inspect_checkpoint(
            files,
            lambda ref: runtime.blobs.open(ref.key),
            fmt,
            name,
            max_tensors=runtime.settings.max_safetensors_tensors,
        )
    except ValidationFailed as failure:
        return _fail(runtime, model_id, failure.message)
    except _CONTENT_ERRORS as exc:  # a file no rule caught yet: the content's fault, not transient
        log.exception("validation of %s could not read its files", model_id)
        return _fail(runtime, model_id, f"validation could not read the files ({type(exc).__name__})")
    try:
        _record(runtime, model_id, files, found, suggest)
    except DataError as exc:  # a value its column cannot hold: retrying would fail the same way
        log.warning("metadata of %s could not be stored: %s", model_id, exc.orig)
        return _fail(runtime, model_id, "metadata could not be stored (a value beyond its column's range)")
    return ModelStatus.READY.value


#: Raised by parsing untrusted content; never by a database or a blob store being unavailable.
_CONTENT_ERRORS = (
    ValueError,
    ArithmeticError,
    RecursionError,
    TypeError,
    KeyError,
    IndexError,
    EOFError,
    struct.error,
    zlib.error,
    lzma.LZMAError,
)


def _fail(runtime: Runtime, model_id: uuid.UUID, message: str) -> str:
    with runtime.unit_of_work() as session:
        apply_transition(
            session,
            model_id,
            ModelStatus.VALIDATING,
            LifecycleEvent.VALIDATION_FAILED,
            reason=message.split("\n", 1)[0],
            values={"validation_error": message},
        )
    return ModelStatus.ERROR.value


def _record(
    runtime: Runtime, model_id: uuid.UUID, files: list[FileRef], found: Inspection, suggest: bool
) -> None:
    meta = found.metadata
    if suggest:
        meta.extra["workloadTypeSuggested"] = True
    with runtime.unit_of_work() as session:
        moved = apply_transition(
            session,
            model_id,
            ModelStatus.VALIDATING,
            LifecycleEvent.VALIDATION_PASSED,
            reason="validation passed",
            values={**meta.as_values(set_workload_type=suggest), "validation_error": None},
        )
        if moved:  # every file's header (or none) in one statement, in the same transaction
            write_headers(session, model_id, {ref.path: _header_json(found, ref.path) for ref in files})


def _header_json(found: Inspection, path: str) -> dict[str, Any] | None:
    header = found.headers.get(path)
    if header is None:
        return None
    return {name: {"dtype": t.dtype, "shape": list(t.shape)} for name, t in header.tensors.items()}
