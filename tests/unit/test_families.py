"""Real-shaped checkpoints of every family in issue 4 (sparse files: full-size headers, no data).

Configs carry the real models' values; parameter counts are checked against closed-form counts of the
architecture, computed here independently of the extractor.
"""

from __future__ import annotations

from pathlib import Path

from support.configs import LLAMA31_8B, LLAMA_DIMS
from support.fields import seed, seed_fields
from support.sparse import decoder_parameters, decoder_tensors, file_refs, open_local, write_checkpoint
from xerotier.validation.inspect import inspect_checkpoint
from xerotier.validation.metadata import EXTRACTOR_VERSION

LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
QWEN3_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message.role }}\n"
    "{{ message.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% if enable_thinking is defined and "
    "enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}{% endif %}"
)


def card(license_: str, *extra: str) -> str:
    return "---\nlicense: " + license_ + "\n" + "\n".join(extra) + "\n---\n# Model card\n"


def inspect(folder: Path, fmt: str | None = None, name: str = ""):
    return inspect_checkpoint(file_refs(folder), open_local, fmt, name).metadata


def test_llama_3_1_8b_instruct(tmp_path):
    folder = write_checkpoint(
        tmp_path / "llama",
        LLAMA31_8B,
        decoder_tensors(**LLAMA_DIMS),
        shards=4,
        files={
            "generation_config.json": {"do_sample": True, "temperature": 0.6, "top_p": 0.9},
            "tokenizer_config.json": {"chat_template": LLAMA3_TEMPLATE, "model_max_length": 131072},
            "README.md": card("llama3.1", "language: [en, de, fr, it, pt, hi, es, th]"),
        },
    )
    meta = inspect(folder, name="Meta-Llama-3.1-8B-Instruct")
    assert meta.architecture == "llama"
    assert meta.parameter_count == decoder_parameters(**LLAMA_DIMS)
    assert meta.context_length == 131072  # llama3 rope: the factor is already included
    assert meta.license == "llama3.1"
    assert (meta.default_temperature, meta.default_top_p) == (0.6, 0.9)
    assert meta.chat_template == LLAMA3_TEMPLATE
    assert meta.is_multimodal is False and meta.is_pre_quantized is False
    assert (meta.num_experts, meta.num_experts_per_tok) == (None, None)
    assert meta.suggested_workload_type == "chat"
    assert meta.format == "safetensors"
    assert meta.size_bytes == sum(p.stat().st_size for p in folder.iterdir())
    assert meta.extra["modelType"] == "llama" and meta.extra["architectures"] == ["LlamaForCausalLM"]
    assert meta.extra["headDim"] == 128 and meta.extra["numKeyValueHeads"] == 8
    assert "disagreements" not in meta.extra
    assert EXTRACTOR_VERSION >= 2
    assert seed_fields(meta) == seed(
        folder,
        architecture="llama",
        parameter_count=decoder_parameters(**LLAMA_DIMS),
        context_length=131072,
        license="llama3.1",
        default_temperature=0.6,
        default_top_p=0.9,
        chat_template=LLAMA3_TEMPLATE,
    )


QWEN25_DIMS = {"layers": 28, "hidden": 3584, "inter": 18944, "vocab": 152064, "heads": 28, "kv_heads": 4}


