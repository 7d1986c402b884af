"""The difference between two versions of a model, from stored rows turned into plain data (pure).

Inputs are the API's camelCase metadata of each version and its files as
``{path: (sha256, header)}``, where ``header`` is ``{tensor: {"dtype", "shape"}}`` (stored by
validation) or None.
"""

from __future__ import annotations

from typing import Any

#: Metadata compared field by field (the seed's names).
METADATA_FIELDS = (
    "format",
    "sizeBytes",
    "architecture",
    "parameterCount",
    "contextLength",
    "license",
    "isMultimodal",
    "workloadType",
    "isPreQuantized",
    "preQuantizationMethod",
    "preQuantizationBits",
    "numExperts",
    "numExpertsPerTok",
    "modelType",
)
GENERATION_FIELDS = ("defaultTemperature", "defaultTopP")

Files = dict[str, tuple[str, dict[str, Any] | None]]


def _changes(old: dict[str, Any], new: dict[str, Any], fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    return {f: {"from": old.get(f), "to": new.get(f)} for f in fields if old.get(f) != new.get(f)}


def diff_files(old: Files, new: Files) -> dict[str, Any]:
    added = sorted(p for p in new if p not in old)
    removed = sorted(p for p in old if p not in new)
    changed = [
        {"path": p, "fromSha256": old[p][0], "toSha256": new[p][0]}
        for p in sorted(old.keys() & new.keys())
        if old[p][0] != new[p][0]
    ]
    unchanged = sum(1 for p in old.keys() & new.keys() if old[p][0] == new[p][0])
    return {"added": added, "removed": removed, "changed": changed, "unchanged": unchanged}


def tensor_index(files: Files) -> dict[str, dict[str, Any]]:
    """Every tensor of a version (across its shards) → ``{"dtype", "shape"}``."""
    index: dict[str, dict[str, Any]] = {}
    for _sha, header in files.values():
        for name, info in (header or {}).items():
            index[name] = {"dtype": info.get("dtype"), "shape": list(info.get("shape") or [])}
    return index


def diff_tensors(old: Files, new: Files) -> dict[str, Any]:
    a, b = tensor_index(old), tensor_index(new)
    changed = [{"name": t, "from": a[t], "to": b[t]} for t in sorted(a.keys() & b.keys()) if a[t] != b[t]]
    return {
        "added": [{"name": t, **b[t]} for t in sorted(b.keys() - a.keys())],
        "removed": [{"name": t, **a[t]} for t in sorted(a.keys() - b.keys())],
        "changed": changed,
        "headersAvailable": any(h is not None for _s, h in old.values())
        and any(h is not None for _s, h in new.values()),
    }


def diff_versions(
    old_meta: dict[str, Any], old_files: Files, new_meta: dict[str, Any], new_files: Files
) -> dict[str, Any]:
    """Changed metadata, chat template, generation defaults, files (by sha256) and tensors."""
    template_changed = old_meta.get("chatTemplate") != new_meta.get("chatTemplate")
    return {
        "from": old_meta.get("version"),
        "to": new_meta.get("version"),
        "metadata": _changes(old_meta, new_meta, METADATA_FIELDS),
        "chatTemplate": {
            "changed": template_changed,
            "from": old_meta.get("chatTemplate") if template_changed else None,
            "to": new_meta.get("chatTemplate") if template_changed else None,
        },
        "generationDefaults": _changes(old_meta, new_meta, GENERATION_FIELDS),
        "files": diff_files(old_files, new_files),
        "tensors": diff_tensors(old_files, new_files),
    }
