"""Real public checkpoints: their config.json (copied from the Hub repository named on each) and
full-shape tensor lists built from it, so parameter totals can be checked against the published ones.

Tensors are ``{name: (dtype, shape)}`` (``support.sparse.write_checkpoint`` writes them as sparse
safetensors files); ``as_header`` turns them into the ``{name: {dtype, shape}}`` validation stores.
Each ``*_PARAMETERS`` is the closed-form count written out and the published total it must equal.
"""

from __future__ import annotations

import math
from typing import Any

from support.sparse import Tensors, decoder_tensors

Header = dict[str, dict[str, Any]]


def as_header(tensors: Tensors) -> Header:
    return {name: {"dtype": dtype, "shape": list(shape)} for name, (dtype, shape) in tensors.items()}


def parameters(tensors: Tensors) -> int:
    return sum(math.prod(shape) for _, shape in tensors.values())


# --- google/gemma-3-1b-it config.json (text only, model_type gemma3_text) -------------------------
GEMMA3_1B = {
    "architectures": ["Gemma3ForCausalLM"],
    "model_type": "gemma3_text",
    "hidden_size": 1152,
    "intermediate_size": 6912,
    "num_attention_heads": 4,
    "num_key_value_heads": 1,
    "head_dim": 256,
    "num_hidden_layers": 26,
    "vocab_size": 262144,
    "max_position_embeddings": 32768,
    "sliding_window": 512,
    "sliding_window_pattern": 6,
    "query_pre_attn_scalar": 256,
    "rope_scaling": None,
    "rope_theta": 1000000,
    "rope_local_base_freq": 10000,
    "torch_dtype": "bfloat16",
}
# 262,144 × 1,152 tied embeddings + 26 × (2·1024·1152 + 2·256·1152 + 3·6912·1152 + 4·1152 + 2·256) + 1152
GEMMA3_1B_PARAMETERS = 999_885_952  # published: 1B ("999,885,952 params" on the Hub)


def gemma3_1b_tensors() -> Tensors:
    return decoder_tensors(
        layers=26, hidden=1152, inter=6912, vocab=262144, heads=4, kv_heads=1, head_dim=256,
        tied=True, qk_norm=True, extra_norms=True,
    )  # fmt: skip


# --- google/gemma-3-27b-it config.json: text_config omits max_position_embeddings, num_attention_heads
# defaults … which transformers' Gemma3TextConfig fills in (131,072 context, 1024-token window, every
# 6th layer global)
GEMMA3_27B = {
    "architectures": ["Gemma3ForConditionalGeneration"],
    "model_type": "gemma3",
    "text_config": {
        "hidden_size": 5376,
        "intermediate_size": 21504,
        "model_type": "gemma3_text",
        "num_attention_heads": 32,
        "num_hidden_layers": 62,
        "num_key_value_heads": 16,
        "head_dim": 128,
        "query_pre_attn_scalar": 168,
        "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
        "sliding_window": 1024,
    },
    "vision_config": {
        "hidden_size": 1152,
        "image_size": 896,
        "intermediate_size": 4304,
        "model_type": "siglip_vision_model",
        "num_attention_heads": 16,
        "num_hidden_layers": 27,
        "patch_size": 14,
        "vision_use_head": False,
    },
    "mm_tokens_per_image": 256,
    "torch_dtype": "bfloat16",
}


def gemma3_27b_text_tensors() -> Tensors:
    """The language model of Gemma 3 27B (the vision tower is left out: planning needs the sizes)."""
    return decoder_tensors(
        layers=62, hidden=5376, inter=21504, vocab=262208, heads=32, kv_heads=16, head_dim=128,
        tied=True, qk_norm=True, extra_norms=True, prefix="language_model.model.",
    )  # fmt: skip


