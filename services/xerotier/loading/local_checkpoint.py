"""Read only the headers and configs of a checkpoint on disk (for ``xeroctl models plan <path>``).

Nothing is uploaded and no tensor byte is read: a 140 GB checkpoint costs a few header reads.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from xerotier.errors import InvalidInput
from xerotier.loading.inputs import MAX_CONFIG_BYTES, parse_config

MAX_HEADER_BYTES = 100 * 1024 * 1024


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
