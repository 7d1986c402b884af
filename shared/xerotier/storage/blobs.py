"""Content-addressed blob store: the ``BlobStore`` interface and its local-directory backend.

Blobs are keyed by sha256, hashed while they stream in (never read twice), written to a temporary
file in the same directory tree and renamed into place atomically. Reference counts live in the
database (``xerotier.db.blob_refs``); stores only move bytes.

    <root>/sha256/ab/abcdef…   a blob
    <root>/tmp/…               uploads in progress (removed on abort or on restart)
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from xerotier.errors import InvalidInput, PayloadTooLarge
from xerotier.storage.writeback import start_writeback

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
WRITEBACK_BYTES = 16 << 20  # start disk write-back every 16 MiB, not all at the final fsync


def check_digest(sha256: str) -> str:
    """``sha256`` if it is 64 lowercase hex characters, else ``InvalidInput``."""
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise InvalidInput(f"Not a sha256 digest: {sha256!r}")
    return sha256


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    created: bool  # False when an identical blob was already stored


class StagedBlob(Protocol):
    """A blob whose bytes are complete and hashed but not yet in the store.

    ``place`` puts them there; the upload calls it while it holds the blob's row (``record_file``),
    and the collector deletes bytes only while it holds that row too, so no deletion can fall
    between an upload finding the bytes stored and its reference being committed.
    """

    sha256: str
    size: int

    def place(self) -> StoredBlob: ...

    def abort(self) -> None: ...


class BlobWriter(Protocol):
    """Receives the bytes of one blob; hashes and counts them as they arrive."""

    size: int

    def write(self, chunk: bytes | bytearray | memoryview) -> None: ...

    def stage(self, expected_sha256: str | None = None) -> StagedBlob: ...

    def commit(self, expected_sha256: str | None = None) -> StoredBlob: ...

    def abort(self) -> None: ...


class BlobStore(Protocol):
    """What every backend (local directory, S3-compatible bucket) offers."""

    def writer(self, max_size: int | None = None) -> BlobWriter: ...

    def exists(self, sha256: str) -> bool: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def delete(self, sha256: str) -> None: ...

    def iter_blobs(self) -> Iterator[tuple[str, float]]:
        """Every stored digest with its last-modified time (epoch seconds)."""
        ...

    def age_seconds(self, sha256: str) -> float | None:
        """Seconds since the blob was last written or re-committed; None if it is absent."""
        ...

    def clear_tmp(self) -> None: ...


_OVERLAP_BYTES = 256 << 10  # below this a second thread costs more than it saves
_IOV_MAX = 1024  # Linux's limit of buffers per writev


@cache
def _hashers() -> ThreadPoolExecutor:
    """Threads that hash batches while the writer's thread writes them (shared by all uploads)."""
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="blob-sha256")


def _update_all(digest: Any, chunks: Sequence[bytes | bytearray | memoryview]) -> None:
    for chunk in chunks:
        digest.update(chunk)


def _writev_all(fd: int, chunks: Sequence[bytes | bytearray | memoryview]) -> None:
    """Write every chunk, in order, however the kernel splits the writes."""
    for start in range(0, len(chunks), _IOV_MAX):
        group = [memoryview(c) for c in chunks[start : start + _IOV_MAX] if len(c)]
        while group:
            written = os.writev(fd, group)
            while group and written >= len(group[0]):
                written -= len(group[0])
                group.pop(0)
            if group and written:
                group[0] = group[0][written:]


