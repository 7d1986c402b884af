"""Real model shapes as config.json documents and safetensors headers ({tensor: {dtype, shape}}).

The headers are what validation stores for a checkpoint; no tensor data is needed to plan a load.
"""

from __future__ import annotations

from typing import Any

Header = dict[str, dict[str, Any]]

LLAMA31_8B = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "num_hidden_layers": 32,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "original_max_position_embeddings": 8192},
    "torch_dtype": "bfloat16",
}
LLAMA31_70B = {**LLAMA31_8B, "hidden_size": 8192, "intermediate_size": 28672, "num_attention_heads": 64}
LLAMA31_70B["num_hidden_layers"] = 80
MIXTRAL_8X7B = {
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "num_hidden_layers": 32,
    "num_local_experts": 8,
    "num_experts_per_tok": 2,
    "vocab_size": 32000,
    "max_position_embeddings": 32768,
    "torch_dtype": "bfloat16",
}
DEEPSEEK_V3 = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "deepseek_v3",
    "hidden_size": 7168,
    "intermediate_size": 18432,
    "moe_intermediate_size": 2048,
    "num_attention_heads": 128,
    "num_key_value_heads": 128,
    "num_hidden_layers": 61,
    "first_k_dense_replace": 3,
    "n_routed_experts": 256,
    "n_shared_experts": 1,
    "num_experts_per_tok": 8,
    "q_lora_rank": 1536,
    "kv_lora_rank": 512,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "v_head_dim": 128,
    "vocab_size": 129280,
    "max_position_embeddings": 163840,
    "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096},
    "quantization_config": {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]},
    "torch_dtype": "bfloat16",
}
GPT_OSS_20B = {
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
    "quantization_config": {"quant_method": "mxfp4"},
}


