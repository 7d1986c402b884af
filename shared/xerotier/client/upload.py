"""SDK calls of the upload service: stream files, find a resumable upload, import from the Hub."""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

from xerotier.client import sendfile_put
from xerotier.client.http import ApiError, XerotierClient, ref_segment

READ_BYTES = 4 << 20  # large reads and socket writes: few Python round trips per GiB
Progress = Callable[[int], None]


def sha256_of(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while block := src.read(READ_BYTES):
            digest.update(block)
            if progress:
                progress(len(block))
    return digest.hexdigest()


def _chunks(path: Path, progress: Progress | None) -> Iterator[bytes]:
    with path.open("rb") as src:
        while block := src.read(READ_BYTES):
            yield block
            if progress:
                progress(len(block))


class DigestMismatch(ApiError):
    """The server stored other bytes than the ones read here (changed while sending, or corrupted)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


def _hashed_chunks(
    path: Path, digest: Any, hasher: ThreadPoolExecutor | None, progress: Progress | None
) -> Iterator[bytes]:
    """The file's blocks, each hashed on ``hasher`` while the caller sends it (one read, one pass:
    hashlib and socket writes both release the GIL, so hashing and sending overlap); without a
    hasher (a small file: one block) hashed before it is sent."""
    pending: Future[None] | None = None
    with path.open("rb") as src:
        while block := src.read(READ_BYTES):
            if pending is not None:
                pending.result()  # blocks are hashed in order
            if hasher is None:
                digest.update(block)
            else:
                pending = hasher.submit(digest.update, block)
            yield block
            if progress:
                progress(len(block))
    if pending is not None:
        pending.result()


def send_file(
    client: XerotierClient,
    model_id: str,
    rel_path: str,
    source: Path,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """PUT one file, hashing it while it is sent; the digest the server computed must be the one
    computed here (a final check instead of a first pass over the file). Returns the file row."""
    size = source.stat().st_size
    target = f"/v1/models/{model_id}/files/{quote(rel_path)}"
    if size > READ_BYTES:  # large: the kernel sends it, a thread hashes it (plain http only)
        sent = sendfile_put.put_file(
            client.base_url, client.auth_headers(), target, source, progress, client.timeout
        )
        if sent is not None:
            row, mine = sent
            _check_digest(rel_path, row, mine)
            return row
    digest = hashlib.sha256()
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") if size > READ_BYTES else None
    try:
        row = client.request(
            "PUT",
            target,
            content=_hashed_chunks(source, digest, hasher, progress),
            headers={"Content-Length": str(size)},
        )
    finally:
        if hasher is not None:
            hasher.shutdown()
    _check_digest(rel_path, row, digest.hexdigest())
    return row


def _check_digest(rel_path: str, row: dict[str, Any], mine: str) -> None:
    if row.get("sha256") != mine:
        raise DigestMismatch(
            f"{rel_path}: the server stored sha256 {row.get('sha256')}, the file read {mine}"
            " (did it change while uploading?)"
        )


SMALL_FILE_BYTES = 256 << 10  # files up to this size travel in batches
BATCH_BYTES = 8 << 20
BATCH_FILES = 256


def batches(files: list[tuple[str, Path, int]]) -> list[list[tuple[str, Path, int]]]:
    """Groups of (path in the model, file, size) of at most ``BATCH_FILES`` files and about
    ``BATCH_BYTES`` bytes each, in the given order."""
    groups: list[list[tuple[str, Path, int]]] = []
    held = 0
    for item in files:
        if not groups or len(groups[-1]) >= BATCH_FILES or held + item[2] > BATCH_BYTES:
            groups.append([])
            held = 0
        groups[-1].append(item)
        held += item[2]
    return groups


def send_batch(
    client: XerotierClient, model_id: str, files: list[tuple[str, Path, int]]
) -> list[dict[str, Any]]:
    """POST small files as one tar body (one request, one transaction on the server); each file's
    digest is computed here from the bytes sent and checked against the one the server stored."""
    buffer, digests = io.BytesIO(), {}
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for rel, path, _ in files:
            data = path.read_bytes()
            digests[rel] = hashlib.sha256(data).hexdigest()
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    rows = client.request(
        "POST",
        f"/v1/models/{model_id}/files",
        content=buffer.getvalue(),
        headers={"Content-Type": "application/x-tar"},
    )["files"]
    for row in rows:
        mine = digests.get(row["path"])
        if mine != row["sha256"]:
            raise DigestMismatch(
                f"{row['path']}: the server stored sha256 {row['sha256']}, the file read {mine}"
            )
    return rows


def upload_file(
    client: XerotierClient,
    model_id: str,
    rel_path: str,
    source: Path,
    sha256: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """PUT one file as a stream (never read whole); the server checks ``sha256`` if given."""
    headers = {"Content-Length": str(source.stat().st_size)}
    if sha256:
        headers["Content-SHA256"] = sha256
    return client.request(
        "PUT",
        f"/v1/models/{ref_segment(model_id)}/files/{quote(rel_path)}",
        content=_chunks(source, progress),
        headers=headers,
    )


def list_files(client: XerotierClient, model_id: str) -> list[dict[str, Any]]:
    return client.request("GET", f"/v1/models/{ref_segment(model_id)}/files")["files"]


def find_version(client: XerotierClient, name: str, version: str) -> dict[str, Any] | None:
    """The project's model ``name`` at ``version``, if it exists."""
    models = client.request("GET", "/v1/models", params={"allVersions": "true", "limit": 500})["models"]
    return next((m for m in models if m["name"] == name and m["version"] == version), None)


def import_hub(client: XerotierClient, repo: str, **fields: Any) -> dict[str, Any]:
    body = {"repo": repo, **{k: v for k, v in fields.items() if v is not None}}
    return client.request("POST", "/v1/models/import", json=body)
