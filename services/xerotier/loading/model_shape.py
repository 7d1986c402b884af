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

from xerotier.checkpoint import config_fields, hf_config, quantization
from xerotier.domain.dtypes import DTYPE_BITS
from xerotier.errors import InvalidInput

FLOAT_DTYPES = frozenset({"F16", "BF16", "F32", "F64"})
#: Linear weights that runtime quantization converts; embeddings, heads and norms stay native.
_NOT_QUANTIZED = re.compile(r"(embed|lm_head|wte|wpe|norm|router|\.gate\.weight$)")


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
    num_attention_heads: int = 0
    hidden_size: int = 0
    intermediate_size: int = 0  # the dense MLP's
    vocab_size: int = 0
    weight_block: tuple[int, int] | None = None  # block-quantized FP8's [block_n, block_k]
    dense_mlp_layers: int = 0

    @property
    def is_moe(self) -> bool:
        return (self.num_experts or 0) > 1


def _int(doc: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = doc.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


text_config = config_fields.text_config  # the text sub-config of multimodal models (one rule)


def derive_context_length(cfg: dict[str, Any]) -> int | None:
    """vLLM's ``_get_and_verify_max_len``, the same derivation validation stores (one rule)."""
    return config_fields.context_length(cfg)[0]


def quantization_of(config: dict[str, Any]) -> tuple[str | None, float | None]:
    """The checkpoint's own quantization method and bits, as validation reads them."""
    found = quantization.from_configs(config, {})
    return found.method, found.bits


def weight_block_size(config: dict[str, Any]) -> tuple[int, int] | None:
    """Block-quantized FP8's ``[block_n, block_k]`` (``weight_block_size``, or compressed-tensors'
    ``strategy: block`` with ``block_structure``), else None."""
    qc = config.get("quantization_config") or config.get("compression_config")
    sub = config.get("text_config")
    if not isinstance(qc, dict) and isinstance(sub, dict):
        qc = sub.get("quantization_config")
    if not isinstance(qc, dict):
        return None
    block = qc.get("weight_block_size")
    if block is None:
        for group in (qc.get("config_groups") or {}).values():
            weights = group.get("weights") if isinstance(group, dict) else None
            if isinstance(weights, dict) and weights.get("strategy") == "block":
                block = weights.get("block_structure")
                break
    if isinstance(block, list) and len(block) == 2 and all(isinstance(b, int) and b > 0 for b in block):
        return block[0], block[1]
    return None


def sliding_layer_count(cfg: dict[str, Any], layers: int) -> int:
    """Layers with sliding-window attention: ``layer_types`` (transformers fills it for Gemma 2/3,
    gpt-oss …), else Gemma 3's ``sliding_window_pattern`` (every n-th layer global) or Gemma 2's
    alternation when the raw JSON is all there is."""
    window = _int(cfg, "sliding_window")
    if not window:
        return 0
    layer_types = cfg.get("layer_types")
    if isinstance(layer_types, list) and len(layer_types) == layers:
        return sum(1 for t in layer_types if t == "sliding_attention")
    kind = str(cfg.get("model_type") or "")
    pattern = _int(cfg, "sliding_window_pattern", "_sliding_window_pattern")
    if kind.startswith("gemma3") or (pattern and kind.startswith("gemma")):
        pattern = pattern or 6  # transformers' Gemma3TextConfig default
        return sum(1 for i in range(layers) if (i + 1) % pattern)
    if kind == "gemma2":
        return sum(1 for i in range(layers) if (i + 1) % 2)
    return 0


def _quantizable(name: str, shape: list[Any]) -> bool:
    """A linear weight runtime quantization converts: 2-D ``*.weight``, or a fused 3-D expert stack
    (``experts.gate_up_proj`` / ``experts.down_proj`` of shape [E, …], as Llama 4 and gpt-oss ship
    them: vLLM's FusedMoE quantizes those at load time too)."""
    if _NOT_QUANTIZED.search(name):
        return False
    if len(shape) == 2:
        return name.endswith("weight")
    return len(shape) == 3 and ".experts." in name and not name.endswith("bias")


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
            linear = _quantizable(name, shape)
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
    """Combine the registry's metadata columns (preferred), ``config.json`` and the tensor headers.

    The config is read as vLLM reads it (transformers' defaults filled in, ``hf_config.resolve``);
    KV heads, head size and context length come from the same functions validation stores.
    """
    cols = columns or {}
    resolved = hf_config.resolve(config or {})
    cfg = text_config(resolved)
    layers = _int(cfg, "num_hidden_layers", "n_layer", "num_layers")
    heads = _int(cfg, "num_attention_heads", "n_head")
    if layers is None or heads is None:
        raise InvalidInput(f"{name}: config.json does not give num_hidden_layers and num_attention_heads")
    weight_bytes, params, q_params, q_bytes = header_totals(headers)
    if weight_bytes == 0:
        raise InvalidInput(f"{name}: no safetensors tensor headers to size the weights")
    attention = config_fields.attention_shape(resolved)
    mla = attention.get("attention") == "mla"
    kv_heads = int(attention.get("numKeyValueHeads") or heads)
    head_dim = int(attention.get("headDim") or 0)
    if not head_dim:
        raise InvalidInput(f"{name}: config.json does not give the attention head size")
    sliding = sliding_layer_count(cfg, layers)
    window = _int(cfg, "sliding_window") or 0
    context = cols.get("context_length") or derive_context_length(resolved)
    if not context:
        raise InvalidInput(f"{name}: no context length in the metadata or config.json")
    method, bits = quantization_of(config or {})
    if cols.get("is_pre_quantized"):
        method = cols.get("pre_quantization_method") or method
        bits = cols.get("pre_quantization_bits") or bits
    experts = cols.get("num_experts") or config_fields.experts(resolved)[0]
    hidden = _int(cfg, "hidden_size", "n_embd", "d_model") or 0
    dense_inter = _int(cfg, "intermediate_size", "ffn_hidden_size", "n_inner") or 4 * hidden
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
        experts_per_tok=cols.get("num_experts_per_tok") or config_fields.experts(resolved)[1],
        moe_intermediate_size=_int(cfg, "moe_intermediate_size", "intermediate_size") if experts else None,
        pre_quant_method=method,
        pre_quant_bits=bits,
        dtype=str(cfg.get("torch_dtype") or cfg.get("dtype") or "") or None,
        num_attention_heads=heads,
        hidden_size=hidden,
        intermediate_size=dense_inter,
        vocab_size=_int(cfg, "vocab_size", "padded_vocab_size") or 0,
        weight_block=weight_block_size(config or {}),
        dense_mlp_layers=_dense_mlp_layers(cfg, layers, bool(experts and experts > 1)),
    )


def _dense_mlp_layers(cfg: dict[str, Any], layers: int, moe: bool) -> int:
    """Layers with a dense MLP: all of a dense model; DeepSeek's ``first_k_dense_replace`` of a MoE."""
    if not moe:
        return layers
    return _int(cfg, "first_k_dense_replace") or 0
