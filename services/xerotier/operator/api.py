"""Every registry call the operator makes, in one place (the routes of the HTTP API it relies on).

Routes used: ``GET/POST …/models``, ``GET/DELETE …/models/{id}``, ``PUT …/models/{id}/files/{path}``,
``POST …/models/{id}/complete`` (upload service), ``POST …/models/import`` (Hugging Face import),
``POST …/models/{id}/versions/{version}/promote`` (versioning). All under ``/{project}/v1``, so a
key of another project is refused by the registry.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from xerotier.client.http import ApiError, XerotierClient

LIST_LIMIT = 500


class RegistryApi:
    def __init__(self, client: XerotierClient, project: str) -> None:
        self.client = client
        self.base = f"/{quote(project, safe='')}/v1"

    def get(self, model_id: str) -> dict[str, Any] | None:
        try:
            return self.client.request("GET", f"{self.base}/models/{model_id}")
        except ApiError as exc:
            if exc.status in (400, 404):
                return None
            raise

    def find(self, name: str, version: str) -> dict[str, Any] | None:
        params = {"allVersions": "true", "limit": str(LIST_LIMIT)}
        models = self.client.request("GET", f"{self.base}/models", params=params)["models"]
        return next((m for m in models if m.get("name") == name and m.get("version") == version), None)

    def create(self, name: str, version: str, notes: str | None) -> dict[str, Any]:
        body = {"name": name, "version": version, **({"versionNotes": notes} if notes else {})}
        return self.client.request("POST", f"{self.base}/models", json=body)

    def import_hub(
        self, name: str, version: str, repo: str, revision: str | None, notes: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "version": version, "repo": repo}
        if revision:
            body["revision"] = revision
        if notes:
            body["versionNotes"] = notes
        return self.client.request("POST", f"{self.base}/models/import", json=body)

    def put_file(self, model_id: str, relative: str, path: Path) -> None:
        with path.open("rb") as handle:  # streamed: httpx reads the file in chunks
            self.client.request(
                "PUT", f"{self.base}/models/{model_id}/files/{quote(relative)}", content=_chunks(handle)
            )

    def complete(self, model_id: str) -> dict[str, Any]:
        return self.client.request("POST", f"{self.base}/models/{model_id}/complete")

    def promote(self, model_id: str, version: str) -> dict[str, Any]:
        return self.client.request(
            "POST", f"{self.base}/models/{model_id}/versions/{quote(version, safe='')}/promote"
        )

    def delete(self, model_id: str) -> None:
        self.client.request("DELETE", f"{self.base}/models/{model_id}")


def _chunks(handle: Any, size: int = 1 << 20) -> Iterator[bytes]:
    while chunk := handle.read(size):
        yield chunk


def model_files(folder: Path) -> list[tuple[str, Path]]:
    """Regular files under ``folder`` as (relative posix path, path); links are never followed."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    found: list[tuple[str, Path]] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not (Path(root) / d).is_symlink())
        for name in sorted(files):
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue
            found.append((path.relative_to(folder).as_posix(), path))
    return found