def test_qwen2_5_7b_instruct(tmp_path):
    config = {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "hidden_size": 3584,
        "intermediate_size": 18944,
        "num_attention_heads": 28,
        "num_key_value_heads": 4,
        "num_hidden_layers": 28,
        "max_position_embeddings": 32768,
        "sliding_window": 131072,
        "use_sliding_window": False,
        "max_window_layers": 28,
        "rope_scaling": None,
        "vocab_size": 152064,
        "tie_word_embeddings": False,
    }
    folder = write_checkpoint(
        tmp_path / "qwen",
        config,
        decoder_tensors(**QWEN25_DIMS, qkv_bias=True),
        shards=4,
        files={
            "generation_config.json": {"temperature": 0.7, "top_p": 0.8, "top_k": 20},
            "README.md": card("apache-2.0", "language: [en]"),
        },
    )
    meta = inspect(folder, name="Qwen2.5-7B-Instruct")
    assert meta.architecture == "qwen"
    assert meta.parameter_count == decoder_parameters(**QWEN25_DIMS, qkv_bias=True)
    assert meta.context_length == 32768  # the sliding window does not cap
    assert meta.license == "apache-2.0"
    assert (meta.default_temperature, meta.default_top_p) == (0.7, 0.8)
    assert meta.extra["modelType"] == "qwen2"
    assert seed_fields(meta) == seed(
        folder,
        architecture="qwen",
        parameter_count=decoder_parameters(**QWEN25_DIMS, qkv_bias=True),
        context_length=32768,
        license="apache-2.0",
        default_temperature=0.7,
        default_top_p=0.8,
    )


def test_mistral_7b_instruct_v0_3(tmp_path):
    dims = {"layers": 32, "hidden": 4096, "inter": 14336, "vocab": 32768, "heads": 32, "kv_heads": 8}
    config = {
        "architectures": ["MistralForCausalLM"],
        "model_type": "mistral",
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "num_hidden_layers": 32,
        "max_position_embeddings": 32768,
        "sliding_window": None,
        "rope_theta": 1000000.0,
        "vocab_size": 32768,
    }
    folder = write_checkpoint(tmp_path / "mistral", config, decoder_tensors(**dims), shards=3)
    meta = inspect(folder)
    assert meta.architecture == "mistral"
    assert meta.parameter_count == decoder_parameters(**dims)
    assert meta.context_length == 32768
    assert meta.license is None  # no model card: unknown, not "none"
    assert seed_fields(meta) == seed(
        folder, architecture="mistral", parameter_count=decoder_parameters(**dims), context_length=32768
    )


def moe_tensors(layers, hidden, moe_inter, experts, heads, kv_heads, vocab, head_dim=None, style="mixtral"):
    hd = head_dim or hidden // heads
    out = decoder_tensors(
        layers=layers,
        hidden=hidden,
        inter=1,
        vocab=vocab,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        qk_norm=style == "qwen3",
    )
    for i in range(layers):
        p = f"model.layers.{i}."
        for leaf in ("gate_proj", "up_proj", "down_proj"):
            del out[p + f"mlp.{leaf}.weight"]
        if style == "mixtral":
            out[p + "block_sparse_moe.gate.weight"] = ("BF16", (experts, hidden))
            for e in range(experts):
                q = p + f"block_sparse_moe.experts.{e}."
                out[q + "w1.weight"] = ("BF16", (moe_inter, hidden))
                out[q + "w2.weight"] = ("BF16", (hidden, moe_inter))
                out[q + "w3.weight"] = ("BF16", (moe_inter, hidden))
        else:
            out[p + "mlp.gate.weight"] = ("BF16", (experts, hidden))
            for e in range(experts):
                q = p + f"mlp.experts.{e}."
                out[q + "gate_proj.weight"] = ("BF16", (moe_inter, hidden))
                out[q + "up_proj.weight"] = ("BF16", (moe_inter, hidden))
                out[q + "down_proj.weight"] = ("BF16", (hidden, moe_inter))
        assert hd
    return out


def moe_parameters(layers, hidden, moe_inter, experts, heads, kv_heads, vocab, head_dim=None, qk_norm=False):
    hd = head_dim or hidden // heads
    attention = 2 * heads * hd * hidden + 2 * kv_heads * hd * hidden + (2 * hd if qk_norm else 0)
    per_layer = attention + experts * hidden + experts * 3 * moe_inter * hidden + 2 * hidden
    return 2 * vocab * hidden + layers * per_layer + hidden


