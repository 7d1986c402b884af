"""A Hugging Face-style checkpoint folder as `save_pretrained` plus sentence-transformers write it."""

from __future__ import annotations

import json
from pathlib import Path

from support.checkpoints import write_tiny_checkpoint


def write_hf_folder(folder: Path) -> Path:
    """config.json, model.safetensors, tokenizer files and a nested ``1_Pooling/config.json``."""
    write_tiny_checkpoint(folder)
    vocab = {f"t{i}": i for i in range(256)}
    tokenizer = {"version": "1.0", "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "t0"}}
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"model_max_length": 4096, "chat_template": "{{ messages }}"})
    )
    (folder / "special_tokens_map.json").write_text(json.dumps({"unk_token": "t0"}))
    (folder / "generation_config.json").write_text(json.dumps({"temperature": 0.7, "top_p": 0.9}))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 64, "pooling_mode_mean_tokens": True})
    )
    return folder
