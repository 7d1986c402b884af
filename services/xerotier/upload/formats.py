"""Model formats of the seed, told from file paths (pure).

``safetensors`` (one file, or shards with ``model.safetensors.index.json``), ``bin`` (PyTorch
pickles), ``exl2`` (ExLlamaV2 quantized safetensors, recognised by ``measurement.json``) and
``directory`` (a whole Hugging Face-style folder with nested subfolders).
"""

from __future__ import annotations

import re

from xerotier.errors import InvalidInput

FORMATS = ("safetensors", "bin", "exl2", "directory")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth")
WEIGHT_SUFFIXES = (".safetensors", *PICKLE_SUFFIXES)
SAFETENSORS_INDEX = ".safetensors.index.json"
_SHARD = re.compile(r"-(\d{5})-of-(\d{5})\.safetensors$")


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def detect_format(paths: list[str]) -> str | None:
    """The seed format the files look like, or None when no weights are among them."""
    names = [_basename(p) for p in paths]
    if any("/" in p for p in paths) and any(n.endswith(WEIGHT_SUFFIXES) for n in names):
        return "directory"
    if "measurement.json" in names and any(n.endswith(".safetensors") for n in names):
        return "exl2"
    if any(n.endswith(".safetensors") for n in names):
        return "safetensors"
    if any(n.endswith(PICKLE_SUFFIXES) for n in names):
        return "bin"
    return None


NO_FORMAT = (
    "Cannot tell the model's format from its files (no .safetensors, .bin, .pt or .pth file); "
    "name it with 'format'"
)
GGUF_UNSUPPORTED = (
    "Cannot tell the model's format from its files: GGUF (.gguf) is not a supported format. The "
    "registry validates, plans and serves Hugging Face checkpoints (safetensors or .bin weights with "
    "config.json) for vLLM, whose GGUF loading is experimental (one file, the base model's tokenizer and "
    "config needed, no tensor headers to plan from); upload the safetensors checkpoint instead"
)


def unknown_format_message(paths: list[str]) -> str:
    """Why no format is told from ``paths``: GGUF named as such, else the generic message."""
    if any(_basename(p).lower().endswith(".gguf") for p in paths):
        return GGUF_UNSUPPORTED
    return NO_FORMAT


def check_format(fmt: str, paths: list[str]) -> None:
    """``InvalidInput`` with a clear message when the files are not a ``fmt`` model."""
    if not paths:
        raise InvalidInput("Model has no files: upload at least one file before completing")
    names = [_basename(p) for p in paths]
    safetensors = [n for n in names if n.endswith(".safetensors")]
    if fmt in ("safetensors", "exl2") and not safetensors:
        raise InvalidInput(f"Format is {fmt} but no .safetensors file was uploaded")
    if fmt == "safetensors":
        _check_shards(paths)
    if fmt == "bin" and not any(n.endswith(PICKLE_SUFFIXES) for n in names):
        raise InvalidInput("Format is bin but no .bin, .pt or .pth file was uploaded")
    if fmt == "directory" and not any(n.endswith(WEIGHT_SUFFIXES) for n in names):
        raise InvalidInput("Format is directory but the folder holds no .safetensors, .bin, .pt or .pth file")
    if fmt not in FORMATS:
        raise InvalidInput(f"Invalid format '{fmt}': expected one of {', '.join(FORMATS)}")


def _check_shards(paths: list[str]) -> None:
    """Sharded safetensors need their index and every shard ``1..N`` of the set."""
    shards: dict[str, set[int]] = {}
    totals: dict[str, int] = {}
    for path in paths:
        match = _SHARD.search(path)
        if match:
            stem = path[: match.start()]
            shards.setdefault(stem, set()).add(int(match.group(1)))
            totals[stem] = int(match.group(2))
    for stem, numbers in shards.items():
        missing = sorted(set(range(1, totals[stem] + 1)) - numbers)
        if missing:
            shown = ", ".join(f"{stem}-{n:05d}-of-{totals[stem]:05d}.safetensors" for n in missing[:3])
            raise InvalidInput(f"Sharded safetensors are incomplete: missing {shown}")
        if not any(p.endswith(SAFETENSORS_INDEX) for p in paths):
            raise InvalidInput(f"Sharded safetensors need their index file (*{SAFETENSORS_INDEX})")
