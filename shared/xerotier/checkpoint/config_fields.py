"""Fields derived from ``config.json``: family, context length, MoE, multimodal, attention shape (pure)."""

from __future__ import annotations

import math
from typing import Any

from xerotier.checkpoint import families as fam
from xerotier.errors import ValidationFailed


def _positive_int(value: object) -> int | None:
    return value if type(value) is int and value > 0 else None


def _number(value: object) -> float | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer past the float range
        return math.inf


def text_config(config: dict[str, Any]) -> dict[str, Any]:
    """The text model's config: the nested one of multimodal models over the top level (vLLM)."""
    for key in fam.TEXT_CONFIG_KEYS:
        nested = config.get(key)
        if isinstance(nested, dict) and nested:
            return {**config, **nested}
    return config


def model_type(config: dict[str, Any]) -> str | None:
    value = config.get("model_type")
    return value if isinstance(value, str) and value else None


def architectures(config: dict[str, Any]) -> list[str]:
    value = config.get("architectures")
    return [a for a in value if isinstance(a, str)] if isinstance(value, list) else []


def family(config: dict[str, Any]) -> str | None:
    """The seed's lower-case family: table first, then architecture prefix, then the raw model_type."""
    kind = model_type(config)
    if kind and kind.lower() in fam.FAMILY_BY_MODEL_TYPE:
        return fam.FAMILY_BY_MODEL_TYPE[kind.lower()]
    for arch in architectures(config):
        for prefix, name in fam.FAMILY_BY_ARCHITECTURE_PREFIX:
            if arch.startswith(prefix):
                return name
    return kind.lower().replace("_", "-")[:64] if kind else None


def _rope_entries(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Rope dicts: ``rope_parameters`` (transformers v5, maybe per layer type) or ``rope_scaling``."""
    rope = cfg.get("rope_parameters") or cfg.get("rope_scaling")
    if not isinstance(rope, dict) or not rope:
        return []
    if all(isinstance(v, dict) for v in rope.values()):
        return list(rope.values())
    return [rope]


def context_length(config: dict[str, Any], encoder_max: int | None = None) -> tuple[int | None, int | None]:
    """(derived context length, default serve length if it differs), vLLM ``_get_and_verify_max_len``."""
    cfg = text_config(config)
    found = [n for n in (_positive_int(cfg.get(k)) for k in fam.CONTEXT_KEYS) if n is not None]
    if not found:
        return (encoder_max, None) if encoder_max else (None, None)
    derived: float = min(found)
    if _positive_int(cfg.get("model_max_length")):
        derived = cfg["model_max_length"]  # Cohere override (same function)
    serve: int | None = None
    kind = (model_type(cfg) or "").lower()
    entries = _rope_entries(cfg)
    if entries and not any(skip in kind for skip in fam.ROPE_SCALING_SKIPPED):
        factor = 1.0
        for rope in entries:
            rope_type = str(rope.get("rope_type") or rope.get("type") or "default").lower()
            if rope_type in fam.ROPE_TYPES_WITHOUT_FACTOR:
                if rope_type in ("longrope", "su"):
                    serve = _positive_int(cfg.get("original_max_position_embeddings"))
                continue
            factor = _number(rope.get("factor")) or factor
            if rope_type == "yarn":
                original = _positive_int(rope.get("original_max_position_embeddings"))
                derived = original or derived
        derived *= factor
    if encoder_max:  # sentence-transformers max_seq_length wins (vLLM encoder_config)
        derived = encoder_max
    if not math.isfinite(derived):
        raise ValidationFailed(
            "config.json: field rope_scaling.factor: the context length it gives is not a finite number"
        )
    result = int(derived)
    return result, (serve if serve and serve != result else None)


def _first(cfg: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = _positive_int(cfg.get(key))
        if value is not None:
            return value
    return None


def experts(config: dict[str, Any]) -> tuple[int | None, int | None]:
    """(numExperts, numExpertsPerTok); both None for dense models."""
    cfg = text_config(config)
    total = _first(cfg, fam.NUM_EXPERTS_KEYS)
    per_token = _first(cfg, fam.EXPERTS_PER_TOKEN_KEYS)
    if total is None or total < 2:
        return None, None
    return total, per_token


def is_multimodal(config: dict[str, Any]) -> bool:
    if any(a in fam.MULTIMODAL_ARCHITECTURES for a in architectures(config)):
        return True
    kind = (model_type(config) or "").lower()
    if kind in fam.MULTIMODAL_MODEL_TYPES:
        return True
    return any(config.get(k) for k in fam.MULTIMODAL_KEYS)


def attention_shape(config: dict[str, Any]) -> dict[str, Any]:
    """Layers, heads, KV heads and head dim as vLLM sizes them (``get_head_size``; loading.md §2)."""
    cfg = text_config(config)
    out: dict[str, Any] = {}
    layers = _positive_int(cfg.get("num_hidden_layers"))
    heads = _positive_int(cfg.get("num_attention_heads"))
    hidden = _positive_int(cfg.get("hidden_size"))
    if layers:
        out["numHiddenLayers"] = layers
    if hidden:
        out["hiddenSize"] = hidden
    if heads:
        out["numAttentionHeads"] = heads
    kv_lora, rope_dim = _positive_int(cfg.get("kv_lora_rank")), _positive_int(cfg.get("qk_rope_head_dim"))
    if kv_lora and rope_dim:  # DeepSeek MLA: one latent KV head of kv_lora_rank + qk_rope_head_dim
        out.update(attention="mla", numKeyValueHeads=1, headDim=kv_lora + rope_dim)
        return out
    kv_heads = _kv_heads(cfg) or heads
    if kv_heads:
        out["numKeyValueHeads"] = kv_heads
    head_dim = _positive_int(cfg.get("head_dim")) or _positive_int(cfg.get("hidden_size_per_head"))
    if head_dim is None and hidden and heads:
        head_dim = hidden // heads
    if head_dim:
        out["headDim"] = head_dim
    return out


#: Falcon's model types (vLLM ``get_total_num_kv_heads``): only the new decoder has several KV heads.
FALCON_MODEL_TYPES = frozenset({"falcon", "RefinedWeb", "RefinedWebModel"})


def _kv_heads(cfg: dict[str, Any]) -> int | None:
    """vLLM ``get_total_num_kv_heads``: multi-query attention (Falcon's old decoder, GPT-BigCode) has
    one KV head whatever ``num_kv_heads`` says; then MPT/DBRX ``attn_config.kv_n_heads``; then the keys."""
    new_falcon = model_type(cfg) in FALCON_MODEL_TYPES and bool(cfg.get("new_decoder_architecture"))
    if not new_falcon and cfg.get("multi_query") is True:
        return 1
    attn = cfg.get("attn_config")
    if isinstance(attn, dict) and _positive_int(attn.get("kv_n_heads")):
        return attn["kv_n_heads"]
    return _first(cfg, fam.KV_HEAD_KEYS)


def torch_dtype(config: dict[str, Any]) -> str | None:
    for cfg in (config, text_config(config)):
        value = cfg.get("dtype") or cfg.get("torch_dtype")
        if isinstance(value, str):
            return value
    return None