# --- tiiuae/falcon-7b config.json: multi-query attention, no max_position_embeddings key ----------
FALCON_7B = {
    "alibi": False,
    "apply_residual_connection_post_layernorm": False,
    "architectures": ["FalconForCausalLM"],
    "bias": False,
    "hidden_size": 4544,
    "layer_norm_epsilon": 1e-05,
    "model_type": "falcon",
    "multi_query": True,
    "new_decoder_architecture": False,
    "num_attention_heads": 71,
    "num_hidden_layers": 32,
    "parallel_attn": True,
    "torch_dtype": "bfloat16",
    "vocab_size": 65024,
}
# 65,024 × 4,544 tied + 32 × ((4544 + 2·64)·4544 + 4544² + 2·18176·4544 + 2·4544) + 2·4544
FALCON_7B_PARAMETERS = 6_921_720_704  # published: 6.92B


def falcon_7b_tensors() -> Tensors:
    hid, ffn = 4544, 4 * 4544
    out: Tensors = {"transformer.word_embeddings.weight": ("BF16", (65024, hid))}
    for i in range(32):
        p = f"transformer.h.{i}."
        out[p + "self_attention.query_key_value.weight"] = ("BF16", (hid + 2 * 64, hid))
        out[p + "self_attention.dense.weight"] = ("BF16", (hid, hid))
        out[p + "mlp.dense_h_to_4h.weight"] = ("BF16", (ffn, hid))
        out[p + "mlp.dense_4h_to_h.weight"] = ("BF16", (hid, ffn))
        out[p + "input_layernorm.weight"] = ("BF16", (hid,))
        out[p + "input_layernorm.bias"] = ("BF16", (hid,))
    out["transformer.ln_f.weight"] = ("BF16", (hid,))
    out["transformer.ln_f.bias"] = ("BF16", (hid,))
    return out


# --- CohereForAI/c4ai-command-r-v01 config.json: 8,192 positions but model_max_length 131,072 -----
COMMAND_R = {
    "architectures": ["CohereForCausalLM"],
    "model_type": "cohere",
    "hidden_size": 8192,
    "intermediate_size": 22528,
    "num_attention_heads": 64,
    "num_key_value_heads": 64,
    "num_hidden_layers": 40,
    "vocab_size": 256000,
    "max_position_embeddings": 8192,
    "model_max_length": 131072,
    "logit_scale": 0.0625,
    "use_qk_norm": False,
    "tie_word_embeddings": True,
    "torch_dtype": "float16",
}
# 256,000 × 8,192 tied + 40 × (4·8192² + 3·22528·8192 + 8192) + 8192 (one LayerNorm a layer)
COMMAND_R_PARAMETERS = 34_980_831_232  # published: 35B


def command_r_tensors() -> Tensors:
    hid, inter = 8192, 22528
    out: Tensors = {"model.embed_tokens.weight": ("F16", (256000, hid))}
    for i in range(40):
        p = f"model.layers.{i}."
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            out[f"{p}self_attn.{name}.weight"] = ("F16", (hid, hid))
        out[p + "mlp.gate_proj.weight"] = ("F16", (inter, hid))
        out[p + "mlp.up_proj.weight"] = ("F16", (inter, hid))
        out[p + "mlp.down_proj.weight"] = ("F16", (hid, inter))
        out[p + "input_layernorm.weight"] = ("F16", (hid,))
    out["model.norm.weight"] = ("F16", (hid,))
    return out


# --- Qwen/Qwen3-30B-A3B-FP8 config.json: 128 experts of 768, FP8 in 128×128 blocks ----------------
QWEN3_30B_A3B_FP8 = {
    "architectures": ["Qwen3MoeForCausalLM"],
    "model_type": "qwen3_moe",
    "hidden_size": 2048,
    "intermediate_size": 6144,
    "moe_intermediate_size": 768,
    "num_experts": 128,
    "num_experts_per_tok": 8,
    "num_attention_heads": 32,
    "num_key_value_heads": 4,
    "head_dim": 128,
    "num_hidden_layers": 48,
    "decoder_sparse_step": 1,
    "mlp_only_layers": [],
    "vocab_size": 151936,
    "max_position_embeddings": 40960,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "quantization_config": {
        "activation_scheme": "dynamic",
        "fmt": "e4m3",
        "quant_method": "fp8",
        "weight_block_size": [128, 128],
    },
}
# 2 × 151,936 × 2,048 + 48 × (2·4096·2048 + 2·512·2048 + 2·128 + 128·2048 + 128·3·768·2048 + 2·2048) + 2048
QWEN3_30B_A3B_PARAMETERS = 30_532_122_624  # published: 30.5B (Qwen/Qwen3-30B-A3B)


