"""A local Hugging Face Hub cache laid out as ``huggingface_hub`` writes it (no network needed).

<cache>/models--<org>--<name>/refs/<branch>            the commit sha
<cache>/models--<org>--<name>/blobs/<sha256>           file contents
<cache>/models--<org>--<name>/snapshots/<commit>/<path> relative links into blobs/
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def add_to_hub_cache(cache: Path, repo: str, source: Path, commit: str, branch: str = "main") -> Path:
    """Lay out every file of ``source`` as the snapshot ``commit`` of ``repo``; return the snapshot."""
    org, name = repo.split("/")
    root = cache / f"models--{org}--{name}"
    snapshot = root / "snapshots" / commit
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / branch).write_text(commit)
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        data = path.read_bytes()
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snapshot / path.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    return snapshot
