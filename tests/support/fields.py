"""The seed's metadata fields of an extraction, and what a plain checkpoint is expected to have."""

from __future__ import annotations

from pathlib import Path

SEED_FIELDS = (
    "format",
    "size_bytes",
    "architecture",
    "parameter_count",
    "context_length",
    "license",
    "is_multimodal",
    "default_temperature",
    "default_top_p",
    "chat_template",
    "is_pre_quantized",
    "pre_quantization_method",
    "pre_quantization_bits",
    "num_experts",
    "num_experts_per_tok",
    "suggested_workload_type",
)


def seed_fields(meta) -> dict:
    return {name: getattr(meta, name) for name in SEED_FIELDS}


def seed(folder: Path, **fields) -> dict:
    """Every seed field a plain text checkpoint has, overridden by ``fields``."""
    defaults = dict.fromkeys(SEED_FIELDS)
    defaults.update(
        format="safetensors",
        size_bytes=sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
        is_multimodal=False,
        is_pre_quantized=False,
        suggested_workload_type="chat",
    )
    return {**defaults, **fields}