def test_mixtral_8x7b(tmp_path):
    config = {
        "architectures": ["MixtralForCausalLM"],
        "model_type": "mixtral",
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "num_hidden_layers": 32,
        "max_position_embeddings": 32768,
        "num_local_experts": 8,
        "num_experts_per_tok": 2,
        "router_aux_loss_coef": 0.02,
        "vocab_size": 32000,
    }
    args = (32, 4096, 14336, 8, 32, 8, 32000)
    folder = write_checkpoint(
        tmp_path / "mixtral", config, moe_tensors(*args), shards=19, files={"README.md": card("apache-2.0")}
    )
    meta = inspect(folder)
    assert meta.architecture == "mixtral"
    assert (meta.num_experts, meta.num_experts_per_tok) == (8, 2)
    assert meta.parameter_count == moe_parameters(*args)
    assert 46_000_000_000 < meta.parameter_count < 47_000_000_000  # the published 46.7B
    assert meta.context_length == 32768
    assert seed_fields(meta) == seed(
        folder,
        architecture="mixtral",
        parameter_count=moe_parameters(*args),
        context_length=32768,
        license="apache-2.0",
        num_experts=8,
        num_experts_per_tok=2,
    )


def test_qwen3_30b_a3b_moe_with_explicit_head_dim(tmp_path):
    config = {
        "architectures": ["Qwen3MoeForCausalLM"],
        "model_type": "qwen3_moe",
        "hidden_size": 2048,
        "num_attention_heads": 32,
        "num_key_value_heads": 4,
        "head_dim": 128,
        "num_hidden_layers": 48,
        "moe_intermediate_size": 768,
        "num_experts": 128,
        "num_experts_per_tok": 8,
        "norm_topk_prob": True,
        "max_position_embeddings": 40960,
        "rope_scaling": None,
        "vocab_size": 151936,
        "tie_word_embeddings": False,
    }
    args = (48, 2048, 768, 128, 32, 4, 151936, 128)
    folder = write_checkpoint(
        tmp_path / "qwen3moe",
        config,
        moe_tensors(*args, style="qwen3"),
        shards=16,
        files={"tokenizer_config.json": {"chat_template": QWEN3_TEMPLATE}, "README.md": card("apache-2.0")},
    )
    meta = inspect(folder, name="Qwen3-30B-A3B")
    assert meta.architecture == "qwen"
    assert (meta.num_experts, meta.num_experts_per_tok) == (128, 8)
    assert meta.extra["headDim"] == 128  # explicit head_dim, not 2048 / 32 = 64
    assert meta.parameter_count == moe_parameters(*args, qk_norm=True)
    assert 30_000_000_000 < meta.parameter_count < 31_000_000_000
    assert meta.context_length == 40960
    assert meta.suggested_workload_type == "reasoning"  # its template has <think>
    assert seed_fields(meta) == seed(
        folder,
        architecture="qwen",
        parameter_count=moe_parameters(*args, qk_norm=True),
        context_length=40960,
        license="apache-2.0",
        chat_template=QWEN3_TEMPLATE,
        num_experts=128,
        num_experts_per_tok=8,
        suggested_workload_type="reasoning",
    )


