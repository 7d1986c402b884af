"""SDK calls of the upload service: stream files, find a resumable upload, import from the Hub."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from xerotier.client.http import XerotierClient, ref_segment

READ_BYTES = 1 << 20
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
