"""SDK calls for getting models out: a version's files, downloading them (resume, verify), aliases
and tags. Functions over an ``XerotierClient``; no printing (the CLI reports progress through
``on_progress``)."""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

import httpx

from xerotier.client.http import ApiError, XerotierClient, ref_segment

CHUNK = 1 << 20
PARTIAL_SUFFIX = ".xerotier-partial"


class DownloadMismatch(Exception):
    """A downloaded file's bytes are not the ones the registry recorded (its name in the message)."""

    def __init__(self, path: str, expected: str, got: str) -> None:
        super().__init__(f"{path}: sha256 mismatch (registry {expected}, downloaded {got})")
        self.path = path


@dataclass(frozen=True)
class FileResult:
    path: str
    size: int
    sha256: str
    action: str  # downloaded | resumed | skipped


def list_files(client: XerotierClient, model: str) -> list[dict[str, Any]]:
    """The files (path, sizeBytes, sha256) of the version ``model`` names."""
    return client.request("GET", f"/v1/models/{ref_segment(model)}/files")["files"]


def select_files(
    files: Sequence[dict[str, Any]], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The files matching any ``include`` glob (all when none) and no ``exclude`` glob."""

    def matches(path: str, patterns: Sequence[str]) -> bool:
        return any(fnmatch.fnmatchcase(path, p) for p in patterns)

    return [
        f for f in files if (not include or matches(f["path"], include)) and not matches(f["path"], exclude)
    ]


def _digest_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _target(folder: Path, rel: str) -> Path:
    parts = PurePosixPath(rel).parts
    if not parts or any(p in ("..", "") for p in parts) or PurePosixPath(rel).is_absolute():
        raise ApiError(0, f"Refusing to write outside the folder: {rel!r}")
    return folder.joinpath(*parts)


def download_file(
    client: XerotierClient,
    version_id: str,
    entry: dict[str, Any],
    folder: Path,
    on_progress: Callable[[str, int], None] | None = None,
) -> FileResult:
    """One file into ``folder``: skipped if present with the right digest, else fetched (resuming a
    partial file with ``Range``/``If-Range``), hashed while written, verified, renamed into place."""
    rel, size, sha = entry["path"], entry["sizeBytes"], entry["sha256"]
    final = _target(folder, rel)
    progress = on_progress or (lambda _path, _n: None)
    if final.exists() and final.stat().st_size == size and _digest_of(final) == sha:
        progress(rel, size)
        return FileResult(rel, size, sha, "skipped")
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    digest, have = hashlib.sha256(), 0
    if partial.exists() and partial.stat().st_size <= size:
        with partial.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                have += len(chunk)
    headers = {"Range": f"bytes={have}-", "If-Range": f'"{sha}"'} if 0 < have < size else {}
    url = f"/v1/models/{version_id}/files/{quote(rel)}"
    resumed = False
    if have < size or size == 0:
        try:
            with client.http.stream("GET", url, headers=headers, follow_redirects=True) as response:
                if response.status_code >= 400:
                    response.read()
                    client.raise_for(response)
                resumed = response.status_code == 206
                if not resumed:  # the whole file: start the partial again
                    digest, have = hashlib.sha256(), 0
                progress(rel, have)
                with partial.open("ab" if resumed else "wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        have += len(chunk)
                        progress(rel, len(chunk))
        except httpx.HTTPError as exc:
            raise ApiError(
                0, f"{rel}: download interrupted ({exc}); run the command again to resume"
            ) from None
    else:
        progress(rel, have)
    got = digest.hexdigest()
    if got != sha or have != size:
        partial.unlink(missing_ok=True)
        raise DownloadMismatch(rel, sha, got)
    os.replace(partial, final)
    return FileResult(rel, size, sha, "resumed" if resumed else "downloaded")


def download(
    client: XerotierClient,
    model: str,
    folder: Path,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    parallel: int = 4,
    on_start: Callable[[dict[str, Any], list[dict[str, Any]]], None] | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> tuple[dict[str, Any], list[FileResult]]:
    """Every selected file of the version ``model`` names, ``parallel`` at a time. The version is
    resolved once (its id pins every file, even if ``latest`` moves meanwhile)."""
    version = client.get_model(model)
    files = select_files(list_files(client, version["id"]), include, exclude)
    if on_start is not None:
        on_start(version, files)
    folder.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        futures = [pool.submit(download_file, client, version["id"], f, folder, on_progress) for f in files]
        results = [f.result() for f in futures]
    return version, results


# ---- aliases and tags ---------------------------------------------------------------------------


def list_aliases(client: XerotierClient, model: str) -> list[dict[str, Any]]:
    return client.request("GET", f"/v1/models/{ref_segment(model)}/aliases")["aliases"]


def set_alias(client: XerotierClient, model: str, alias: str, version: str) -> dict[str, Any]:
    path = f"/v1/models/{ref_segment(model)}/aliases/{quote(alias, safe='')}"
    return client.request("PUT", path, json={"version": version})


def delete_alias(client: XerotierClient, model: str, alias: str) -> dict[str, Any]:
    return client.request("DELETE", f"/v1/models/{ref_segment(model)}/aliases/{quote(alias, safe='')}")


def _tags_path(model: str, version: str | None) -> str:
    base = f"/v1/models/{ref_segment(model)}"
    return f"{base}/versions/{quote(version, safe='')}/tags" if version else f"{base}/tags"


def list_tags(client: XerotierClient, model: str, version: str | None = None) -> dict[str, str]:
    return client.request("GET", _tags_path(model, version))["tags"]


def set_tag(client: XerotierClient, model: str, key: str, value: str, version: str | None = None) -> dict:
    return client.request("PUT", f"{_tags_path(model, version)}/{quote(key)}", json={"value": value})["tags"]


def delete_tag(client: XerotierClient, model: str, key: str, version: str | None = None) -> dict:
    return client.request("DELETE", f"{_tags_path(model, version)}/{quote(key)}")["tags"]
