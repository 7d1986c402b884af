"""The load planner on real model shapes and GPU profiles, with the arithmetic written out.

Common terms: budget = int(memory × 0.90); reserve = max(1 GiB × GPUs, int(0.05 × budget));
KV bytes per token = 2 (K and V) × layers × KV heads × head dim × 2 bytes (bf16), or for MLA
layers × (kv_lora_rank + qk_rope_head_dim) × 2 bytes; context = min(model context,
(budget − weights − reserve) // KV per token); max sequences = (budget − weights − reserve) //
(KV per token × context), capped at 256 (1024 on ≥ 70 GiB GPUs other than A100).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from support.model_shapes import (
    DEEPSEEK_V3,
    GPT_OSS_20B,
    LLAMA31_8B,
    LLAMA31_70B,
    MIXTRAL_8X7B,
    deepseek_v3_header,
    gpt_oss_header,
    llama_header,
)
from xerotier.domain.inventory import Gpu, Inventory
from xerotier.loading.gpu_profiles import get_profile
from xerotier.loading.model_shape import model_shape
from xerotier.loading.planner import PlanOptions, plan_load

GIB = 1 << 30

# Llama 3.1 8B: 32 layers × (2·4096² + 2·1024·4096 + 3·14336·4096 + 2·4096) + 2·128256·4096 + 4096
P8B = 32 * (2 * 4096**2 + 2 * 1024 * 4096 + 3 * 14336 * 4096 + 2 * 4096) + 2 * 128256 * 4096 + 4096
LIN8B = 32 * (2 * 4096**2 + 2 * 1024 * 4096 + 3 * 14336 * 4096)  # the linear weights
KV8B = 2 * 32 * 8 * 128 * 2  # 131,072 bytes per token
# Llama 3.1 70B: 80 layers of hidden 8192, intermediate 28672
P70B = 80 * (2 * 8192**2 + 2 * 1024 * 8192 + 3 * 28672 * 8192 + 2 * 8192) + 2 * 128256 * 8192 + 8192
LIN70B = 80 * (2 * 8192**2 + 2 * 1024 * 8192 + 3 * 28672 * 8192)
KV70B = 2 * 80 * 8 * 128 * 2  # 327,680
# Mixtral 8x7B: attention as Llama 7B-class, 8 experts × 3 × 14336 × 4096 per layer, router 8 × 4096
LINMIX = 32 * (2 * 4096**2 + 2 * 1024 * 4096 + 8 * 3 * 14336 * 4096)
PMIX = LINMIX + 32 * (8 * 4096 + 2 * 4096) + 2 * 32000 * 4096 + 4096


def gpus(profile: str, count: int = 1) -> Inventory:
    p = get_profile(profile)
    gpu = Gpu(p.name, p.memory_bytes, p.compute_capability, device_name=p.device_name)
    return Inventory("cuda", (gpu,) * count)


def budget(profile: str, count: int = 1) -> int:
    return count * int(get_profile(profile).memory_bytes * 0.90)


def reserve(profile: str, count: int = 1) -> int:
    return max(GIB * count, int(0.05 * budget(profile, count)))


@dataclass
class Case:
    id: str
    config: dict
    header: dict
    profile: str
    count: int
    reason: str
    method: str | None
    weights: int
    kv_per_token: int
    context: int
    seqs: int


def kv_left(c: Case) -> int:
    return budget(c.profile, c.count) - c.weights - reserve(c.profile, c.count)


AWQ = {**LLAMA31_8B, "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}}
GPTQ = {**LLAMA31_8B, "quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128}}
# AWQ/GPTQ int4, group 128: per linear (in × out) → qweight in·out/2 + qzeros in·out/256 + scales in·out/64
# bytes; GPTQ adds g_idx (4 bytes per input row). Embeddings, head and norms stay F16.
W_AWQ = LIN8B * 133 // 256 + 2 * (2 * 128256 * 4096 + 65 * 4096)
GIDX = (
    32 * 4 * (4096 + 4096 + 4096 + 4096 + 4096 + 4096 + 14336)
)  # q, k, v, o, gate, up (in 4096), down (in 14336)
DS_KV = 61 * (512 + 64) * 2  # MLA: one latent of kv_lora_rank + rope dims, no factor 2 → 70,272
OSS_KV = 2 * 12 * 8 * 64 * 2  # only the 12 full-attention layers grow with the context → 24,576

LLAMA8B = llama_header(LLAMA31_8B)
LLAMA70B = llama_header(LLAMA31_70B)
MIXTRAL = llama_header(MIXTRAL_8X7B)

CASES = [
    # weights 2·P8B = 16,060,522,496 ≤ 72 GiB budget: native, full 131,072 context, 3 sequences
    Case("llama8b-h100", LLAMA31_8B, LLAMA8B, "H100-80GB", 1, "native_fits", None, 2 * P8B, KV8B, 131072, 3),
    # 21.6 GiB budget: native fits with 8,192 tokens, the context is clamped to what the KV budget holds
    Case("llama8b-l4", LLAMA31_8B, LLAMA8B, "L4", 1, "native_fits", None, 2 * P8B, KV8B, 45567, 1),
    # T4 (14.4 GiB, cc 7.5): no fp8 (needs 8.9); bitsandbytes int8 = linear weights at 1 byte + the rest bf16
    Case(
        "llama8b-t4",
        LLAMA31_8B,
        LLAMA8B,
        "T4",
        1,
        "runtime_quantization",
        "bitsandbytes",
        LIN8B + 2 * (P8B - LIN8B),
        KV8B,
        40488,
        1,
    ),
    # 70B on one H100: fp8 72.66 GB + 3.6 GiB reserve + 2.5 GiB KV > 72 GiB; fp4 = 0.5 + 4/64 B/weight
    Case(
        "llama70b-h100",
        LLAMA31_70B,
        LLAMA70B,
        "H100-80GB",
        1,
        "runtime_quantization",
        "bitsandbytes-fp4",
        int(LIN70B * (0.5 + 4 / 64)) + 2 * (P70B - LIN70B),
        KV70B,
        93795,
        1,
    ),
    # 70B on two H100 (tensor parallel): 144 GiB budget holds bf16 weights 141.1 GB
    Case(
        "llama70b-2xh100",
        LLAMA31_70B,
        LLAMA70B,
        "H100-80GB",
        2,
        "native_fits",
        None,
        2 * P70B,
        KV70B,
        17640,
        1,
    ),
    # Mixtral on A100-80GB (cc 8.0, no fp8): int8 → 32,768 context, 6 sequences
    Case(
        "mixtral-a100",
        MIXTRAL_8X7B,
        MIXTRAL,
        "A100-80GB",
        1,
        "runtime_quantization",
        "bitsandbytes",
        LINMIX + 2 * (PMIX - LINMIX),
        KV8B,
        32768,
        6,
    ),
    # Mixtral on H100 (cc 9.0): fp8 is the first method that fits
    Case(
        "mixtral-h100",
        MIXTRAL_8X7B,
        MIXTRAL,
        "H100-80GB",
        1,
        "runtime_quantization",
        "fp8",
        LINMIX + 2 * (PMIX - LINMIX),
        KV8B,
        32768,
        6,
    ),
    Case(
        "awq-t4",
        AWQ,
        llama_header(LLAMA31_8B, quant="awq"),
        "T4",
        1,
        "pre_quantized",
        "awq",
        W_AWQ,
        KV8B,
        66072,
        1,
    ),
    Case(
        "gptq-l4",
        GPTQ,
        llama_header(LLAMA31_8B, quant="gptq"),
        "L4",
        1,
        "pre_quantized",
        "gptq",
        W_AWQ + GIDX,
        KV8B,
        124361,
        1,
    ),
    # gpt-oss-20b (MXFP4 experts) on L4: 12 sliding layers add 12 × 128 tokens × 2048 bytes per sequence
    Case(
        "gpt-oss-l4",
        GPT_OSS_20B,
        gpt_oss_header(),
        "L4",
        1,
        "pre_quantized",
        "mxfp4",
        13761264768,
        OSS_KV,
        131072,
        2,
    ),
    # DeepSeek-V3 block fp8 (671B parameters, 1 byte each + fp32 block scales + bf16 embeddings) on 8×H200
    Case(
        "deepseek-v3-8xh200",
        DEEPSEEK_V3,
        deepseek_v3_header(),
        "H200",
        8,
        "pre_quantized",
        "fp8",
        673150611808,
        DS_KV,
        163840,
        31,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_plan(case: Case) -> None:
    shape = model_shape(case.id, case.config, [case.header])
    plan = plan_load(shape, gpus(case.profile, case.count))
    assert (plan.quantization_reason, plan.applied_quantization) == (case.reason, case.method)
    assert plan.memory["weightsBytes"] == case.weights
    assert plan.memory["kvBytesPerToken"] == case.kv_per_token
    assert plan.memory["budgetBytes"] == budget(case.profile, case.count)
    assert plan.memory["reserveBytes"] == reserve(case.profile, case.count)
    sliding = 12 * 128 * 2 * 8 * 64 * 2 if case.config is GPT_OSS_20B else 0
    model_ctx = shape.context_length
    assert (
        plan.context_length == case.context == min(model_ctx, (kv_left(case) - sliding) // case.kv_per_token)
    )
    cap = 1024 if case.profile in ("H100-80GB", "H200") else 256
    per_seq = case.kv_per_token * case.context + sliding
    assert plan.max_sequences == case.seqs == min(cap, kv_left(case) // per_seq)
    assert plan.fits and plan.reasons


def test_llama8b_parameters_match_the_published_count() -> None:
    assert P8B == 8_030_261_248 and P70B == 70_553_706_496 and PMIX == 46_702_792_704


@pytest.mark.parametrize(
    ("config", "header", "profile", "count", "why"),
    [
        (LLAMA31_70B, LLAMA70B, "T4", 1, "No runtime quantization fits the budget of 14.40 GiB"),
        (LLAMA31_70B, LLAMA70B, "A100-40GB", 1, "fp8: needs compute capability ≥ 8.9, device has 8.0"),
        (
            GPT_OSS_20B,
            gpt_oss_header(),
            "T4",
            1,
            "mxfp4 (4-bit), whose kernels need compute capability ≥ 8.0",
        ),
        (DEEPSEEK_V3, deepseek_v3_header(), "H100-80GB", 8, "> budget 576.00 GiB"),
    ],
    ids=["70b-t4", "70b-a100-40", "gpt-oss-t4", "deepseek-8xh100"],
)
def test_cannot_fit_says_why_with_numbers(config, header, profile, count, why) -> None:
    plan = plan_load(model_shape("m", config, [header]), gpus(profile, count))
    assert plan.quantization_reason == "cannot_fit" and not plan.fits
    assert plan.applied_quantization is None and plan.context_length == 0 and plan.max_sequences == 0
    assert why in plan.reasons[-1]


def test_deepseek_weights_are_fp8_bytes_plus_block_scales() -> None:
    # 671,067,257,432 elements; the F8 weights are 1 byte, the bf16 embeddings/norms/router 2 and the
    # fp32 scales 4: the header total is larger than the element count by those extra bytes
    shape = model_shape("ds", DEEPSEEK_V3, [deepseek_v3_header()])
    assert shape.parameter_count == 671_067_257_432
    assert shape.is_mla and shape.kv_heads == 1 and shape.head_dim == 576
    assert shape.weight_bytes > shape.parameter_count


def test_moe_config_lookup_names_experts_shard_size_and_device() -> None:
    shape = model_shape("mixtral", MIXTRAL_8X7B, [MIXTRAL])
    name = "E=8,N=7168,device_name=NVIDIA_H100_80GB_HBM3.json"  # 14336 / 2 shards, bf16: no dtype part
    off = plan_load(shape, gpus("H100-80GB", 2))
    assert off.moe["configFile"] == name and off.moe["tunedConfigFound"] is False
    on = plan_load(
        shape, gpus("H100-80GB", 2), PlanOptions(enable_moe_config=True, moe_config_files=frozenset({name}))
    )
    assert on.moe["tunedConfigFound"] is True and name in on.reasons[-1]
    fp8 = plan_load(
        shape, gpus("H100-80GB"), PlanOptions(enable_moe_config=True, moe_config_files=frozenset({name}))
    )
    assert fp8.moe["configFile"] == "E=8,N=14336,device_name=NVIDIA_H100_80GB_HBM3,dtype=fp8_w8a8.json"
    assert fp8.moe["tunedConfigFound"] is False
    assert plan_load(model_shape("l", LLAMA31_8B, [LLAMA8B]), gpus("H100-80GB")).moe is None


def test_free_memory_limits_the_budget_and_user_caps_the_context() -> None:
    shape = model_shape("l", LLAMA31_8B, [LLAMA8B])
    p = get_profile("H100-80GB")
    busy = Inventory("cuda", (Gpu(p.name, p.memory_bytes, 9.0, free_bytes=40 * GIB),))
    plan = plan_load(shape, busy)
    assert plan.memory["budgetBytes"] == 40 * GIB
    capped = plan_load(shape, gpus("H100-80GB"), PlanOptions(max_model_len=8192))
    assert capped.context_length == 8192
    # KV cache in fp8 halves the bytes per token
    assert (
        plan_load(shape, gpus("H100-80GB"), PlanOptions(kv_cache_dtype="fp8")).memory["kvBytesPerToken"]
        == KV8B // 2
    )


def test_runtime_quantization_can_be_disabled_and_cpu_has_no_runtime_kernels() -> None:
    shape = model_shape("l", LLAMA31_8B, [LLAMA8B])
    assert plan_load(
        shape, gpus("T4"), PlanOptions(allow_runtime_quantization=False)
    ).quantization_reason == ("cannot_fit")
    cpu = Inventory("cpu", (Gpu("cpu", 12 * GIB, None, device_name="cpu"),))
    plan = plan_load(shape, cpu)
    assert plan.quantization_reason == "cannot_fit" and "fp8: no CPU kernel" in plan.reasons[-1]
    big = Inventory("cpu", (Gpu("cpu", 64 * GIB, None, device_name="cpu"),))
    fits = plan_load(shape, big)
    assert fits.quantization_reason == "native_fits" and fits.max_sequences <= 128


def test_inventories_with_equal_plan_keys_get_equal_plans() -> None:
    from xerotier.loading.planner import plan_key

    shape = model_shape("l", LLAMA31_8B, [LLAMA8B])
    p = get_profile("H100-80GB")
    opts = PlanOptions()
    # free memory above the 90 % budget does not change the plan; below it, it does
    a = Inventory("cuda", (Gpu(p.name, p.memory_bytes, 9.0, free_bytes=79 * GIB),))
    b = Inventory("cuda", (Gpu(p.name, p.memory_bytes, 9.0, free_bytes=75 * GIB),))
    c = Inventory("cuda", (Gpu(p.name, p.memory_bytes, 9.0, free_bytes=50 * GIB),))
    assert plan_key(a, opts) == plan_key(b, opts) != plan_key(c, opts)
    assert plan_load(shape, a).to_json() == plan_load(shape, b).to_json() != plan_load(shape, c).to_json()
