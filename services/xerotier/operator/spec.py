"""A ``Model`` resource's spec, parsed and checked (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xerotier.domain.semver import Version
from xerotier.errors import InvalidInput

GROUP = "xerotier.ai"
VERSION = "v1alpha1"
PLURAL = "models"
RETAIN, DELETE = "Retain", "Delete"


class SpecError(ValueError):
    """The resource's spec cannot be reconciled as written (a permanent error until it changes)."""


@dataclass(frozen=True)
class Source:
    kind: str  # huggingFace | s3 | localPath
    repo: str | None = None
    revision: str | None = None
    prefix: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    project: str
    model: str
    version: str
    source: Source
    promote: bool = False
    deletion_policy: str = RETAIN
    version_notes: str | None = None


def _text(spec: dict[str, Any], key: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"spec.{key} is required")
    return value.strip()


def parse_source(raw: Any) -> Source:
    if not isinstance(raw, dict):
        raise SpecError("spec.source is required")
    given = [key for key in ("huggingFace", "s3", "localPath") if raw.get(key)]
    if len(given) != 1:
        raise SpecError("set exactly one of huggingFace, s3 or localPath in spec.source")
    kind = given[0]
    if kind == "huggingFace":
        hub = raw["huggingFace"]
        repo = hub.get("repo") if isinstance(hub, dict) else None
        if not isinstance(repo, str) or repo.count("/") != 1:
            raise SpecError("spec.source.huggingFace.repo must look like org/name")
        return Source(kind, repo=repo, revision=hub.get("revision") or None)
    if kind == "s3":
        prefix = raw["s3"].get("prefix") if isinstance(raw["s3"], dict) else None
        if not isinstance(prefix, str) or not prefix.startswith("s3://"):
            raise SpecError("spec.source.s3.prefix must start with s3://")
        return Source(kind, prefix=prefix)
    path = raw["localPath"]
    if not isinstance(path, str) or not path.startswith("/"):
        raise SpecError("spec.source.localPath must be an absolute path")
    return Source(kind, path=path)


def parse_spec(spec: dict[str, Any]) -> ModelSpec:
    """The spec as a value, or ``SpecError`` naming the first problem."""
    version = _text(spec, "version")
    try:
        Version.parse(version)
    except InvalidInput as exc:
        raise SpecError(f"spec.version: {exc.message}") from None
    policy = spec.get("deletionPolicy") or RETAIN
    if policy not in (RETAIN, DELETE):
        raise SpecError("spec.deletionPolicy must be Retain or Delete")
    return ModelSpec(
        project=_text(spec, "project"),
        model=_text(spec, "model"),
        version=version,
        source=parse_source(spec.get("source")),
        promote=bool(spec.get("promote", False)),
        deletion_policy=policy,
        version_notes=spec.get("versionNotes") or None,
    )
