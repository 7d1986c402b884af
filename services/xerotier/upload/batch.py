"""A batch of small files in one request: an uncompressed tar stream (pure parsing, no I/O).

``POST /v1/models/{id}/files`` with ``Content-Type: application/x-tar`` carries many small files
at once: one request, one authentication, one transaction for all their rows, their fsyncs
overlapped, instead of a round trip and a transaction per file. Only regular files are taken;
paths are normalized as for a single ``PUT``; a path twice in one batch is refused.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass

from xerotier.domain.paths import normalize_model_path
from xerotier.errors import InvalidInput, PayloadTooLarge

MAX_BATCH_BYTES = 64 << 20  # the whole body is held in memory: small files only
MAX_BATCH_FILES = 10_000


@dataclass(frozen=True)
class Member:
    path: str
    data: bytes


def read_batch(body: bytes, max_file_size: int) -> list[Member]:
    """The files of a tar body, or ``InvalidInput`` naming what is wrong."""
    if len(body) > MAX_BATCH_BYTES:
        raise PayloadTooLarge(f"A batch exceeds {MAX_BATCH_BYTES} bytes: send large files one by one")
    members: list[Member] = []
    seen: set[str] = set()
    try:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:") as archive:
            for info in archive:
                if info.isdir():
                    continue
                if not info.isreg():
                    raise InvalidInput(f"Batch member {info.name!r} is not a regular file")
                path = normalize_model_path(info.name)
                if path in seen:
                    raise InvalidInput(f"Batch names {path} twice")
                if info.size > max_file_size:
                    raise PayloadTooLarge(f"File exceeds the maximum size of {max_file_size} bytes")
                extracted = archive.extractfile(info)
                assert extracted is not None  # a regular file
                seen.add(path)
                members.append(Member(path, extracted.read()))
                if len(members) > MAX_BATCH_FILES:
                    raise InvalidInput(f"A batch holds at most {MAX_BATCH_FILES} files")
    except tarfile.TarError as exc:
        raise InvalidInput(f"Batch body is not a valid tar stream: {exc}") from None
    if not members:
        raise InvalidInput("Batch holds no files")
    return members
