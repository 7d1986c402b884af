"""The built-in engine: memory-map every safetensors file and read every tensor once.

Used where no inference engine is installed (and by the tests): it proves the staged files load —
the header parses, every tensor's bytes are inside the file and readable — without a GPU.
"""

from __future__ import annotations

import json
import mmap
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

MAX_HEADER = 100 * 1024 * 1024


class EngineFailure(Exception):
    """The engine could not load the model."""


@dataclass
class LoadedModel:
    files: int = 0
    tensors: int = 0
    bytes_read: int = 0
    checksum: int = 0  # CRC-32 over every tensor's bytes, in file and offset order


def _read_file(path: Path, into: LoadedModel, name: str) -> None:
    size = path.stat().st_size
    if size < 8:
        raise EngineFailure(f"{name}: too small to be a safetensors file")
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
        (length,) = struct.unpack("<Q", view[:8])
        if length > min(MAX_HEADER, size - 8):
            raise EngineFailure(f"{name}: header length {length} exceeds the file")
        try:
            header = json.loads(bytes(view[8 : 8 + length]))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EngineFailure(f"{name}: header is not valid JSON ({exc})") from None
        base = 8 + length
        entries = sorted(
            (v["data_offsets"] for k, v in header.items() if k != "__metadata__"), key=lambda o: o[0]
        )
        for begin, end in entries:
            if not 0 <= begin <= end or base + end > size:
                raise EngineFailure(f"{name}: a tensor lies outside the file")
            into.checksum = zlib.crc32(view[base + begin : base + end], into.checksum)
            into.bytes_read += end - begin
            into.tensors += 1
    into.files += 1


def load_folder(folder: Path) -> LoadedModel:
    """Read every tensor of every ``*.safetensors`` file under ``folder`` once."""
    loaded = LoadedModel()
    for path in sorted(folder.rglob("*.safetensors")):
        _read_file(path, loaded, path.relative_to(folder).as_posix())
    if loaded.files == 0:
        raise EngineFailure("no .safetensors file to load")
    return loaded
