"""A checkpoint on disk, read as the registry reads an upload (for ``xeroctl models plan|inspect``).

Nothing is uploaded and no tensor byte is read: a 140 GB checkpoint costs a few header reads. The
files go through the validation worker's own ``inspect_checkpoint`` (same checks, same metadata),
and the plan is derived from the metadata columns, config.json and stored headers exactly as the
plan by model ID derives it (``inputs.shape_from``): one derivation for both.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from xerotier.errors import InvalidInput, ValidationFailed
from xerotier.loading.model_shape import ModelShape
from xerotier.loading.shape_inputs import MAX_CONFIG_BYTES, parse_config, shape_from
from xerotier.upload.formats import detect_format, unknown_format_message
from xerotier.validation.inspect import FileRef, Inspection, inspect_checkpoint

MAX_HEADER_BYTES = 100 * 1024 * 1024
#: Folders an upload leaves out (version control, the Hub's download cache).
SKIPPED_DIRS = {".git", ".cache", "__pycache__"}


def local_refs(root: Path) -> list[FileRef]:
    """Every regular file of ``root`` (or ``root`` itself) as the upload would send it, sorted."""
    if root.is_file():
        return [FileRef(root.name, root.stat().st_size, str(root))]
    if not root.is_dir():
        raise InvalidInput(f"{root}: no such file or folder")
    base = root.resolve()
    refs = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIPPED_DIRS for part in rel.parts) or not path.is_file():
            continue
        if not path.resolve().is_relative_to(base):
            continue  # a link out of the folder: the upload skips it too
        refs.append(FileRef(rel.as_posix(), path.stat().st_size, str(path)))
    return refs


@contextmanager
def _open(ref: FileRef) -> Iterator[BinaryIO]:
    with open(ref.key, "rb") as stream:
        yield stream


@dataclass
class LocalInspection:
    files: list[FileRef]
    format: str | None
    inspection: Inspection | None
    problems: list[str]


def inspect_local(root: Path) -> LocalInspection:
    """The validation a checkpoint folder would get: metadata, or the problems it would report."""
    refs = local_refs(root)
    paths = [r.path for r in refs]
    fmt = detect_format(paths)
    if fmt is None:
        return LocalInspection(refs, None, None, [unknown_format_message(paths)])
    try:
        found = inspect_checkpoint(refs, _open, fmt, root.name)
    except ValidationFailed as failure:
        return LocalInspection(refs, fmt, None, failure.message.split("\n"))
    return LocalInspection(refs, fmt, found, [])


def stored_headers(inspection: Inspection) -> list[dict[str, Any]]:
    """The headers as validation stores them on ``model_files.header``."""
    return [
        {name: {"dtype": t.dtype, "shape": list(t.shape)} for name, t in header.tensors.items()}
        for header in inspection.headers.values()
    ]


def local_shape(root: Path) -> ModelShape:
    """The load-relevant shape of a checkpoint on disk, derived as for a registered model."""
    local = inspect_local(root)
    if local.inspection is None:
        raise InvalidInput(f"{root.name}: validation would refuse it: " + "; ".join(local.problems))
    values = local.inspection.metadata.as_values(set_workload_type=False)
    return shape_from(root.name, local.inspection.config, stored_headers(local.inspection), values)


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """``{tensor: {dtype, shape}}`` of one file, with the length prefix checked against the file size."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise InvalidInput(f"{path.name}: too small to be a safetensors file")
        (length,) = struct.unpack("<Q", prefix)
        if length > min(MAX_HEADER_BYTES, size - 8):
            raise InvalidInput(f"{path.name}: header length {length} exceeds the file")
        raw = handle.read(length)
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path.name}: header is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"{path.name}: header is not a JSON object")
    out: dict[str, Any] = {}
    for name, info in doc.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or "dtype" not in info or not isinstance(info.get("shape"), list):
            raise InvalidInput(f"{path.name}: tensor {name!r} has no dtype or shape")
        out[name] = {"dtype": info["dtype"], "shape": info["shape"]}
    return out


def read_checkpoint(folder: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(config.json, every safetensors header) of a local checkpoint folder (or a single file)."""
    if folder.is_file():
        return None, [read_safetensors_header(folder)]
    if not folder.is_dir():
        raise InvalidInput(f"{folder}: no such file or folder")
    config = None
    config_path = folder / "config.json"
    if config_path.is_file():
        if config_path.stat().st_size > MAX_CONFIG_BYTES:
            raise InvalidInput(f"config.json: larger than {MAX_CONFIG_BYTES} bytes")
        config = parse_config(config_path.read_bytes())
    files = sorted(folder.rglob("*.safetensors"))
    if not files:
        raise InvalidInput(f"{folder}: no .safetensors file found")
    return config, [read_safetensors_header(p) for p in files]
