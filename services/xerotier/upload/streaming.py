"""Stream a request body into a blob writer without blocking the event loop.

Chunks are gathered into batches of ``chunk_bytes``; each batch is hashed on one thread while it is
written on another (hashlib and file writes release the GIL: ``SpoolingWriter.write_many``), while
the loop keeps receiving the next one, so at most two batches are held at a time whatever the
file size, and a batch costs the slower of hashing and writing, not their sum.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi.concurrency import run_in_threadpool

from xerotier.storage.blobs import BlobWriter


async def stream_into(body: AsyncIterator[bytes], writer: BlobWriter, chunk_bytes: int) -> int:
    """Write every chunk of ``body`` to ``writer``; return the byte count. The caller commits."""
    batch: list[bytes] = []
    held = 0
    pending: asyncio.Future[Any] | None = None
    try:
        async for chunk in body:
            batch.append(chunk)
            held += len(chunk)
            if held >= chunk_bytes:
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(run_in_threadpool(_write_all, writer, batch))
                batch, held = [], 0
        if pending is not None:
            await pending
            pending = None
        if batch:
            await run_in_threadpool(_write_all, writer, batch)
    finally:
        if pending is not None:  # never abort the writer under a thread still writing
            await asyncio.gather(pending, return_exceptions=True)
    return writer.size


def _write_all(writer: BlobWriter, chunks: list[bytes]) -> None:
    write_many = getattr(writer, "write_many", None)  # hashing and writing overlapped
    if write_many is not None:
        write_many(chunks)
        return
    for chunk in chunks:
        writer.write(chunk)