class SpoolingWriter:
    """Streams into a temporary file, hashing and counting; ``finish`` hands the file to a backend."""

    def __init__(self, tmp_dir: Path, max_size: int | None) -> None:
        self._max_size = max_size
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        self._file: BinaryIO = os.fdopen(fd, "wb", buffering=0)
        self.path = Path(name)
        self._hash = hashlib.sha256()
        self.sha256 = ""  # set once the bytes are finished
        self.size = 0
        self._flushed = 0

    def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.size += len(chunk)
        if self._max_size is not None and self.size > self._max_size:
            self.abort()
            raise PayloadTooLarge(f"File exceeds the maximum size of {self._max_size} bytes")
        self._hash.update(chunk)
        view = memoryview(chunk)
        while view:
            written = self._file.write(view)
            view = view[written:]
        if self.size - self._flushed >= WRITEBACK_BYTES:
            start_writeback(self._file.fileno(), self._flushed, self.size - self._flushed)
            self._flushed = self.size

    def write_many(self, chunks: Sequence[bytes | bytearray | memoryview]) -> None:
        """``write`` of each chunk, with hashing and writing overlapped: the batch is hashed on a
        hashing thread while this thread writes it with ``writev`` (both release the GIL; no
        copy, one system call per batch). The batch is done, hashed and written, on return."""
        total = sum(len(c) for c in chunks)
        if total < _OVERLAP_BYTES:
            for chunk in chunks:
                self.write(chunk)
            return
        self.size += total
        if self._max_size is not None and self.size > self._max_size:
            self.abort()
            raise PayloadTooLarge(f"File exceeds the maximum size of {self._max_size} bytes")
        hashed = _hashers().submit(_update_all, self._hash, chunks)
        try:
            _writev_all(self._file.fileno(), chunks)
        finally:
            hashed.result()  # never leave the hash object to a thread after an error
        if self.size - self._flushed >= WRITEBACK_BYTES:
            start_writeback(self._file.fileno(), self._flushed, self.size - self._flushed)
            self._flushed = self.size

    def finish(self, expected_sha256: str | None) -> str:
        """The digest, once the bytes are on disk; a mismatch aborts and stores nothing."""
        digest = self._hash.hexdigest()
        if expected_sha256 is not None and expected_sha256.lower() != digest:
            self.abort()
            raise InvalidInput(f"Digest mismatch: client sent sha256 {expected_sha256}, received {digest}")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.sha256 = digest
        return digest

    def stage(self, expected_sha256: str | None = None) -> SpoolingWriter:
        """Finish the bytes (hashed, on disk) without placing them; ``place`` does."""
        self.finish(expected_sha256)
        return self

    def place(self) -> StoredBlob:  # pragma: no cover - each backend places its own way
        raise NotImplementedError

    def commit(self, expected_sha256: str | None = None) -> StoredBlob:
        """``stage`` then ``place`` (callers that hold no blob row: tools, tests, benchmarks)."""
        self.finish(expected_sha256)
        return self.place()

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class LocalBlobWriter(SpoolingWriter):
    def __init__(self, store: LocalBlobStore, max_size: int | None) -> None:
        super().__init__(store.tmp_dir, max_size)
        self._store = store

    def place(self) -> StoredBlob:
        """Rename the blob into place (or drop it if an identical one is stored)."""
        digest = self.sha256
        final = self._store.path_for(digest)
        if final.exists():
            self.path.unlink(missing_ok=True)
            os.utime(final)  # a fresh use: the collector's grace period starts again
            return StoredBlob(digest, self.size, created=False)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, final)
        return StoredBlob(digest, self.size, created=True)


class LocalBlobStore:
    """Blobs as files under one directory (the embedded default; also a shared volume)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        (self.root / "sha256").mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        check_digest(sha256)
        return self.root / "sha256" / sha256[:2] / sha256

    def writer(self, max_size: int | None = None) -> LocalBlobWriter:
        return LocalBlobWriter(self, max_size)

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def open(self, sha256: str) -> BinaryIO:
        return self.path_for(sha256).open("rb")

    def delete(self, sha256: str) -> None:
        self.path_for(sha256).unlink(missing_ok=True)

    def iter_blobs(self) -> Iterator[tuple[str, float]]:
        for shard in (self.root / "sha256").iterdir():
            if not shard.is_dir():
                continue
            for entry in shard.iterdir():
                if _SHA256.match(entry.name):
                    yield entry.name, entry.stat().st_mtime

    def age_seconds(self, sha256: str) -> float | None:
        try:
            return time.time() - self.path_for(sha256).stat().st_mtime
        except FileNotFoundError:
            return None

    def clear_tmp(self) -> None:
        """Remove leftovers of uploads interrupted by a crash."""
        for leftover in self.tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)
