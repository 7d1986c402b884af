"""The load-relevant shape of a model, from its metadata, config.json and tensor headers (pure).

Follows vLLM's readings (reference/loading.md §1–§4): the text sub-config of multimodal models,
an explicit ``head_dim`` before ``hidden_size / num_attention_heads``, DeepSeek's MLA latent
(``kv_lora_rank + qk_rope_head_dim``, one KV head), and the experts keys of each family.
Weights are counted in bytes exactly from the safetensors headers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from xerotier.domain.dtypes import DTYPE_BITS
from xerotier.errors import InvalidInput

FLOAT_DTYPES = frozenset({"F16", "BF16", "F32", "F64"})
#: Linear weights that runtime quantization converts; embeddings, heads and norms stay native.
_NOT_QUANTIZED = re.compile(r"(embed|lm_head|wte|wpe|norm|router|\.gate\.weight$)")
CONTEXT_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "seq_length",
    "model_max_length",
    "max_target_positions",
    "max_sequence_length",
    "max_seq_length",
    "seq_len",
)
EXPERT_KEYS = ("num_experts", "moe_num_experts", "n_routed_experts", "num_local_experts")
EXPERT_TOK_KEYS = ("num_experts_per_tok", "num_experts_per_token", "experts_per_token", "moe_topk")


@dataclass(frozen=True)
class ModelShape:
    """What the planner needs to know about one model version."""

    name: str
    weight_bytes: int
    parameter_count: int
    quantizable_params: int  # elements of the linear weights runtime quantization converts
    quantizable_bytes: int  # their native bytes
    num_layers: int
    kv_heads: int
    head_dim: int
    is_mla: bool
    context_length: int
    full_attention_layers: int
    sliding_layers: int = 0
    sliding_window: int = 0
    num_experts: int | None = None
    experts_per_tok: int | None = None
    moe_intermediate_size: int | None = None
    pre_quant_method: str | None = None
    pre_quant_bits: float | None = None
    dtype: str | None = None

    @property
    def is_moe(self) -> bool:
        return (self.num_experts or 0) > 1


def _int(doc: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = doc.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def text_config(config: dict[str, Any]) -> dict[str, Any]:
    """The text sub-config (multimodal models), with top-level keys as fallbacks."""
    sub = config.get("text_config")
    return {**config, **sub} if isinstance(sub, dict) else config


def derive_context_length(cfg: dict[str, Any]) -> int | None:
    """vLLM's derivation: the smallest context key, then the rope factor (not for llama3/longrope/su)."""
    found = [v for k in CONTEXT_KEYS if (v := _int(cfg, k)) is not None]
    if not found:
        return None
    derived = float(min(found))
    rope = cfg.get("rope_scaling") or cfg.get("rope_parameters")
    if isinstance(rope, dict) and "gemma3" not in str(cfg.get("model_type", "")):
        kind = str(rope.get("rope_type") or rope.get("type") or "")
        factor = rope.get("factor")
        if kind not in ("su", "longrope", "llama3") and isinstance(factor, int | float) and factor > 0:
            if kind == "yarn" and _int(rope, "original_max_position_embeddings"):
                derived = float(rope["original_max_position_embeddings"])
            derived *= factor
    return int(derived)


def quantization_of(config: dict[str, Any]) -> tuple[str | None, float | None]:
    """The checkpoint's own quantization method and bits, from ``quantization_config``."""
    qc = config.get("quantization_config") or config.get("compression_config")
    sub = config.get("text_config")
    if qc is None and isinstance(sub, dict):
        qc = sub.get("quantization_config")
    if not isinstance(qc, dict):
        return None, None
    method = str(qc.get("quant_method") or "").lower().replace("compressed_tensors", "compressed-tensors")
    bits = qc.get("bits") or qc.get("w_bit")
    if method == "fp8":
        bits = 8
    elif method == "mxfp4":
        bits = 4
    elif method == "compressed-tensors":
        groups = qc.get("config_groups") or {}
        found = [g.get("weights", {}).get("num_bits") for g in groups.values() if isinstance(g, dict)]
        found = [b for b in found if isinstance(b, int | float)]
        bits = max(found) if found else None
    return method or None, float(bits) if isinstance(bits, int | float) else None


