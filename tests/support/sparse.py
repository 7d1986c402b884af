"""Real-shaped checkpoints on sparse files: headers describe full-size tensors, nothing is on disk.

``write_checkpoint`` writes a config, the safetensors shards (each a valid header followed by a hole
of the exact data size) and, when sharded, ``model.safetensors.index.json`` as transformers does.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from xerotier.validation.inspect import FileRef

BITS = {"F32": 32, "F16": 16, "BF16": 16, "I32": 32, "I64": 64, "I16": 16, "U8": 8, "I8": 8, "F8_E4M3": 8}
Tensors = dict[str, tuple[str, tuple[int, ...]]]


def write_safetensors(path: Path, tensors: Tensors, metadata: dict[str, str] | None = None) -> int:
    """A valid safetensors file whose data region is a hole; returns its data size in bytes."""
    header: dict[str, object] = {"__metadata__": metadata or {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = math.prod(shape) * BITS[dtype] // 8
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write(struct.pack("<Q", len(raw)))
        out.write(raw)
        out.truncate(8 + len(raw) + offset)
    return offset


def write_checkpoint(
    folder: Path,
    config: dict | None,
    tensors: Tensors,
    shards: int = 1,
    files: dict[str, object] | None = None,
    declare_parameters: int | None = None,
) -> Path:
    """``config.json``, shards of ``tensors`` and the other ``files`` (dicts become JSON)."""
    folder.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    names = list(tensors)
    if shards == 1:
        write_safetensors(folder / "model.safetensors", tensors)
    else:
        per = math.ceil(len(names) / shards)
        weight_map, total = {}, 0
        for index in range(shards):
            shard = f"model-{index + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: tensors[n] for n in names[index * per : (index + 1) * per]}
            total += write_safetensors(folder / shard, part)
            weight_map.update(dict.fromkeys(part, shard))
        meta: dict[str, int] = {"total_size": total}
        if declare_parameters is not None:
            meta["total_parameters"] = declare_parameters
        (folder / "model.safetensors.index.json").write_text(
            json.dumps({"metadata": meta, "weight_map": weight_map})
        )
    for name, content in (files or {}).items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, (dict, list)):
            target.write_text(json.dumps(content))
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(str(content))
    return folder


def file_refs(folder: Path) -> list[FileRef]:
    return [
        FileRef(p.relative_to(folder).as_posix(), p.stat().st_size, str(p))
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    ]


@contextmanager
def open_local(ref: FileRef) -> Iterator[BinaryIO]:
    with open(ref.key, "rb") as stream:
        yield stream


def decoder_tensors(
    *,
    layers: int,
    hidden: int,
    inter: int,
    vocab: int,
    heads: int,
    kv_heads: int,
    head_dim: int | None = None,
    dtype: str = "BF16",
    tied: bool = False,
    qkv_bias: bool = False,
    qk_norm: bool = False,
    extra_norms: bool = False,
    prefix: str = "model.",
    lm_head: str = "lm_head.weight",
) -> Tensors:
    """A llama-style decoder's tensors (Llama, Qwen2/3, Mistral, Gemma 2 with extra_norms)."""
    hd = head_dim or hidden // heads
    out: Tensors = {f"{prefix}embed_tokens.weight": (dtype, (vocab, hidden))}
    for i in range(layers):
        p = f"{prefix}layers.{i}."
        out[p + "self_attn.q_proj.weight"] = (dtype, (heads * hd, hidden))
        out[p + "self_attn.k_proj.weight"] = (dtype, (kv_heads * hd, hidden))
        out[p + "self_attn.v_proj.weight"] = (dtype, (kv_heads * hd, hidden))
        out[p + "self_attn.o_proj.weight"] = (dtype, (hidden, heads * hd))
        if qkv_bias:
            out[p + "self_attn.q_proj.bias"] = (dtype, (heads * hd,))
            out[p + "self_attn.k_proj.bias"] = (dtype, (kv_heads * hd,))
            out[p + "self_attn.v_proj.bias"] = (dtype, (kv_heads * hd,))
        if qk_norm:
            out[p + "self_attn.q_norm.weight"] = (dtype, (hd,))
            out[p + "self_attn.k_norm.weight"] = (dtype, (hd,))
        out[p + "mlp.gate_proj.weight"] = (dtype, (inter, hidden))
        out[p + "mlp.up_proj.weight"] = (dtype, (inter, hidden))
        out[p + "mlp.down_proj.weight"] = (dtype, (hidden, inter))
        out[p + "input_layernorm.weight"] = (dtype, (hidden,))
        out[p + "post_attention_layernorm.weight"] = (dtype, (hidden,))
        if extra_norms:
            out[p + "pre_feedforward_layernorm.weight"] = (dtype, (hidden,))
            out[p + "post_feedforward_layernorm.weight"] = (dtype, (hidden,))
    out[f"{prefix}norm.weight"] = (dtype, (hidden,))
    if not tied:
        out[lm_head] = (dtype, (vocab, hidden))
    return out


