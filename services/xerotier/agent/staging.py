"""Stage a model's blobs into the agent's local cache, verifying every file's sha256.

    <cache>/blobs/<sha256>            one copy per content, shared by every version that uses it
    <cache>/models/<load id>/<path>   the model folder the engine opens (hard links to the blobs)

A file is hashed while it is copied, and a cached copy is hashed again before each load: a byte
changed anywhere between the registry and the engine fails the load with the file named.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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


def stage(open_blob, cache_dir: Path, load_id: str, files: list[FileRef]) -> StageReport:  # type: ignore[no-untyped-def]
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
            with open_blob(ref.sha256) as source, tmp.open("wb") as target:
                digest, size = _hash_copy(source, target)
            try:
                _check(ref, digest, size)
            except IntegrityFailure:
                tmp.unlink(missing_ok=True)
                raise
            os.replace(tmp, cached)
            report.copied += 1
        _check(ref, digest, size)
        report.bytes_verified += size
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(cached, target)
    return report


def remove_model_folder(cache_dir: Path, load_id: str) -> None:
    shutil.rmtree(cache_dir / "models" / load_id, ignore_errors=True)