def header_totals(headers: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    """(weight bytes, parameters, quantizable parameters, their bytes) from ``{tensor: {dtype, shape}}``."""
    weight_bits = params = q_params = q_bits = 0
    for header in headers:
        for name, info in header.items():
            if name == "__metadata__" or not isinstance(info, dict):
                continue
            dtype = str(info.get("dtype", "")).upper()
            bits = DTYPE_BITS.get(dtype)
            if bits is None:
                raise InvalidInput(f"tensor {name}: unknown dtype {dtype!r}")
            shape = info.get("shape") or []
            numel = math.prod(int(d) for d in shape)
            weight_bits += int(numel * bits)
            params += numel
            linear = len(shape) == 2 and name.endswith("weight") and not _NOT_QUANTIZED.search(name)
            if dtype in FLOAT_DTYPES and linear:
                q_params += numel
                q_bits += int(numel * bits)
    return weight_bits // 8, params, q_params, q_bits // 8


def model_shape(
    name: str,
    config: dict[str, Any] | None,
    headers: list[dict[str, Any]],
    columns: dict[str, Any] | None = None,
) -> ModelShape:
    """Combine the registry's metadata columns (preferred), ``config.json`` and the tensor headers."""
    cols = columns or {}
    cfg = text_config(config or {})
    layers = _int(cfg, "num_hidden_layers", "n_layer", "num_layers")
    heads = _int(cfg, "num_attention_heads", "n_head")
    if layers is None or heads is None:
        raise InvalidInput(f"{name}: config.json does not give num_hidden_layers and num_attention_heads")
    weight_bytes, params, q_params, q_bytes = header_totals(headers)
    if weight_bytes == 0:
        raise InvalidInput(f"{name}: no safetensors tensor headers to size the weights")
    kv_lora = _int(cfg, "kv_lora_rank")
    if kv_lora is not None:  # DeepSeek MLA: one latent "head" of kv_lora_rank + rope dims
        kv_heads, head_dim, mla = 1, kv_lora + (_int(cfg, "qk_rope_head_dim") or 0), True
    else:
        kv_heads = _int(cfg, "num_key_value_heads", "n_head_kv", "num_kv_heads", "multi_query_group_num")
        kv_heads = kv_heads or (1 if cfg.get("multi_query") else heads)
        hidden = _int(cfg, "hidden_size", "n_embd", "d_model") or 0
        head_dim, mla = _int(cfg, "head_dim", "hidden_size_per_head") or hidden // heads, False
    layer_types = cfg.get("layer_types")
    window = _int(cfg, "sliding_window") or 0
    sliding = 0
    if isinstance(layer_types, list) and window and len(layer_types) == layers:
        sliding = sum(1 for t in layer_types if t == "sliding_attention")
    context = cols.get("context_length") or derive_context_length(cfg)
    if not context:
        raise InvalidInput(f"{name}: no context length in the metadata or config.json")
    method, bits = quantization_of(config or {})
    if cols.get("is_pre_quantized"):
        method = cols.get("pre_quantization_method") or method
        bits = cols.get("pre_quantization_bits") or bits
    experts = cols.get("num_experts") or _int(cfg, *EXPERT_KEYS)
    return ModelShape(
        name=name,
        weight_bytes=weight_bytes,
        parameter_count=params,
        quantizable_params=q_params,
        quantizable_bytes=q_bytes,
        num_layers=layers,
        kv_heads=kv_heads,
        head_dim=head_dim,
        is_mla=mla,
        context_length=int(context),
        full_attention_layers=layers - sliding,
        sliding_layers=sliding,
        sliding_window=window if sliding else 0,
        num_experts=experts,
        experts_per_tok=cols.get("num_experts_per_tok") or _int(cfg, *EXPERT_TOK_KEYS),
        moe_intermediate_size=_int(cfg, "moe_intermediate_size", "intermediate_size") if experts else None,
        pre_quant_method=method,
        pre_quant_bits=bits,
        dtype=str(cfg.get("torch_dtype") or cfg.get("dtype") or "") or None,
    )