def _t(dtype: str, *shape: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": list(shape)}


def _linear(h: Header, name: str, out: int, inp: int, dtype: str, quant: str | None = None) -> None:
    """One Linear layer's tensors: plain, AWQ (GEMM packing) or GPTQ, 4-bit with group size 128."""
    if quant is None:
        h[f"{name}.weight"] = _t(dtype, out, inp)
    elif quant == "awq":
        h[f"{name}.qweight"] = _t("I32", inp, out // 8)
        h[f"{name}.qzeros"] = _t("I32", inp // 128, out // 8)
        h[f"{name}.scales"] = _t("F16", inp // 128, out)
    elif quant == "gptq":
        h[f"{name}.qweight"] = _t("I32", inp // 8, out)
        h[f"{name}.qzeros"] = _t("I32", inp // 128, out // 8)
        h[f"{name}.scales"] = _t("F16", inp // 128, out)
        h[f"{name}.g_idx"] = _t("I32", inp)
    elif quant == "fp8":  # DeepSeek block-wise fp8: one fp32 inverse scale per 128×128 block
        h[f"{name}.weight"] = _t("F8_E4M3", out, inp)
        h[f"{name}.weight_scale_inv"] = _t("F32", -(-out // 128), -(-inp // 128))


def llama_header(cfg: dict[str, Any], dtype: str = "BF16", quant: str | None = None) -> Header:
    """Llama/Mistral/Mixtral tensors (``num_local_experts`` gives the Mixtral sparse MoE block)."""
    hid, inter, vocab = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or hid // heads
    experts = cfg.get("num_local_experts")
    plain = "F16" if quant else dtype
    h: Header = {"model.embed_tokens.weight": _t(plain, vocab, hid)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        _linear(h, p + "self_attn.q_proj", heads * hd, hid, dtype, quant)
        _linear(h, p + "self_attn.k_proj", kv * hd, hid, dtype, quant)
        _linear(h, p + "self_attn.v_proj", kv * hd, hid, dtype, quant)
        _linear(h, p + "self_attn.o_proj", hid, heads * hd, dtype, quant)
        if experts:
            h[p + "block_sparse_moe.gate.weight"] = _t(dtype, experts, hid)
            for e in range(experts):
                q = f"{p}block_sparse_moe.experts.{e}."
                _linear(h, q + "w1", inter, hid, dtype, quant)
                _linear(h, q + "w2", hid, inter, dtype, quant)
                _linear(h, q + "w3", inter, hid, dtype, quant)
        else:
            _linear(h, p + "mlp.gate_proj", inter, hid, dtype, quant)
            _linear(h, p + "mlp.up_proj", inter, hid, dtype, quant)
            _linear(h, p + "mlp.down_proj", hid, inter, dtype, quant)
        h[p + "input_layernorm.weight"] = _t(plain, hid)
        h[p + "post_attention_layernorm.weight"] = _t(plain, hid)
    h["model.norm.weight"] = _t(plain, hid)
    h["lm_head.weight"] = _t(plain, vocab, hid)
    return h


def deepseek_v3_header(cfg: dict[str, Any] = DEEPSEEK_V3) -> Header:
    """DeepSeek-V3's 61 layers in block-wise fp8 (MLA attention, 3 dense then 256 routed experts)."""
    hid, vocab, heads = cfg["hidden_size"], cfg["vocab_size"], cfg["num_attention_heads"]
    qr, kvr, rope = cfg["q_lora_rank"], cfg["kv_lora_rank"], cfg["qk_rope_head_dim"]
    qk = cfg["qk_nope_head_dim"] + rope
    h: Header = {"model.embed_tokens.weight": _t("BF16", vocab, hid)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        _linear(h, p + "self_attn.q_a_proj", qr, hid, "", "fp8")
        h[p + "self_attn.q_a_layernorm.weight"] = _t("BF16", qr)
        _linear(h, p + "self_attn.q_b_proj", heads * qk, qr, "", "fp8")
        _linear(h, p + "self_attn.kv_a_proj_with_mqa", kvr + rope, hid, "", "fp8")
        h[p + "self_attn.kv_a_layernorm.weight"] = _t("BF16", kvr)
        _linear(
            h,
            p + "self_attn.kv_b_proj",
            heads * (cfg["qk_nope_head_dim"] + cfg["v_head_dim"]),
            kvr,
            "",
            "fp8",
        )
        _linear(h, p + "self_attn.o_proj", hid, heads * cfg["v_head_dim"], "", "fp8")
        mlps = [("mlp.", cfg["intermediate_size"])]
        if i >= cfg["first_k_dense_replace"]:
            h[p + "mlp.gate.weight"] = _t("BF16", cfg["n_routed_experts"], hid)
            h[p + "mlp.gate.e_score_correction_bias"] = _t("F32", cfg["n_routed_experts"])
            inter = cfg["moe_intermediate_size"]
            mlps = [(f"mlp.experts.{e}.", inter) for e in range(cfg["n_routed_experts"])]
            mlps.append(("mlp.shared_experts.", inter * cfg["n_shared_experts"]))
        for prefix, inter in mlps:
            _linear(h, p + prefix + "gate_proj", inter, hid, "", "fp8")
            _linear(h, p + prefix + "up_proj", inter, hid, "", "fp8")
            _linear(h, p + prefix + "down_proj", hid, inter, "", "fp8")
        h[p + "input_layernorm.weight"] = _t("BF16", hid)
        h[p + "post_attention_layernorm.weight"] = _t("BF16", hid)
    h["model.norm.weight"] = _t("BF16", hid)
    h["lm_head.weight"] = _t("BF16", vocab, hid)
    return h


def gpt_oss_header(cfg: dict[str, Any] = GPT_OSS_20B) -> Header:
    """gpt-oss: BF16 attention, MXFP4 experts (U8 blocks of 32 values in 16 bytes + U8 scales)."""
    hid, inter, vocab, hd = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["head_dim"]
    heads, kv, experts = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["num_local_experts"]
    h: Header = {"model.embed_tokens.weight": _t("BF16", vocab, hid)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        for name, out, inp in (
            ("q_proj", heads * hd, hid),
            ("k_proj", kv * hd, hid),
            ("v_proj", kv * hd, hid),
        ):
            h[f"{p}self_attn.{name}.weight"] = _t("BF16", out, inp)
            h[f"{p}self_attn.{name}.bias"] = _t("BF16", out)
        h[p + "self_attn.o_proj.weight"] = _t("BF16", hid, heads * hd)
        h[p + "self_attn.o_proj.bias"] = _t("BF16", hid)
        h[p + "self_attn.sinks"] = _t("BF16", heads)
        h[p + "mlp.router.weight"] = _t("BF16", experts, hid)
        h[p + "mlp.router.bias"] = _t("BF16", experts)
        h[p + "mlp.experts.gate_up_proj_blocks"] = _t("U8", experts, 2 * inter, hid // 32, 16)
        h[p + "mlp.experts.gate_up_proj_scales"] = _t("U8", experts, 2 * inter, hid // 32)
        h[p + "mlp.experts.gate_up_proj_bias"] = _t("BF16", experts, 2 * inter)
        h[p + "mlp.experts.down_proj_blocks"] = _t("U8", experts, hid, inter // 32, 16)
        h[p + "mlp.experts.down_proj_scales"] = _t("U8", experts, hid, inter // 32)
        h[p + "mlp.experts.down_proj_bias"] = _t("BF16", experts, hid)
        h[p + "input_layernorm.weight"] = _t("BF16", hid)
        h[p + "post_attention_layernorm.weight"] = _t("BF16", hid)
    h["model.norm.weight"] = _t("BF16", hid)
    h["lm_head.weight"] = _t("BF16", vocab, hid)
    return h