def _fp8_linear(out: Tensors, name: str, rows: int, cols: int) -> None:
    """One block-quantized FP8 linear: F8_E4M3 weight + one F32 inverse scale per 128×128 block."""
    out[f"{name}.weight"] = ("F8_E4M3", (rows, cols))
    out[f"{name}.weight_scale_inv"] = ("F32", (-(-rows // 128), -(-cols // 128)))


def qwen3_moe_fp8_tensors(cfg: dict[str, Any] = QWEN3_30B_A3B_FP8) -> Tensors:
    hid, moe, vocab = cfg["hidden_size"], cfg["moe_intermediate_size"], cfg["vocab_size"]
    heads, kv, hd, experts = (
        cfg[k] for k in ("num_attention_heads", "num_key_value_heads", "head_dim", "num_experts")
    )
    out: Tensors = {"model.embed_tokens.weight": ("BF16", (vocab, hid))}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        _fp8_linear(out, p + "self_attn.q_proj", heads * hd, hid)
        _fp8_linear(out, p + "self_attn.k_proj", kv * hd, hid)
        _fp8_linear(out, p + "self_attn.v_proj", kv * hd, hid)
        _fp8_linear(out, p + "self_attn.o_proj", hid, heads * hd)
        out[p + "self_attn.q_norm.weight"] = ("BF16", (hd,))
        out[p + "self_attn.k_norm.weight"] = ("BF16", (hd,))
        out[p + "mlp.gate.weight"] = ("BF16", (experts, hid))
        for e in range(experts):
            q = f"{p}mlp.experts.{e}."
            _fp8_linear(out, q + "gate_proj", moe, hid)
            _fp8_linear(out, q + "up_proj", moe, hid)
            _fp8_linear(out, q + "down_proj", hid, moe)
        out[p + "input_layernorm.weight"] = ("BF16", (hid,))
        out[p + "post_attention_layernorm.weight"] = ("BF16", (hid,))
    out["model.norm.weight"] = ("BF16", (hid,))
    out["lm_head.weight"] = ("BF16", (vocab, hid))
    return out


# --- Qwen/Qwen3-32B-FP8 config.json: dense, intermediate 25,600, FP8 in 128×128 blocks -------------
QWEN3_32B_FP8 = {
    "architectures": ["Qwen3ForCausalLM"],
    "model_type": "qwen3",
    "hidden_size": 5120,
    "intermediate_size": 25600,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "num_hidden_layers": 64,
    "vocab_size": 151936,
    "max_position_embeddings": 40960,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "quantization_config": {
        "activation_scheme": "dynamic",
        "fmt": "e4m3",
        "quant_method": "fp8",
        "weight_block_size": [128, 128],
    },
}
QWEN3_32B_PARAMETERS = 32_762_123_264  # published: 32.8B (Qwen/Qwen3-32B)


def qwen3_dense_fp8_tensors(cfg: dict[str, Any] = QWEN3_32B_FP8) -> Tensors:
    hid, inter, vocab = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    heads, kv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    out: Tensors = {"model.embed_tokens.weight": ("BF16", (vocab, hid))}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        _fp8_linear(out, p + "self_attn.q_proj", heads * hd, hid)
        _fp8_linear(out, p + "self_attn.k_proj", kv * hd, hid)
        _fp8_linear(out, p + "self_attn.v_proj", kv * hd, hid)
        _fp8_linear(out, p + "self_attn.o_proj", hid, heads * hd)
        out[p + "self_attn.q_norm.weight"] = ("BF16", (hd,))
        out[p + "self_attn.k_norm.weight"] = ("BF16", (hd,))
        _fp8_linear(out, p + "mlp.gate_proj", inter, hid)
        _fp8_linear(out, p + "mlp.up_proj", inter, hid)
        _fp8_linear(out, p + "mlp.down_proj", hid, inter)
        out[p + "input_layernorm.weight"] = ("BF16", (hid,))
        out[p + "post_attention_layernorm.weight"] = ("BF16", (hid,))
    out["model.norm.weight"] = ("BF16", (hid,))
    out["lm_head.weight"] = ("BF16", (vocab, hid))
    return out


# --- Qwen/Qwen2.5-3B-Instruct config.json: 16 heads, 2 KV heads (replicated above TP 2) -----------
QWEN25_3B = {
    "architectures": ["Qwen2ForCausalLM"],
    "model_type": "qwen2",
    "hidden_size": 2048,
    "intermediate_size": 11008,
    "num_attention_heads": 16,
    "num_key_value_heads": 2,
    "num_hidden_layers": 36,
    "vocab_size": 151936,
    "max_position_embeddings": 32768,
    "sliding_window": 32768,
    "use_sliding_window": False,
    "max_window_layers": 70,
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
}
QWEN25_3B_PARAMETERS = 3_085_938_688  # published: 3.09B
QWEN25_3B_DIMS = dict(
    layers=36, hidden=2048, inter=11008, vocab=151936, heads=16, kv_heads=2, tied=True, qkv_bias=True
)


# --- mistralai/Mistral-7B-Instruct-v0.3: HF shards + index, and consolidated.safetensors ---------
MISTRAL_7B_V03 = {
    "architectures": ["MistralForCausalLM"],
    "model_type": "mistral",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "num_hidden_layers": 32,
    "vocab_size": 32768,
    "max_position_embeddings": 32768,
    "sliding_window": None,
    "rope_theta": 1000000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}
MISTRAL_7B_V03_DIMS = dict(layers=32, hidden=4096, inter=14336, vocab=32768, heads=32, kv_heads=8)
MISTRAL_7B_V03_PARAMETERS = 7_248_023_552  # published: 7.25B


def mistral_consolidated_tensors() -> Tensors:
    """The same weights under Mistral's own names (``consolidated.safetensors``)."""
    hid, inter, vocab = 4096, 14336, 32768
    out: Tensors = {"tok_embeddings.weight": ("BF16", (vocab, hid))}
    for i in range(32):
        p = f"layers.{i}."
        out[p + "attention.wq.weight"] = ("BF16", (hid, hid))
        out[p + "attention.wk.weight"] = ("BF16", (1024, hid))
        out[p + "attention.wv.weight"] = ("BF16", (1024, hid))
        out[p + "attention.wo.weight"] = ("BF16", (hid, hid))
        out[p + "feed_forward.w1.weight"] = ("BF16", (inter, hid))
        out[p + "feed_forward.w2.weight"] = ("BF16", (hid, inter))
        out[p + "feed_forward.w3.weight"] = ("BF16", (inter, hid))
        out[p + "attention_norm.weight"] = ("BF16", (hid,))
        out[p + "ffn_norm.weight"] = ("BF16", (hid,))
    out["norm.weight"] = ("BF16", (hid,))
    out["output.weight"] = ("BF16", (vocab, hid))
    return out


# --- sentence-transformers/all-MiniLM-L6-v2: BERT encoder, max_seq_length 256 ---------------------
MINILM_L6 = {
    "architectures": ["BertModel"],
    "model_type": "bert",
    "hidden_size": 384,
    "intermediate_size": 1536,
    "num_attention_heads": 12,
    "num_hidden_layers": 6,
    "vocab_size": 30522,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "torch_dtype": "float32",
}
# embeddings 30,522·384 + 512·384 + 2·384 + LN 2·384; 6 × (3·(384²+384) + 384²+384 + 2·384 + 384·1536+1536
# + 1536·384+384 + 2·384); pooler 384²+384
MINILM_L6_PARAMETERS = 22_713_216  # published: 22.7M


def minilm_tensors() -> Tensors:
    h, f = 384, 1536
    out: Tensors = {
        "embeddings.word_embeddings.weight": ("F32", (30522, h)),
        "embeddings.position_embeddings.weight": ("F32", (512, h)),
        "embeddings.token_type_embeddings.weight": ("F32", (2, h)),
        "embeddings.LayerNorm.weight": ("F32", (h,)),
        "embeddings.LayerNorm.bias": ("F32", (h,)),
    }
    for i in range(6):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            out[f"{p}attention.self.{name}.weight"] = ("F32", (h, h))
            out[f"{p}attention.self.{name}.bias"] = ("F32", (h,))
        out[p + "attention.output.dense.weight"] = ("F32", (h, h))
        out[p + "attention.output.dense.bias"] = ("F32", (h,))
        out[p + "attention.output.LayerNorm.weight"] = ("F32", (h,))
        out[p + "attention.output.LayerNorm.bias"] = ("F32", (h,))
        out[p + "intermediate.dense.weight"] = ("F32", (f, h))
        out[p + "intermediate.dense.bias"] = ("F32", (f,))
        out[p + "output.dense.weight"] = ("F32", (h, f))
        out[p + "output.dense.bias"] = ("F32", (h,))
        out[p + "output.LayerNorm.weight"] = ("F32", (h,))
        out[p + "output.LayerNorm.bias"] = ("F32", (h,))
    out["pooler.dense.weight"] = ("F32", (h, h))
    out["pooler.dense.bias"] = ("F32", (h,))
    return out


# --- unsloth/gpt-oss-20b-BF16: gpt-oss with its experts in bf16 as fused 3-D tensors [E, …] -------
GPT_OSS_20B_BF16 = {
    "architectures": ["GptOssForCausalLM"],
    "model_type": "gpt_oss",
    "hidden_size": 2880,
    "intermediate_size": 2880,
    "head_dim": 64,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "num_hidden_layers": 24,
    "num_local_experts": 32,
    "num_experts_per_tok": 4,
    "experts_per_token": 4,
    "sliding_window": 128,
    "layer_types": ["sliding_attention", "full_attention"] * 12,
    "vocab_size": 201088,
    "max_position_embeddings": 131072,
    "rope_scaling": {"rope_type": "yarn", "factor": 32.0, "original_max_position_embeddings": 4096},
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}
GPT_OSS_20B_PARAMETERS = 20_914_757_184  # published: 20.9B (openai/gpt-oss-20b)


def gpt_oss_bf16_tensors(cfg: dict[str, Any] = GPT_OSS_20B_BF16) -> Tensors:
    hid, inter, vocab, hd = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["head_dim"]
    heads, kv, experts = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["num_local_experts"]
    out: Tensors = {"model.embed_tokens.weight": ("BF16", (vocab, hid))}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        for name, rows in (("q_proj", heads * hd), ("k_proj", kv * hd), ("v_proj", kv * hd)):
            out[f"{p}self_attn.{name}.weight"] = ("BF16", (rows, hid))
            out[f"{p}self_attn.{name}.bias"] = ("BF16", (rows,))
        out[p + "self_attn.o_proj.weight"] = ("BF16", (hid, heads * hd))
        out[p + "self_attn.o_proj.bias"] = ("BF16", (hid,))
        out[p + "self_attn.sinks"] = ("BF16", (heads,))
        out[p + "mlp.router.weight"] = ("BF16", (experts, hid))
        out[p + "mlp.router.bias"] = ("BF16", (experts,))
        out[p + "mlp.experts.gate_up_proj"] = ("BF16", (experts, hid, 2 * inter))
        out[p + "mlp.experts.gate_up_proj_bias"] = ("BF16", (experts, 2 * inter))
        out[p + "mlp.experts.down_proj"] = ("BF16", (experts, inter, hid))
        out[p + "mlp.experts.down_proj_bias"] = ("BF16", (experts, hid))
        out[p + "input_layernorm.weight"] = ("BF16", (hid,))
        out[p + "post_attention_layernorm.weight"] = ("BF16", (hid,))
    out["model.norm.weight"] = ("BF16", (hid,))
    out["lm_head.weight"] = ("BF16", (vocab, hid))
    return out
