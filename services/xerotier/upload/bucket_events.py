"""S3/MinIO bucket notifications, parsed and mapped onto the bucket layout (pure).

Layout of a landing bucket: ``<project>/<model-name>/<version>/<file path>``; an object named like
the completion marker (``_COMPLETE``) directly under ``<version>/`` asks for the upload to be
completed. Object keys arrive URL-encoded (``+`` for a space), as S3 and MinIO send them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from xerotier.domain.paths import normalize_model_path
from xerotier.domain.semver import Version
from xerotier.errors import InvalidInput

MAX_RECORDS = 1000
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class ObjectEvent:
    action: str  # "created", "removed" or "other"
    bucket: str
    key: str  # decoded
    size: int | None
    etag: str | None


@dataclass(frozen=True)
class LandingPath:
    project: str  # slug or id
    model_name: str
    version: str
    file_path: str | None  # None for the completion marker


def parse_notification(doc: Any) -> list[ObjectEvent]:
    """The object events of a notification document, or ``InvalidInput`` saying what is wrong."""
    if not isinstance(doc, dict) or not isinstance(doc.get("Records"), list):
        raise InvalidInput("Invalid bucket notification: expected an object with a 'Records' list")
    records = doc["Records"]
    if len(records) > MAX_RECORDS:
        raise InvalidInput(f"Invalid bucket notification: more than {MAX_RECORDS} records")
    return [_parse_record(i, record) for i, record in enumerate(records)]


def _parse_record(index: int, record: Any) -> ObjectEvent:
    where = f"Invalid bucket notification: Records[{index}]"
    if not isinstance(record, dict):
        raise InvalidInput(f"{where} is not an object")
    name = record.get("eventName")
    s3 = record.get("s3")
    if not isinstance(name, str) or not isinstance(s3, dict):
        raise InvalidInput(f"{where} needs 'eventName' and 's3'")
    bucket = (s3.get("bucket") or {}).get("name") if isinstance(s3.get("bucket"), dict) else None
    obj = s3.get("object")
    if not isinstance(bucket, str) or not _BUCKET.match(bucket):
        raise InvalidInput(f"{where}.s3.bucket.name is missing or not a valid bucket name")
    if not isinstance(obj, dict) or not isinstance(obj.get("key"), str) or not obj["key"]:
        raise InvalidInput(f"{where}.s3.object.key is missing")
    size = obj.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise InvalidInput(f"{where}.s3.object.size is not a non-negative integer")
    etag = obj.get("eTag")
    kind = name.removeprefix("s3:").split(":", 1)[0]
    action = {"ObjectCreated": "created", "ObjectRemoved": "removed"}.get(kind, "other")
    etag = etag if isinstance(etag, str) else None
    return ObjectEvent(action, bucket, unquote_plus(obj["key"]), size, etag)


def landing_path(key: str, marker: str) -> LandingPath:
    """Where ``key`` lands in the layout, or ``InvalidInput`` when it does not fit it."""
    parts = key.split("/", 3)
    if len(parts) < 4 or not all(parts[:3]) or not parts[3]:
        raise InvalidInput(f"Object key {key!r} does not match <project>/<model-name>/<version>/<file>")
    project, name, version, rest = parts
    Version.parse(version)
    if rest == marker:
        return LandingPath(project, name, version, None)
    return LandingPath(project, name, version, normalize_model_path(rest))


def object_key(path: LandingPath, marker: str) -> str:
    return f"{path.project}/{path.model_name}/{path.version}/{path.file_path or marker}"


def manifest_paths(raw: bytes) -> list[str] | None:
    """The files a completion marker lists (JSON ``{"files": [...]}``), or None for an empty marker."""
    if not raw.strip():
        return None
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: past the int digit limit
        raise InvalidInput("Completion marker is neither empty nor JSON") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise InvalidInput('Completion marker JSON must be {"files": ["path", ...]}')
    return [normalize_model_path(f) for f in files]
