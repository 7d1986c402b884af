"""The Hugging Face Hub's download protocol, as pure mappings (what ``huggingface_hub`` expects).

    repo id     ``<project slug>/<model name>``, or the model's own ``org/name`` when its name has a
                ``/`` (``meta-llama/Llama-3.1-8B`` in the key's project)
    revision    ``main`` (the latest version), a version (``1.2.0``), an alias, or the version's
                40-hex commit id (``commit_of``: stable, derived from the version's id)
    errors      404 with ``X-Error-Code: RepoNotFound | RevisionNotFound | EntryNotFound`` and
                ``X-Error-Message``; a bad key is a 401 whose message is the one the client treats
                as "invalid credentials" (not as a missing repository)

Read from ``huggingface_hub`` (``file_download.py``: ``hf_hub_url``, ``get_hf_file_metadata``;
``hf_api.py``: ``model_info``, ``list_repo_tree``; ``utils/_http.py``: ``hf_raise_for_status``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from xerotier.domain.model_ref import LATEST, ModelRef, commit_of

MAIN = "main"
LFS_POINTER_SIZE = 134  # the size of a git-lfs pointer file, which the client reports
BAD_CREDENTIALS = "Invalid credentials in Authorization header"


class HubError(Exception):
    """An answer of the Hub's shape: status, ``X-Error-Code``, message, and for EntryNotFound the
    commit (``X-Repo-Commit``: the client caches the file's absence under it)."""

    def __init__(self, status: int, code: str | None, message: str, commit: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.commit = status, code, message, commit

    def headers(self) -> dict[str, str]:
        headers = {"X-Error-Message": self.message}
        if self.code:
            headers["X-Error-Code"] = self.code
        if self.commit:
            headers["X-Repo-Commit"] = self.commit
        return headers

    def body(self) -> dict[str, Any]:
        return {"error": self.message}


def repo_not_found(repo_id: str) -> HubError:
    return HubError(404, "RepoNotFound", f"Repository {repo_id} not found")


def revision_not_found(repo_id: str, revision: str) -> HubError:
    return HubError(404, "RevisionNotFound", f"Invalid rev id: {revision} of {repo_id}")


def entry_not_found(repo_id: str, revision: str, path: str, commit: str) -> HubError:
    return HubError(404, "EntryNotFound", f"{path} does not exist on {revision} of {repo_id}", commit)


def bad_credentials() -> HubError:
    return HubError(401, None, BAD_CREDENTIALS)


def candidate_names(namespace: str, name: str, project_slug: str, project_id: str) -> list[str]:
    """The model names ``namespace/name`` may mean in the key's project, most specific first."""
    names = [f"{namespace}/{name}"]
    if namespace in (project_slug, project_id):
        names.append(name)
    return names


def revision_ref(model_name: str, revision: str) -> ModelRef:
    selector = None if revision in (MAIN, LATEST) else revision
    return ModelRef(name=model_name, selector=selector)


def hub_time(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def file_headers(sha256: str, size: int, commit: str) -> dict[str, str]:
    return {"X-Linked-Etag": f'"{sha256}"', "X-Linked-Size": str(size), "X-Repo-Commit": commit}


def tree_entry(path: str, sha256: str, size: int) -> dict[str, Any]:
    """A file of ``list_repo_tree`` (every file described as an LFS object: its oid is the sha256)."""
    return {
        "type": "file",
        "oid": sha256[:40],
        "size": size,
        "path": path,
        "lfs": {"oid": sha256, "size": size, "pointerSize": LFS_POINTER_SIZE},
    }


def tree(files: list[Any], under: str, recursive: bool) -> list[dict[str, Any]]:
    """``list_repo_tree`` of the folder ``under`` ("" the root): its folders, then its files."""
    prefix = f"{under}/" if under else ""
    folders: set[str] = set()
    entries = []
    for f in files:
        if not f.path.startswith(prefix):
            continue
        rest = f.path[len(prefix) :]
        parents = rest.split("/")[:-1]
        if recursive:
            folders.update(prefix + "/".join(parents[: d + 1]) for d in range(len(parents)))
            entries.append(tree_entry(f.path, f.sha256, f.size_bytes))
        elif parents:
            folders.add(prefix + parents[0])
        else:
            entries.append(tree_entry(f.path, f.sha256, f.size_bytes))
    dirs = [{"type": "directory", "oid": "0" * 40, "size": 0, "path": d} for d in sorted(folders)]
    return dirs + entries


def model_info(
    repo_id: str, version: Any, files: list[Any], tags: list[str], commit: str | None = None
) -> dict[str, Any]:
    """``GET /api/models/{repo}/revision/{rev}``: what ``ModelInfo`` and ``snapshot_download`` read."""
    sha = commit or commit_of(version.id)
    extra = version.extra_metadata or {}
    return {
        "_id": str(version.id),
        "id": repo_id,
        "modelId": repo_id,
        "author": repo_id.split("/", 1)[0],
        "sha": sha,
        "lastModified": hub_time(version.updated_at),
        "createdAt": hub_time(version.created_at),
        "private": True,
        "disabled": False,
        "gated": False,
        "downloads": 0,
        "likes": 0,
        "library_name": "transformers" if extra.get("modelType") else None,
        "tags": tags,
        "pipeline_tag": None,
        "config": {"model_type": extra["modelType"]} if extra.get("modelType") else None,
        "cardData": {"license": version.license} if version.license else None,
        "siblings": [
            {
                "rfilename": f.path,
                "size": f.size_bytes,
                "blobId": f.sha256[:40],
                "lfs": {"size": f.size_bytes, "sha256": f.sha256, "pointerSize": LFS_POINTER_SIZE},
            }
            for f in files
        ],
    }
