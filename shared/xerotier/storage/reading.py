"""Reading stored blobs for downloads: from an offset, in chunks, or through a presigned URL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from xerotier.storage.blobs import BlobStore, LocalBlobStore


def open_range(store: BlobStore, sha256: str, start: int, end: int) -> BinaryIO:
    """A reader positioned at ``start`` of the blob (bytes up to ``end`` inclusive are wanted)."""
    if isinstance(store, LocalBlobStore):
        handle = store.open(sha256)
        if start:
            handle.seek(start)
        return handle
    ranged = getattr(store, "open_range", None)
    if ranged is not None:
        return ranged(sha256, start, end)
    handle = store.open(sha256)
    for _ in read_chunks(handle, start, 1 << 20):  # a backend without ranges: skip to the start
        pass
    return handle


def presigned_url(store: BlobStore, sha256: str, seconds: int) -> str | None:
    """A short-lived URL of the blob where the backend has them (S3), else None."""
    make = getattr(store, "presigned_url", None)
    return make(sha256, seconds) if make is not None else None


def read_chunks(handle: BinaryIO, length: int, chunk: int) -> Iterator[bytes]:
    remaining = length
    while remaining > 0:
        data = handle.read(min(chunk, remaining))
        if not data:
            raise OSError("the stored blob is shorter than its recorded size")
        remaining -= len(data)
        yield data
