"""Stage a model's blobs into the agent's local cache, verifying every file's sha256.

    <cache>/blobs/<sha256>            one copy per content, shared by every version that uses it
    <cache>/models/<load id>/<path>   the model folder the engine opens (hard links to the blobs)

A file is hashed while it is copied, and a cached copy is hashed again before each load: a byte
changed anywhere between the registry and the engine fails the load with the file named. The bytes
come from the blob store (an agent beside the registry) or through the download API
(``registry_opener``: a remote agent with ``XEROTIER_AGENT_REGISTRY_URL`` and a key).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import httpx

from xerotier.domain.paths import normalize_model_path

CHUNK = 1 << 20


class IntegrityFailure(Exception):
    """A file's bytes do not match the sha256 the registry recorded."""


@dataclass(frozen=True)
class FileRef:
    path: str
    sha256: str
    size_bytes: int


@dataclass
class StageReport:
    folder: Path
    copied: int = 0  # files fetched from the blob store
    reused: int = 0  # files already in the cache
    bytes_verified: int = 0


def _hash_copy(source: BinaryIO, target: BinaryIO | None) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if target is not None:
            target.write(chunk)
    return digest.hexdigest(), size


def _check(ref: FileRef, digest: str, size: int) -> None:
    if digest != ref.sha256 or size != ref.size_bytes:
        raise IntegrityFailure(
            f"{ref.path}: sha256 mismatch (registry {ref.sha256}, {ref.size_bytes} bytes; "
            f"got {digest}, {size} bytes)"
        )


def stage(
    open_blob: Callable[[str], BinaryIO], cache_dir: Path, load_id: str, files: list[FileRef]
) -> StageReport:
    """Copy (or reuse) every file into the cache, verify it, and link the model folder."""
    blobs = cache_dir / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    folder = cache_dir / "models" / load_id
    shutil.rmtree(folder, ignore_errors=True)
    report = StageReport(folder)
    for ref in files:
        rel = normalize_model_path(ref.path)
        cached = blobs / ref.sha256
        if cached.exists():
            with cached.open("rb") as existing:
                digest, size = _hash_copy(existing, None)
            report.reused += 1
        else:
            tmp = blobs / f".{ref.sha256}.partial"
            with open_blob(ref.sha256) as source, tmp.open("wb") as out:
                digest, size = _hash_copy(source, out)
            try:
                _check(ref, digest, size)
            except IntegrityFailure:
                tmp.unlink(missing_ok=True)
                raise
            os.replace(tmp, cached)
            report.copied += 1
        _check(ref, digest, size)
        report.bytes_verified += size
        linked = folder / rel
        linked.parent.mkdir(parents=True, exist_ok=True)
        os.link(cached, linked)
    return report


def remove_model_folder(cache_dir: Path, load_id: str) -> None:
    shutil.rmtree(cache_dir / "models" / load_id, ignore_errors=True)


class _DownloadedBlob:
    """A file of the download API read like a blob (``read(n)``, a context manager)."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        self._context = client.stream("GET", url, follow_redirects=True)
        self._response = self._context.__enter__()
        if self._response.status_code != 200:
            self._response.read()
            self.close()
            raise OSError(
                f"download of {url} answered {self._response.status_code}: {self._response.text[:200]}"
            )
        self._chunks = self._response.iter_bytes(CHUNK)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        data, self._buffer = (self._buffer, b"") if size < 0 else (self._buffer[:size], self._buffer[size:])
        return data

    def close(self) -> None:
        self._context.__exit__(None, None, None)

    def __enter__(self) -> _DownloadedBlob:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def registry_opener(client: httpx.Client, model_id: str, files: list[FileRef]) -> Callable[[str], BinaryIO]:
    """An ``open_blob`` for ``stage`` that fetches through the registry's download API
    (``GET /v1/models/{id}/files/{path}``, or the presigned URL it redirects to): a remote agent
    needs only the registry URL and a key. ``client`` carries both (base URL, bearer key)."""
    path_of = {ref.sha256: ref.path for ref in files}

    def open_blob(sha256: str) -> BinaryIO:
        url = f"/v1/models/{model_id}/files/{quote(normalize_model_path(path_of[sha256]))}"
        return _DownloadedBlob(client, url)  # type: ignore[return-value]

    return open_blob
