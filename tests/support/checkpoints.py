"""Real checkpoints built by the tests: safetensors files with real config.json shapes."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

LLAMA_TINY_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "max_position_embeddings": 4096,
    "vocab_size": 256,
    "torch_dtype": "bfloat16",
}


def write_tiny_checkpoint(folder: Path) -> Path:
    """A two-layer llama-shaped model: config.json and model.safetensors (27,392 parameters)."""
    folder.mkdir(parents=True, exist_ok=True)
    hidden, inter, vocab = 64, 128, 256
    tensors = {"model.embed_tokens.weight": np.zeros((vocab, hidden), dtype=np.float16)}
    for layer in range(2):
        p = f"model.layers.{layer}."
        tensors[p + "self_attn.q_proj.weight"] = np.zeros((hidden, hidden), dtype=np.float16)
        tensors[p + "self_attn.k_proj.weight"] = np.zeros((hidden // 2, hidden), dtype=np.float16)
        tensors[p + "mlp.up_proj.weight"] = np.zeros((inter, hidden), dtype=np.float16)
    save_file(tensors, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(LLAMA_TINY_CONFIG))
    return folder


def tiny_parameter_count() -> int:
    hidden, inter, vocab = 64, 128, 256
    return vocab * hidden + 2 * (hidden * hidden + hidden // 2 * hidden + inter * hidden)


def write_many_tensor_safetensors(path: Path, count: int) -> Path:
    """A valid safetensors file whose header lists ``count`` one-element F32 tensors.

    Validation time grows with the header, which gives tests a model that stays ``validating``
    long enough to kill the process mid-validation.
    """
    header: dict[str, object] = {}
    for i in range(count):
        header[f"t{i}"] = {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]}
    raw = json.dumps(header, separators=(",", ":")).encode()
    with path.open("wb") as out:
        out.write(struct.pack("<Q", len(raw)))
        out.write(raw)
        out.write(b"\x00" * (4 * count))
    return path