def decoder_parameters(
    *,
    layers: int,
    hidden: int,
    inter: int,
    vocab: int,
    heads: int,
    kv_heads: int,
    head_dim: int | None = None,
    tied: bool = False,
    qkv_bias: bool = False,
    qk_norm: bool = False,
    extra_norms: bool = False,
) -> int:
    """The closed-form parameter count of ``decoder_tensors`` (independent of the extractor)."""
    hd = head_dim or hidden // heads
    attention = 2 * heads * hd * hidden + 2 * kv_heads * hd * hidden
    attention += (heads * hd + 2 * kv_heads * hd) if qkv_bias else 0
    attention += 2 * hd if qk_norm else 0
    per_layer = attention + 3 * inter * hidden + (4 if extra_norms else 2) * hidden
    return vocab * hidden * (1 if tied else 2) + layers * per_layer + hidden


LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def quantize(tensors: dict, scheme: str, bits: int = 4, group: int = 128) -> dict:
    """Replace every decoder linear ``weight`` [out, in] with the scheme's packed tensors."""
    out: dict = {}
    per_int = 32 // bits
    for name, (dtype, shape) in tensors.items():
        module, _, leaf = name.rpartition(".")
        if leaf != "weight" or module.rsplit(".", 1)[-1] not in LINEARS:
            out[name] = (dtype, shape)
            continue
        rows, cols = shape  # out_features, in_features
        if scheme == "gptq":
            out[module + ".qweight"] = ("I32", (cols // per_int, rows))
            out[module + ".qzeros"] = ("I32", (cols // group, rows // per_int))
            out[module + ".scales"] = ("F16", (cols // group, rows))
            out[module + ".g_idx"] = ("I32", (cols,))
        elif scheme == "awq":
            out[module + ".qweight"] = ("I32", (cols, rows // per_int))
            out[module + ".qzeros"] = ("I32", (cols // group, rows // per_int))
            out[module + ".scales"] = ("F16", (cols // group, rows))
        elif scheme == "compressed-tensors":
            out[module + ".weight_packed"] = ("I32", (rows, cols // per_int))
            out[module + ".weight_scale"] = ("BF16", (rows, cols // group))
            out[module + ".weight_shape"] = ("I64", (2,))
        elif scheme == "exl2":  # mixed 4/8-bit rows: 1/8 + 1/32 of the input rows packed
            out[module + ".q_weight"] = ("I32", (cols // 8 + cols // 32, rows))
            out[module + ".q_scale"] = ("I32", (cols // group, rows // 8))
            out[module + ".q_scale_max"] = ("F16", (cols // group,))
            out[module + ".q_groups"] = ("I16", (2 * (cols // group),))
            out[module + ".q_invperm"] = ("I16", (cols,))
    return out