def deepseek_v3_tensors(layers: int, dense_layers: int, experts: int) -> dict:
    """DeepSeek-V3 shapes (hidden 7168, MLA, fp8 block-quantized weights with weight_scale_inv)."""
    hidden, vocab, heads = 7168, 129280, 128
    q_lora, kv_lora, nope, rope, v_dim = 1536, 512, 128, 64, 128
    inter, moe_inter = 18432, 2048
    out: dict = {"model.embed_tokens.weight": ("BF16", (vocab, hidden))}

    def fp8(name: str, rows: int, cols: int) -> None:
        out[name + ".weight"] = ("F8_E4M3", (rows, cols))
        out[name + ".weight_scale_inv"] = ("F32", (-(-rows // 128), -(-cols // 128)))

    for i in range(layers):
        p = f"model.layers.{i}."
        fp8(p + "self_attn.q_a_proj", q_lora, hidden)
        out[p + "self_attn.q_a_layernorm.weight"] = ("BF16", (q_lora,))
        fp8(p + "self_attn.q_b_proj", heads * (nope + rope), q_lora)
        fp8(p + "self_attn.kv_a_proj_with_mqa", kv_lora + rope, hidden)
        out[p + "self_attn.kv_a_layernorm.weight"] = ("BF16", (kv_lora,))
        fp8(p + "self_attn.kv_b_proj", heads * (nope + v_dim), kv_lora)
        fp8(p + "self_attn.o_proj", hidden, heads * v_dim)
        out[p + "input_layernorm.weight"] = ("BF16", (hidden,))
        out[p + "post_attention_layernorm.weight"] = ("BF16", (hidden,))
        if i < dense_layers:
            for leaf, rows, cols in (
                ("gate_proj", inter, hidden),
                ("up_proj", inter, hidden),
                ("down_proj", hidden, inter),
            ):
                fp8(p + f"mlp.{leaf}", rows, cols)
        else:
            out[p + "mlp.gate.weight"] = ("BF16", (experts, hidden))
            out[p + "mlp.gate.e_score_correction_bias"] = ("F32", (experts,))
            for e in [*range(experts), "shared"]:
                q = p + (f"mlp.experts.{e}." if e != "shared" else "mlp.shared_experts.")
                fp8(q + "gate_proj", moe_inter, hidden)
                fp8(q + "up_proj", moe_inter, hidden)
                fp8(q + "down_proj", hidden, moe_inter)
    out["model.norm.weight"] = ("BF16", (hidden,))
    out["lm_head.weight"] = ("BF16", (vocab, hidden))
    return out


def deepseek_v3_parameters(layers: int, dense_layers: int, experts: int) -> int:
    hidden, vocab, heads = 7168, 129280, 128
    attention = (
        1536 * hidden
        + 1536
        + heads * 192 * 1536
        + 576 * hidden
        + 512
        + heads * 256 * 512
        + hidden * heads * 128
    )
    dense = 3 * 18432 * hidden
    moe = experts * hidden + experts + (experts + 1) * 3 * 2048 * hidden
    per_norms = 2 * hidden
    return (
        2 * vocab * hidden
        + hidden
        + layers * (attention + per_norms)
        + dense_layers * dense
        + (layers - dense_layers) * moe
    )


def test_deepseek_v3_moe_mla_fp8(tmp_path):
    # Real dimensions; 4 of the 61 layers (3 dense, as first_k_dense_replace says, and 1 MoE) for speed.
    config = {
        "architectures": ["DeepseekV3ForCausalLM"],
        "model_type": "deepseek_v3",
        "hidden_size": 7168,
        "num_attention_heads": 128,
        "num_key_value_heads": 128,
        "num_hidden_layers": 4,
        "first_k_dense_replace": 3,
        "q_lora_rank": 1536,
        "kv_lora_rank": 512,
        "qk_nope_head_dim": 128,
        "qk_rope_head_dim": 64,
        "v_head_dim": 128,
        "n_routed_experts": 256,
        "n_shared_experts": 1,
        "num_experts_per_tok": 8,
        "moe_intermediate_size": 2048,
        "max_position_embeddings": 163840,
        "rope_scaling": {
            "type": "yarn",
            "factor": 40,
            "original_max_position_embeddings": 4096,
            "beta_fast": 32,
            "beta_slow": 1,
            "mscale": 1.0,
            "mscale_all_dim": 1.0,
        },
        "quantization_config": {
            "quant_method": "fp8",
            "fmt": "e4m3",
            "activation_scheme": "dynamic",
            "weight_block_size": [128, 128],
        },
        "vocab_size": 129280,
    }
    folder = write_checkpoint(tmp_path / "dsv3", config, deepseek_v3_tensors(4, 3, 256), shards=5)
    meta = inspect(folder)
    assert meta.architecture == "deepseek"
    assert (meta.num_experts, meta.num_experts_per_tok) == (256, 8)
    assert meta.extra["attention"] == "mla" and meta.extra["headDim"] == 576
    assert meta.extra["numKeyValueHeads"] == 1
    assert meta.context_length == 4096 * 40  # yarn: original × factor
    assert (meta.is_pre_quantized, meta.pre_quantization_method, meta.pre_quantization_bits) == (
        True,
        "fp8",
        8,
    )
    assert meta.parameter_count == deepseek_v3_parameters(4, 3, 256)  # weight_scale_inv not counted
    assert seed_fields(meta) == seed(
        folder,
        architecture="deepseek",
        parameter_count=deepseek_v3_parameters(4, 3, 256),
        context_length=163840,
        is_pre_quantized=True,
        pre_quantization_method="fp8",
        pre_quantization_bits=8.0,
        num_experts=256,
        num_experts_per_tok=8,
    )


GEMMA2_9B = {
    "architectures": ["Gemma2ForCausalLM"],
    "model_type": "gemma2",
    "hidden_size": 3584,
    "intermediate_size": 14336,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "head_dim": 256,
    "num_hidden_layers": 42,
    "max_position_embeddings": 8192,
    "sliding_window": 4096,
    "query_pre_attn_scalar": 256,
    "final_logit_softcapping": 30.0,
    "vocab_size": 256000,
}


def test_gemma_2_9b_head_dim_and_tied_embeddings(tmp_path):
    dims = {
        "layers": 42,
        "hidden": 3584,
        "inter": 14336,
        "vocab": 256000,
        "heads": 16,
        "kv_heads": 8,
        "head_dim": 256,
    }
    folder = write_checkpoint(
        tmp_path / "gemma2",
        GEMMA2_9B,
        decoder_tensors(**dims, tied=True, extra_norms=True),
        shards=4,
        files={"README.md": card("gemma"), "generation_config.json": {"cache_implementation": "hybrid"}},
    )
    meta = inspect(folder)
    assert meta.architecture == "gemma"
    assert meta.extra["headDim"] == 256  # not 3584 / 16 = 224
    assert meta.parameter_count == decoder_parameters(**dims, tied=True, extra_norms=True)
    assert 9_200_000_000 < meta.parameter_count < 9_300_000_000
    assert meta.context_length == 8192
    assert meta.license == "gemma"
    assert (meta.default_temperature, meta.default_top_p) == (None, None)
    assert seed_fields(meta) == seed(
        folder,
        architecture="gemma",
        parameter_count=decoder_parameters(**dims, tied=True, extra_norms=True),
        context_length=8192,
        license="gemma",
    )


def test_gemma_3_multimodal_skips_the_rope_factor(tmp_path):
    text = {
        "model_type": "gemma3_text",
        "hidden_size": 2560,
        "intermediate_size": 10240,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "num_hidden_layers": 34,
        "max_position_embeddings": 131072,
        "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
        "sliding_window": 1024,
    }
    config = {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "model_type": "gemma3",
        "text_config": text,
        "vision_config": {"model_type": "siglip_vision_model", "hidden_size": 1152, "image_size": 896},
    }
    dims = {
        "layers": 34,
        "hidden": 2560,
        "inter": 10240,
        "vocab": 262208,
        "heads": 8,
        "kv_heads": 4,
        "head_dim": 256,
    }
    tensors = decoder_tensors(**dims, tied=True, extra_norms=True, prefix="language_model.model.")
    tensors["vision_tower.vision_model.embeddings.patch_embedding.weight"] = ("BF16", (1152, 3, 14, 14))
    tensors["multi_modal_projector.mm_input_projection_weight"] = ("BF16", (1152, 2560))
    folder = write_checkpoint(tmp_path / "gemma3", config, tensors, shards=2)
    meta = inspect(folder)
    assert meta.architecture == "gemma"
    assert meta.is_multimodal is True
    assert meta.context_length == 131072  # gemma3's length is already scaled
    assert meta.extra["headDim"] == 256
    expected = decoder_parameters(**dims, tied=True, extra_norms=True) + 1152 * 3 * 14 * 14 + 1152 * 2560
    assert meta.parameter_count == expected

    one_b = write_checkpoint(
        tmp_path / "gemma3-1b",
        {**text, "architectures": ["Gemma3ForCausalLM"], "max_position_embeddings": 32768},
        {"model.norm.weight": ("BF16", (2560,))},
    )
    assert inspect(one_b).is_multimodal is False  # gemma3_text is text-only
    assert seed_fields(meta) == seed(
        folder, architecture="gemma", parameter_count=expected, context_length=131072, is_multimodal=True
    )


def test_phi_3_5_mini_longrope(tmp_path):
    config = {
        "architectures": ["Phi3ForCausalLM"],
        "model_type": "phi3",
        "hidden_size": 3072,
        "intermediate_size": 8192,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "num_hidden_layers": 32,
        "max_position_embeddings": 131072,
        "original_max_position_embeddings": 4096,
        "rope_scaling": {"type": "longrope", "long_factor": [1.08] * 48, "short_factor": [1.0] * 48},
        "sliding_window": 262144,
        "vocab_size": 32064,
    }
    tensors: dict = {"model.embed_tokens.weight": ("BF16", (32064, 3072))}
    for i in range(32):
        p = f"model.layers.{i}."
        tensors[p + "self_attn.qkv_proj.weight"] = ("BF16", (9216, 3072))
        tensors[p + "self_attn.o_proj.weight"] = ("BF16", (3072, 3072))
        tensors[p + "mlp.gate_up_proj.weight"] = ("BF16", (16384, 3072))
        tensors[p + "mlp.down_proj.weight"] = ("BF16", (3072, 8192))
        tensors[p + "input_layernorm.weight"] = ("BF16", (3072,))
        tensors[p + "post_attention_layernorm.weight"] = ("BF16", (3072,))
    tensors["model.norm.weight"] = ("BF16", (3072,))
    tensors["lm_head.weight"] = ("BF16", (32064, 3072))
    folder = write_checkpoint(tmp_path / "phi", config, tensors, shards=2, files={"README.md": card("mit")})
    meta = inspect(folder)
    assert meta.architecture == "phi"
    expected = (
        2 * 32064 * 3072 + 3072 + 32 * (9216 * 3072 + 3072 * 3072 + 16384 * 3072 + 3072 * 8192 + 2 * 3072)
    )
    assert meta.parameter_count == expected
    assert meta.context_length == 131072  # longrope: no factor
    assert meta.extra["defaultServeLength"] == 4096  # vLLM serves the original length by default
    assert meta.license == "mit"
    assert seed_fields(meta) == seed(
        folder, architecture="phi", parameter_count=expected, context_length=131072, license="mit"
    )


def test_bert_sentence_transformers_embedding_model(tmp_path):
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": 384,
        "intermediate_size": 1536,
        "num_attention_heads": 12,
        "num_hidden_layers": 6,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "vocab_size": 30522,
    }
    h, inter = 384, 1536
    tensors: dict = {
        "embeddings.word_embeddings.weight": ("F32", (30522, h)),
        "embeddings.position_embeddings.weight": ("F32", (512, h)),
        "embeddings.token_type_embeddings.weight": ("F32", (2, h)),
        "embeddings.LayerNorm.weight": ("F32", (h,)),
        "embeddings.LayerNorm.bias": ("F32", (h,)),
        "embeddings.position_ids": ("I64", (1, 512)),  # a buffer, not a parameter
    }
    for i in range(6):
        p = f"encoder.layer.{i}."
        for name, rows, cols in (
            ("attention.self.query", h, h),
            ("attention.self.key", h, h),
            ("attention.self.value", h, h),
            ("attention.output.dense", h, h),
            ("intermediate.dense", inter, h),
            ("output.dense", h, inter),
        ):
            tensors[p + name + ".weight"] = ("F32", (rows, cols))
            tensors[p + name + ".bias"] = ("F32", (rows,))
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            tensors[p + norm + ".weight"] = ("F32", (h,))
            tensors[p + norm + ".bias"] = ("F32", (h,))
    tensors["pooler.dense.weight"] = ("F32", (h, h))
    tensors["pooler.dense.bias"] = ("F32", (h,))
    folder = write_checkpoint(
        tmp_path / "minilm",
        config,
        tensors,
        files={
            "modules.json": [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
            ],
            "sentence_bert_config.json": {"max_seq_length": 256, "do_lower_case": False},
            "config_sentence_transformers.json": {"__version__": {"sentence_transformers": "2.0.0"}},
            "1_Pooling/config.json": {"word_embedding_dimension": 384, "pooling_mode_mean_tokens": True},
            "tokenizer_config.json": {"model_max_length": 512, "do_lower_case": True},
            "README.md": card(
                "apache-2.0", "pipeline_tag: sentence-similarity", "library_name: sentence-transformers"
            ),
        },
    )
    meta = inspect(folder, name="all-MiniLM-L6-v2")
    assert meta.architecture == "bert"
    layer = 4 * (h * h + h) + (inter * h + inter) + (h * inter + h) + 4 * h
    assert meta.parameter_count == (30522 + 512 + 2) * h + 2 * h + 6 * layer + h * h + h
    assert meta.suggested_workload_type == "embedding"
    assert meta.context_length == 256  # sentence-transformers max_seq_length
    assert meta.license == "apache-2.0"
    assert meta.chat_template is None
    assert seed_fields(meta) == seed(
        folder,
        architecture="bert",
        parameter_count=meta.parameter_count,
        context_length=256,
        license="apache-2.0",
        suggested_workload_type="embedding",
    )


def test_llava_1_5_multimodal_with_sparse_text_config(tmp_path):
    config = {
        "architectures": ["LlavaForConditionalGeneration"],
        "model_type": "llava",
        "image_token_index": 32000,
        "text_config": {"model_type": "llama", "max_position_embeddings": 4096, "vocab_size": 32064},
        "vision_config": {"model_type": "clip_vision_model", "hidden_size": 1024, "image_size": 336},
        "vision_feature_layer": -2,
    }
    dims = {"layers": 32, "hidden": 4096, "inter": 11008, "vocab": 32064, "heads": 32, "kv_heads": 32}
    tensors = decoder_tensors(
        **dims, dtype="F16", prefix="language_model.model.", lm_head="language_model.lm_head.weight"
    )
    tensors["multi_modal_projector.linear_1.weight"] = ("F16", (4096, 1024))
    tensors["multi_modal_projector.linear_1.bias"] = ("F16", (4096,))
    tensors["vision_tower.vision_model.embeddings.patch_embedding.weight"] = ("F16", (1024, 3, 14, 14))
    folder = write_checkpoint(tmp_path / "llava", config, tensors, shards=3)
    meta = inspect(folder)
    assert meta.architecture == "llava"
    assert meta.is_multimodal is True
    assert meta.context_length == 4096  # from text_config
    assert meta.extra["modelType"] == "llava"
    assert meta.parameter_count == decoder_parameters(**dims) + 4096 * 1024 + 4096 + 1024 * 3 * 14 * 14
    assert seed_fields(meta) == seed(
        folder,
        architecture="llava",
        parameter_count=meta.parameter_count,
        context_length=4096,
        is_multimodal=True,
    )


def test_qwen2_vl_multimodal(tmp_path):
    config = {
        "architectures": ["Qwen2VLForConditionalGeneration"],
        "model_type": "qwen2_vl",
        "max_position_embeddings": 32768,
        "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
        "vision_config": {"depth": 32, "embed_dim": 1280},
        "hidden_size": 3584,
        "num_attention_heads": 28,
    }
    folder = write_checkpoint(
        tmp_path / "qwen2vl", config, {"visual.merger.mlp.0.weight": ("BF16", (5120, 5120))}
    )
    meta = inspect(folder)
    assert (meta.architecture, meta.is_multimodal, meta.context_length) == ("qwen", True, 32768)
    assert seed_fields(meta) == seed(
        folder, architecture="qwen", parameter_count=5120 * 5120, context_length=32768, is_multimodal=True
    )
