"""Per-family key tables: the one place that says which config keys mean what (data only).

Sources are cited as in /work/shared/reference/loading.md (``owner/repo path @commit``).
"""

from __future__ import annotations

#: ``model_type`` → the seed's lower-case family ("llama", "qwen", "mistral"). Families named in
#: issue 4; model_type values from each model's config.json (loading.md §2 table).
FAMILY_BY_MODEL_TYPE: dict[str, str] = {
    "llama": "llama",
    "mllama": "llama",
    "llama4": "llama",
    "llama4_text": "llama",
    "mistral": "mistral",
    "mistral3": "mistral",
    "pixtral": "mistral",
    "mixtral": "mixtral",
    "qwen": "qwen",
    "qwen2": "qwen",
    "qwen2_moe": "qwen",
    "qwen3": "qwen",
    "qwen3_moe": "qwen",
    "qwen2_vl": "qwen",
    "qwen2_5_vl": "qwen",
    "qwen3_vl": "qwen",
    "qwen3_vl_moe": "qwen",
    "qwen2_audio": "qwen",
    "deepseek": "deepseek",
    "deepseek_v2": "deepseek",
    "deepseek_v3": "deepseek",
    "gemma": "gemma",
    "gemma2": "gemma",
    "gemma3": "gemma",
    "gemma3_text": "gemma",
    "phi": "phi",
    "phi3": "phi",
    "phi3_v": "phi",
    "phimoe": "phi",
    "phi4mm": "phi",
    "llava": "llava",
    "llava_next": "llava",
    "llava_next_video": "llava",
    "llava_onevision": "llava",
    "bert": "bert",
    "gpt_oss": "gpt-oss",
}
#: Architecture class prefixes for configs without ``model_type`` (first match wins).
FAMILY_BY_ARCHITECTURE_PREFIX: tuple[tuple[str, str], ...] = (
    ("Llava", "llava"),
    ("Mixtral", "mixtral"),
    ("Mistral", "mistral"),
    ("Qwen", "qwen"),
    ("Deepseek", "deepseek"),
    ("DeepSeek", "deepseek"),
    ("Gemma", "gemma"),
    ("Phi", "phi"),
    ("GptOss", "gpt-oss"),
    ("Bert", "bert"),
    ("Llama", "llama"),
    ("Mllama", "llama"),
)

#: Where the text model's fields live in multimodal configs (vLLM ``get_hf_text_config``; loading.md §5).
TEXT_CONFIG_KEYS = ("text_config", "llm_config", "language_config")

#: Context-length keys vLLM probes; the smallest present wins
#: (vllm-project/vllm vllm/config/model.py @0052a5b8 ``_get_and_verify_max_len``).
CONTEXT_KEYS = (
    "max_position_embeddings",  # OPT, llama, …
    "n_positions",  # GPT-2
    "max_seq_len",  # MPT
    "seq_length",  # ChatGLM2
    "model_max_length",  # Command-R
    "max_target_positions",  # Whisper
    "max_sequence_length",
    "max_seq_length",
    "seq_len",
)
#: Rope types whose factor is already in max_position_embeddings (same source): not multiplied.
ROPE_TYPES_WITHOUT_FACTOR = frozenset({"su", "longrope", "llama3"})
#: model_types whose max_position_embeddings is already scaled (vLLM comment: gemma3 skip rule).
ROPE_SCALING_SKIPPED = ("gemma3",)

#: Expert counts (loading.md TL;DR 6; vLLM and TGI readers): Qwen2/3-MoE ``num_experts``,
#: Mixtral / gpt-oss ``num_local_experts``, DeepSeek ``n_routed_experts``, DBRX-style ``moe_num_experts``.
NUM_EXPERTS_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")
#: Experts activated per token; gpt-oss also writes ``experts_per_token`` (TGI, TRT-LLM read it).
EXPERTS_PER_TOKEN_KEYS = (
    "num_experts_per_tok",
    "num_experts_per_token",
    "experts_per_token",
    "top_k_experts",
    "moe_topk",
    "moe_top_k",
)
#: KV heads (vLLM ``get_total_num_kv_heads``).
KV_HEAD_KEYS = (
    "num_key_value_heads",
    "n_head_kv",
    "num_kv_heads",
    "multi_query_group_num",
    "num_attention_groups",
)

#: Multimodal architectures (vLLM ``_MULTIMODAL_MODELS``, vllm/model_executor/models/registry.py @0002bff0).
MULTIMODAL_ARCHITECTURES = frozenset(
    {
        "LlavaForConditionalGeneration",
        "LlavaNextForConditionalGeneration",
        "LlavaNextVideoForConditionalGeneration",
        "LlavaOnevisionForConditionalGeneration",
        "Qwen2VLForConditionalGeneration",
        "Qwen2_5_VLForConditionalGeneration",
        "Qwen3VLForConditionalGeneration",
        "Qwen3VLMoeForConditionalGeneration",
        "Qwen2AudioForConditionalGeneration",
        "Gemma3ForConditionalGeneration",
        "Mistral3ForConditionalGeneration",
        "Llama4ForConditionalGeneration",
        "MllamaForConditionalGeneration",
        "PaliGemmaForConditionalGeneration",
        "Phi3VForCausalLM",
        "Phi4MMForCausalLM",
        "PixtralForConditionalGeneration",
        "InternVLChatModel",
        "MiniCPMV",
        "Idefics3ForConditionalGeneration",
        "WhisperForConditionalGeneration",
        "DeepseekVLV2ForCausalLM",
    }
)
#: Sub-config keys that mark vision/audio input (TGI: vision_config; Phi-3.5-vision has only
#: img_processor/embd_layer — loading.md §5).
MULTIMODAL_KEYS = (
    "vision_config",
    "vision_tower",
    "visual",
    "audio_config",
    "img_processor",
    "embd_layer",
    "mm_vision_tower",
)
#: model_types that are multimodal; ``gemma3_text`` (1B) is not (loading.md §5).
MULTIMODAL_MODEL_TYPES = frozenset(
    {
        "llava",
        "llava_next",
        "llava_next_video",
        "llava_onevision",
        "qwen2_vl",
        "qwen2_5_vl",
        "qwen3_vl",
        "qwen3_vl_moe",
        "qwen2_audio",
        "mllama",
        "gemma3",
        "paligemma",
        "phi3_v",
        "phi4mm",
        "pixtral",
        "idefics3",
        "internvl_chat",
        "mistral3",
        "llama4",
    }
)

#: Pre-quantization methods recognised (loading.md §4 "Recommended rule"), after normalisation.
PRE_QUANTIZATION_METHODS = frozenset(
    {
        "gptq",
        "awq",
        "compressed-tensors",
        "fp8",
        "fbgemm_fp8",
        "modelopt",
        "modelopt_fp4",
        "mxfp4",
        "bitsandbytes",
        "exl2",
        "hqq",
        "aqlm",
        "torchao",
        "auto-round",
        "quark",
        "gguf",
    }
)
#: modelopt ``quant_algo`` → bits (vLLM convertor @00bb6f59: FP8 variants → modelopt, NVFP4 → modelopt_fp4).
MODELOPT_ALGO_BITS: dict[str, tuple[str, int]] = {
    "FP8": ("modelopt", 8),
    "FP8_PER_CHANNEL_PER_TOKEN": ("modelopt", 8),
    "FP8_PB_WO": ("modelopt", 8),
    "NVFP4": ("modelopt_fp4", 4),
    "W4A8_AWQ": ("modelopt", 4),
    "INT8": ("modelopt", 8),
}
