"""Hugging Face Hub import: snapshot a repository, pin its commit, feed its files through upload.

``huggingface_hub`` does the fetching, so ``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HUB_OFFLINE`` and the
local Hub cache (``HF_HOME``/``HF_HUB_CACHE``) apply as they do for every Hub tool. A repository
that does not exist, a revision that does not resolve or a snapshot missing offline ends the model
in ``error`` with the reason; a network failure is retried.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from xerotier.db.models import Model
from xerotier.db.transitions import apply_transition
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus
from xerotier.domain.paths import normalize_model_path
from xerotier.errors import InvalidInput, TransientError
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime
from xerotier.upload import handlers

log = logging.getLogger(__name__)
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,95}/[A-Za-z0-9][A-Za-z0-9._\-]{0,95}$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/\-]{0,199}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
SKIPPED = (".gitattributes",)


@dataclass(frozen=True)
class HubImport:
    repo: str
    revision: str | None = None
    name: str | None = None
    version: str = "1.0.0"
    format: str | None = None
    workload_type: str | None = None
    version_notes: str | None = None


def parse_repo(raw: str) -> tuple[str, str | None]:
    """``org/name[@revision]`` → (repo id, revision or None), or ``InvalidInput``."""
    repo, _, revision = raw.strip().partition("@")
    if not _REPO.match(repo) or ".." in repo:
        raise InvalidInput(f"Invalid Hugging Face repository {repo!r}: expected org/name")
    if revision and (not _REVISION.match(revision) or ".." in revision):
        raise InvalidInput(f"Invalid revision {revision!r}")
    return repo, revision or None


def start_import(runtime: Runtime, project_id: str, spec: HubImport) -> Model:
    """A model in ``uploading`` whose import task is enqueued in the same transaction."""
    repo, inline_revision = parse_repo(spec.repo)
    revision = spec.revision or inline_revision
    if revision is not None:
        parse_repo(f"{repo}@{revision}")
    new = handlers.NewModel(
        spec.name or repo.split("/", 1)[1], spec.version, spec.format, spec.workload_type, spec.version_notes
    )
    source = {"kind": "hub", "repo": repo, "revision": revision or "main"}
    return handlers.create_model(
        runtime,
        project_id,
        new,
        source=source,
        then=lambda session, model: outbox.enqueue(session, names.UPLOAD_IMPORT_HUB, model_id=str(model.id)),
    )


def snapshot(repo: str, revision: str) -> Path:
    """The local snapshot folder of ``repo`` at ``revision`` (downloaded unless cached or offline)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return Path(snapshot_download(repo, revision=revision))
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        raise InvalidInput(f"Hugging Face repository {repo} not found or not accessible: {exc}") from None
    except RevisionNotFoundError:
        raise InvalidInput(f"Revision {revision!r} not found in {repo}") from None
    except LocalEntryNotFoundError:
        raise InvalidInput(
            f"{repo}@{revision} is not in the local Hub cache and the Hub cannot be reached (HF_HUB_OFFLINE?)"
        ) from None
    except HFValidationError as exc:
        raise InvalidInput(f"Invalid Hugging Face repository {repo}: {exc}") from None
    except OSError as exc:
        raise TransientError(f"Hugging Face Hub unreachable: {exc}") from exc


def snapshot_files(folder: Path) -> list[tuple[str, Path]]:
    """(model path, file) of a snapshot; cache links may point into the repo's blob folder only."""
    allowed = folder.resolve().parent.parent  # models--org--name/
    files = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or rel in SKIPPED or rel.startswith((".cache/", ".git/")):
            continue
        if not path.resolve().is_relative_to(allowed):
            raise InvalidInput(f"{rel}: a link out of the snapshot")
        files.append((normalize_model_path(rel), path))
    return files


def run_import(runtime: Runtime, model_id: uuid.UUID) -> str:
    """The task: snapshot, store every file, pin the commit, complete. Idempotent."""
    with runtime.session_factory() as session:
        model = session.get(Model, model_id)
        if model is None:
            return "missing"
        if model.status != ModelStatus.UPLOADING:
            return model.status
        project_id, source = model.project_id, dict(model.source or {})
    try:
        folder = snapshot(source["repo"], source.get("revision") or "main")
        commit = folder.name if _COMMIT.match(folder.name) else None
        for rel, path in snapshot_files(folder):
            with path.open("rb") as stream:
                handlers.store_and_record(runtime, project_id, model_id, rel, stream)
        _pin(runtime, model_id, commit)
        handlers.complete(runtime, project_id, model_id)
    except InvalidInput as exc:
        _fail(runtime, model_id, f"Hub import failed: {exc.message}")
        return ModelStatus.ERROR.value
    return ModelStatus.VALIDATING.value


def _pin(runtime: Runtime, model_id: uuid.UUID, commit: str | None) -> None:
    with runtime.unit_of_work() as session:
        model = session.scalar(select(Model).where(Model.id == model_id))
        if model is not None:
            model.source = {**(model.source or {}), "commit": commit}


def _fail(runtime: Runtime, model_id: uuid.UUID, reason: str) -> None:
    log.warning("model %s: %s", model_id, reason)
    with runtime.unit_of_work() as session:
        apply_transition(
            session,
            model_id,
            ModelStatus.UPLOADING,
            LifecycleEvent.EXPIRE,
            reason=reason,
            deadline=timedelta(0),
            values={"validation_error": reason},
        )
