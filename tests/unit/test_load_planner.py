"""The load planner on real public checkpoints and GPU profiles, with vLLM's arithmetic written out.

Configs come from the Hub repositories named in ``support.model_shapes`` / ``support.public_configs``;
headers are full-shape, so the weights are the real byte counts. Common terms (docs/load-plans.md):

* budget = GPUs × int(NVML total × 0.90)                         (gpu_worker: total × utilization)
* reserve = TP × (0.5 GiB non-torch + 1 GiB CUDA graphs + 1 GiB NVML/CUDA gap + activations), where
  activations = max(batched tokens × (4·hidden + (heads/TP + 2·KV heads per rank)·head dim + FFN) × 2,
  3 × max_num_seqs × vocab × 4); FFN = 3·intermediate/TP, or top-k·(3·moe_intermediate/TP + hidden)
* KV bytes per token = 2 × full layers × TP × max(1, KV heads // TP) × head dim × 2 (MLA: no 2, 1 head)
* context = min(model context, (budget − weights − reserve − sliding) // KV per token), whole blocks
* --max-num-seqs = vLLM's default: 1024 (batched 8192) on ≥ 70 GiB GPUs other than A100, else 256 (2048)
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
from support.public_configs import (
    COMMAND_R,
    FALCON_7B,
    GEMMA3_1B,
    GEMMA3_27B,
    GPT_OSS_20B_BF16,
    QWEN3_30B_A3B_FP8,
    QWEN3_32B_FP8,
    QWEN25_3B,
    QWEN25_3B_DIMS,
    as_header,
    command_r_tensors,
    falcon_7b_tensors,
    gemma3_1b_tensors,
    gemma3_27b_text_tensors,
    gpt_oss_bf16_tensors,
    qwen3_dense_fp8_tensors,
    qwen3_moe_fp8_tensors,
)
from support.sparse import decoder_tensors
from xerotier.agent.engine_command import render_vllm
from xerotier.domain.inventory import Gpu, Inventory
from xerotier.loading.gpu_profiles import PROFILES, get_profile
from xerotier.loading.model_shape import model_shape
from xerotier.loading.moe_config import moe_config_name
from xerotier.loading.planner import PlanOptions, plan_key, plan_load

GIB, MIB = 1 << 30, 1 << 20
FIXED = 5 * GIB // 2  # per GPU: non-torch 0.5 + CUDA graphs 1 + NVML/CUDA gap 1

#: NVML memory.total per card (nvidia-smi "… / NNNNNMiB" in public logs; gpu_profiles cites each).
NVML_MIB = {
    "T4": 15109,
    "L4": 23034,
    "A10G": 23028,
    "A100-40GB": 40960,
    "A100-80GB": 81920,
    "L40S": 46068,
    "H100-80GB": 81559,
    "H200": 143771,
    "B200": 183359,
}


def test_profiles_use_the_totals_nvml_reports_not_marketed_sizes() -> None:
    assert {p.name: p.memory_bytes // MIB for p in PROFILES.values()} == NVML_MIB
    for p in PROFILES.values():
        # an "L4 24 GB" is 22.49 GiB through NVML; only the A100s report their full 40 / 80 GiB
        assert p.memory_bytes <= p.marketed_gib * GIB
    assert round(get_profile("L4").memory_bytes / GIB, 2) == 22.49


def gpus(profile: str, count: int = 1, free: int | None = None) -> Inventory:
    p = get_profile(profile)
    gpu = Gpu(p.name, p.memory_bytes, p.compute_capability, free, p.device_name)
    return Inventory("cuda", (gpu,) * count)


def budget(profile: str, count: int = 1, util: float = 0.90) -> int:
    return count * int(NVML_MIB[profile] * MIB * util)


def big(profile: str) -> bool:
    return NVML_MIB[profile] * MIB >= 70 * GIB and "A100" not in profile


def reserve(profile: str, tp: int, dims: dict, ep: bool = False) -> int:
    seqs, tokens = (1024, 8192) if big(profile) else (256, 2048)
    h, heads, kvr, hd = dims["hidden"], dims["heads"], max(1, dims["kv"] // tp), dims["head_dim"]
    if dims.get("moe"):
        ffn = dims["topk"] * (3 * dims["moe"] // (1 if ep else tp) + h)
    else:
        ffn = 3 * dims["inter"] // tp
    forward = tokens * (4 * h + (heads // tp + 2 * kvr) * hd + ffn) * 2
    sampler = 3 * seqs * dims["vocab"] * 4
    return tp * (FIXED + max(forward, sampler))


L8 = {"hidden": 4096, "heads": 32, "kv": 8, "head_dim": 128, "inter": 14336, "vocab": 128256}
L70 = {**L8, "hidden": 8192, "heads": 64, "inter": 28672}
MIX = {**L8, "vocab": 32000, "moe": 14336, "topk": 2}
OSS = {"hidden": 2880, "heads": 64, "kv": 8, "head_dim": 64, "vocab": 201088, "moe": 2880, "topk": 4}
DS = {"hidden": 7168, "heads": 128, "kv": 1, "head_dim": 576, "vocab": 129280, "moe": 2048, "topk": 8}
G1 = {"hidden": 1152, "heads": 4, "kv": 1, "head_dim": 256, "inter": 6912, "vocab": 262144}
G27 = {"hidden": 5376, "heads": 32, "kv": 16, "head_dim": 128, "inter": 21504, "vocab": 262208}
FAL = {"hidden": 4544, "heads": 71, "kv": 1, "head_dim": 64, "inter": 4 * 4544, "vocab": 65024}
CMR = {"hidden": 8192, "heads": 64, "kv": 64, "head_dim": 128, "inter": 22528, "vocab": 256000}
Q30 = {"hidden": 2048, "heads": 32, "kv": 4, "head_dim": 128, "vocab": 151936, "moe": 768, "topk": 8}
Q32 = {"hidden": 5120, "heads": 64, "kv": 8, "head_dim": 128, "inter": 25600, "vocab": 151936}
Q3B = {"hidden": 2048, "heads": 16, "kv": 2, "head_dim": 128, "inter": 11008, "vocab": 151936}

# Llama 3.1 8B: 32 layers × (2·4096² + 2·1024·4096 + 3·14336·4096 + 2·4096) + 2·128256·4096 + 4096
P8B = 32 * (2 * 4096**2 + 2 * 1024 * 4096 + 3 * 14336 * 4096 + 2 * 4096) + 2 * 128256 * 4096 + 4096
LIN8B = 32 * (2 * 4096**2 + 2 * 1024 * 4096 + 3 * 14336 * 4096)  # the linear weights
P70B = 80 * (2 * 8192**2 + 2 * 1024 * 8192 + 3 * 28672 * 8192 + 2 * 8192) + 2 * 128256 * 8192 + 8192
LIN70B = 80 * (2 * 8192**2 + 2 * 1024 * 8192 + 3 * 28672 * 8192)
LINMIX = 32 * (2 * 4096**2 + 2 * 1024 * 4096 + 8 * 3 * 14336 * 4096)
PMIX = LINMIX + 32 * (8 * 4096 + 2 * 4096) + 2 * 32000 * 4096 + 4096
BNB4 = 0.5 + 4 / 64  # vLLM's in-flight bitsandbytes: 4-bit values + an fp32 absmax per 64 values
W_AWQ = LIN8B * 133 // 256 + 2 * (2 * 128256 * 4096 + 65 * 4096)
# gpt-oss-20b BF16: the fused 3-D experts (24 × 32 × (2880·5760 + 2880·2880)) are quantizable too
OSS_EXPERTS = 24 * 32 * (2880 * 5760 + 2880 * 2880)
OSS_LINEAR = OSS_EXPERTS + 24 * (2 * 4096 * 2880 + 2 * 512 * 2880)  # + q, o, k, v
OSS_BF16 = 2 * 20_914_757_184


@dataclass
class Case:
    id: str
    config: dict
    header: dict
    profile: str
    count: int
    dims: dict
    reason: str
    method: str | None
    weights: int
    kv_per_token: int  # all ranks, full-attention layers
    sliding: int  # KV bytes of one request's sliding layers at the planned context
    context: int
    full_length: int
    tp: int = 0
    ep: bool = False


CASES = [
    # 16.06 GB bf16 on an H100 (79.65 GiB): full 131,072 context; 52.76 GiB of KV holds 3 of them,
    # but vLLM runs 1024 sequences (blocks are shared) — maxSequences is that cap
    Case("llama8b-h100", LLAMA31_8B, llama_header(LLAMA31_8B), "H100-80GB", 1, L8,
         "native_fits", None, 2 * P8B, 2 * 32 * 8 * 128 * 2, 0, 131072, 3),
    # L4 (22.49 GiB): 20.24 GiB budget − 14.96 − 2.87 reserve leaves 2.42 GiB → 19,824 tokens
    Case("llama8b-l4", LLAMA31_8B, llama_header(LLAMA31_8B), "L4", 1, L8,
         "native_fits", None, 2 * P8B, 131072, 0, 19824, 1),
    # T4 (cc 7.5): fp8 needs 8.0; 8-bit bitsandbytes is not vLLM's; in-flight bitsandbytes is 4-bit
    Case("llama8b-t4", LLAMA31_8B, llama_header(LLAMA31_8B), "T4", 1, L8, "runtime_quantization",
         "bitsandbytes", int(LIN8B * BNB4) + 2 * (P8B - LIN8B), 131072, 0, 39296, 1),
    # 70B on one H100: fp8 (67.67 GiB weights + 4.47 reserve + 2.5 KV) > 71.68 GiB; 4-bit fits
    Case("llama70b-h100", LLAMA31_70B, llama_header(LLAMA31_70B), "H100-80GB", 1, L70,
         "runtime_quantization", "bitsandbytes", int(LIN70B * BNB4) + 2 * (P70B - LIN70B),
         2 * 80 * 8 * 128 * 2, 0, 89904, 1),
    Case("llama70b-2xh100", LLAMA31_70B, llama_header(LLAMA31_70B), "H100-80GB", 2, L70,
         "native_fits", None, 2 * P70B, 327680, 0, 13136, 1),
    # A100 (cc 8.0): runtime fp8 through FP8 Marlin (weight-only), not 8-bit bitsandbytes
    Case("mixtral-a100", MIXTRAL_8X7B, llama_header(MIXTRAL_8X7B), "A100-80GB", 1, MIX,
         "runtime_quantization", "fp8", LINMIX + 2 * (PMIX - LINMIX), 131072, 0, 32768, 6),
    Case("awq-t4", {**LLAMA31_8B, "quantization_config": {"quant_method": "awq", "bits": 4}},
         llama_header(LLAMA31_8B, quant="awq"), "T4", 1, L8, "pre_quantized", "awq", W_AWQ, 131072,
         0, 41584, 1),
    # gpt-oss-20b: 12 full layers grow with the context; 12 sliding layers of window 128 hold
    # min(128 − 1 + 2048, context) + 16 = 2,191 tokens × 2·8·64·2 bytes each
    Case("gpt-oss-l4", GPT_OSS_20B, gpt_oss_header(), "L4", 1, OSS, "pre_quantized", "mxfp4",
         13761264768, 2 * 12 * 8 * 64 * 2, 12 * 2191 * 2048, 131072, 1),
    # DeepSeek-V3 on 8×H200: MLA's latent (512 + 64) is cached on every TP rank: 61 × 8 × 576 × 2
    Case("deepseek-v3-8xh200", DEEPSEEK_V3, deepseek_v3_header(), "H200", 8, DS, "pre_quantized",
         "fp8", 673150611808, 61 * 8 * 576 * 2, 0, 163840, 4),
    # Gemma 3 1B: every 6th of 26 layers is global (4 full, 22 sliding of window 512); the KV cache
    # groups layers 4 at a time, so the 22 sliding ones take 6 groups: allocated as 24
    Case("gemma3-1b-t4", GEMMA3_1B, as_header(gemma3_1b_tensors()), "T4", 1, G1, "native_fits", None,
         2 * 999_885_952, 2 * 4 * 1 * 256 * 2, 24 * (min(511 + 2048, 32768) + 16) * 1024, 32768, 44),
    # Gemma 3 27B (text tower): context 131,072 from transformers' defaults; 10 of 62 layers global,
    # the 52 sliding ones allocated in 6 groups of 10 (60)
    Case("gemma3-27b-h100", GEMMA3_27B, as_header(gemma3_27b_text_tensors()), "H100-80GB", 1, G27,
         "native_fits", None, 54018692608, 2 * 10 * 16 * 128 * 2, 60 * (1023 + 8192 + 16) * 8192,
         131072, 1),
    # Falcon 7B: no max_position_embeddings key (transformers' default 2048) and one KV head (MQA)
    Case("falcon7b-a10g", FALCON_7B, as_header(falcon_7b_tensors()), "A10G", 1, FAL, "native_fits",
         None, 2 * 6_921_720_704, 2 * 32 * 1 * 64 * 2, 0, 2048, 291),
    Case("command-r-2xh100", COMMAND_R, as_header(command_r_tensors()), "H100-80GB", 2, CMR,
         "native_fits", None, 2 * 34_980_831_232, 2 * 40 * 64 * 128 * 2, 0, 55168, 1),
    # Qwen3-30B-A3B-FP8 on 4×L4: 768/4 = 192 is not a multiple of the 128 block → expert parallel
    Case("qwen3-30b-fp8-4xl4", QWEN3_30B_A3B_FP8, as_header(qwen3_moe_fp8_tensors()), "L4", 4, Q30,
         "pre_quantized", "fp8", 31174545408, 2 * 48 * 4 * 1 * 128 * 2, 0, 40960, 10, 4, True),
    Case("qwen3-30b-fp8-2xh200", QWEN3_30B_A3B_FP8, as_header(qwen3_moe_fp8_tensors()), "H200", 2,
         Q30, "pre_quantized", "fp8", 31174545408, 2 * 48 * 4 * 128 * 2, 0, 40960, 57),
    # Qwen3-32B-FP8 on 16×L4: 25600/16 = 1600 is not a multiple of 128 → TP 8 (3200 = 25 × 128)
    Case("qwen3-32b-fp8-16xl4", QWEN3_32B_FP8, as_header(qwen3_dense_fp8_tensors()), "L4", 16, Q32,
         "pre_quantized", "fp8", 34326243328, 2 * 64 * 8 * 1 * 128 * 2, 0, 40960, 10, 8),
    # Qwen2.5-3B on 4×T4: 2 KV heads over 4 ranks are replicated: 4 × max(1, 2 // 4) = 4 heads cached
    Case("qwen25-3b-4xt4", QWEN25_3B, as_header(decoder_tensors(**QWEN25_3B_DIMS)), "T4", 4, Q3B,
         "native_fits", None, 2 * 3_085_938_688, 2 * 36 * 4 * 1 * 128 * 2, 0, 32768, 15),
    # gpt-oss-20b in BF16 (fused 3-D experts) on an L40S: fp8 converts the experts too and fits
    Case("gpt-oss-bf16-l40s", GPT_OSS_20B_BF16, as_header(gpt_oss_bf16_tensors()), "L40S", 1, OSS,
         "runtime_quantization", "fp8", OSS_BF16 - OSS_LINEAR, 24576, 12 * 2191 * 2048, 131072, 5),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_plan(case: Case) -> None:
    shape = model_shape(case.id, case.config, [case.header])
    plan = plan_load(shape, gpus(case.profile, case.count))
    tp = case.tp or case.count
    assert (plan.quantization_reason, plan.applied_quantization) == (case.reason, case.method)
    assert (plan.tensor_parallel_size, plan.expert_parallel) == (tp, case.ep)
    assert plan.memory["weightsBytes"] == case.weights
    assert plan.memory["kvBytesPerToken"] == case.kv_per_token
    assert plan.memory["budgetBytes"] == budget(case.profile, tp)
    assert plan.memory["reserveBytes"] == reserve(case.profile, tp, case.dims, case.ep)
    kv_left = budget(case.profile, tp) - case.weights - reserve(case.profile, tp, case.dims, case.ep)
    assert plan.memory["kvCacheBytes"] == kv_left
    fit = (kv_left - case.sliding) // case.kv_per_token // 16 * 16
    assert plan.context_length == case.context == min(shape.context_length, fit)
    assert plan.max_sequences == (1024 if big(case.profile) else 256)  # vLLM's default, not the fit
    per_seq = case.kv_per_token * case.context + case.sliding
    assert plan.full_length_sequences == case.full_length == kv_left // per_seq
    assert plan.gpu_memory_utilization == 0.90 and plan.fits and plan.reasons


def test_published_parameter_counts() -> None:
    assert P8B == 8_030_261_248 and P70B == 70_553_706_496 and PMIX == 46_702_792_704


@pytest.mark.parametrize(
    ("config", "header", "profile", "count", "why"),
    [
        (LLAMA31_70B, llama_header(LLAMA31_70B), "T4", 1, "No runtime quantization fits the budget of 13.28"),
        (GPT_OSS_20B, gpt_oss_header(), "T4", 1, "mxfp4 (4-bit), whose kernels need compute capability ≥ 8"),
        (DEEPSEEK_V3, deepseek_v3_header(), "H100-80GB", 8, "> budget 573.46 GiB"),
    ],
    ids=["70b-t4", "gpt-oss-t4", "deepseek-8xh100"],
)  # fmt: skip
def test_cannot_fit_says_why_with_numbers(config, header, profile, count, why) -> None:  # type: ignore[no-untyped-def]
    plan = plan_load(model_shape("m", config, [header]), gpus(profile, count))
    assert plan.quantization_reason == "cannot_fit" and not plan.fits
    assert plan.applied_quantization is None and plan.context_length == 0 and plan.max_sequences == 0
    assert why in plan.reasons[-1]


def test_a_tp_size_vllm_refuses_is_replaced_by_one_it_accepts() -> None:
    # Falcon 7B has 71 attention heads: vLLM accepts only TP 1 or 71, so 2 GPUs plan on one of them
    plan = plan_load(model_shape("f", FALCON_7B, [as_header(falcon_7b_tensors())]), gpus("L4", 2))
    assert plan.tensor_parallel_size == 1 and plan.fits
    assert (
        "Total number of attention heads (71) must be divisible by tensor parallel size (2)"
        in plan.reasons[0]
    )


def test_block_fp8_expert_parallel_and_the_vllm_command_line() -> None:
    shape = model_shape("q", QWEN3_30B_A3B_FP8, [as_header(qwen3_moe_fp8_tensors())])
    plan = plan_load(shape, gpus("L4", 4))
    assert (
        plan.expert_parallel
        and "192 is not divisible by weight quantization block_n = 128" in plan.reasons[0]
    )
    # E is the experts on one rank under EP (128 / 4), N the whole expert (not split)
    assert (
        plan.moe["configFile"] == "E=32,N=768,device_name=NVIDIA_L4,dtype=fp8_w8a8,block_shape=[128,128].json"
    )
    argv, _ = render_vllm("vllm", plan.to_json(), __import__("pathlib").Path("/m"), "q", 8000)
    assert "--enable-expert-parallel" in argv and argv[argv.index("--max-num-seqs") + 1] == "256"
    assert argv[argv.index("--tensor-parallel-size") + 1] == "4" and "fp8" in argv
    # 2 GPUs: 768/2 = 384 = 3 × 128 is accepted with plain tensor parallelism
    two = plan_load(shape, gpus("H200", 2))
    assert not two.expert_parallel and two.tensor_parallel_size == 2


def test_fused_moe_file_names_follow_vllm_get_config_file_name() -> None:
    ds = plan_load(model_shape("ds", DEEPSEEK_V3, [deepseek_v3_header()]), gpus("H200", 8))
    # a file vLLM ships: 256 experts, 2048 / 8 = 256 per rank, block-quantized fp8
    assert (
        ds.moe["configFile"]
        == "E=256,N=256,device_name=NVIDIA_H200,dtype=fp8_w8a8,block_shape=[128,128].json"
    )
    assert moe_config_name(8, 7168, "NVIDIA H200 NVL", None) == "E=8,N=7168,device_name=NVIDIA_H200.json"
    assert moe_config_name(8, 7168, "NVIDIA H100 80GB HBM3", "bitsandbytes").endswith("HBM3.json")
    assert moe_config_name(64, 1408, "NVIDIA_A100-SXM4-80GB", "gptq", None, 8.0).endswith("int8_w8a16.json")
    mix = model_shape("mixtral", MIXTRAL_8X7B, [llama_header(MIXTRAL_8X7B)])
    name = "E=8,N=7168,device_name=NVIDIA_H100_80GB_HBM3.json"  # 14336 / 2 shards, bf16: no dtype part
    on = plan_load(
        mix, gpus("H100-80GB", 2), PlanOptions(enable_moe_config=True, moe_config_files=frozenset({name}))
    )
    assert on.moe["configFile"] == name and on.moe["tunedConfigFound"] and name in on.reasons[-1]


def test_hybrid_layers_are_allocated_in_groups_of_one_size() -> None:
    from xerotier.loading.planner import kv_layers

    oss = model_shape("oss", GPT_OSS_20B, [gpt_oss_header()])
    assert kv_layers(oss) == (12, 12)  # 12 full + 12 sliding: one group size, no padding
    g27 = model_shape("g", GEMMA3_27B, [as_header(gemma3_27b_text_tensors())])
    assert kv_layers(g27) == (10, 60)  # groups of 10: 52 sliding layers take 6 groups
    l8 = model_shape("l", LLAMA31_8B, [llama_header(LLAMA31_8B)])
    assert kv_layers(l8) == (32, 0)


def test_kv_heads_are_replicated_above_their_count() -> None:
    shape = model_shape("l", LLAMA31_8B, [llama_header(LLAMA31_8B)])
    # 8 KV heads on 16 ranks: each rank caches max(1, 8 // 16) = 1 head → 16 heads in all (2 ×)
    assert plan_load(shape, gpus("L4", 16)).memory["kvBytesPerToken"] == 2 * 32 * 16 * 128 * 2
    assert plan_load(shape, gpus("L4", 8)).memory["kvBytesPerToken"] == 2 * 32 * 8 * 128 * 2
    assert "KV heads replicated" in plan_load(shape, gpus("L4", 16)).reasons[1]


def test_free_memory_lowers_the_utilization_vllm_is_given() -> None:
    shape = model_shape("l", LLAMA31_8B, [llama_header(LLAMA31_8B)])
    total = NVML_MIB["H100-80GB"] * MIB
    busy = plan_load(shape, gpus("H100-80GB", free=40 * GIB))
    # vLLM refuses to start when free < total × utilization: 40 GiB / 79.65 GiB → 0.50
    assert busy.gpu_memory_utilization == 0.50 and busy.memory["budgetBytes"] == int(total * 0.50)
    assert "limited by free memory" in busy.reasons[0]
    # no free-memory data: never "limited by free memory" (class 13), whatever the rounding
    for profile in PROFILES.values():
        for count in (1, 2, 3, 8):
            plan = plan_load(shape, gpus(profile.name, count))
            assert "free memory" not in plan.reasons[0] and plan.gpu_memory_utilization == 0.90
    capped = plan_load(shape, gpus("H100-80GB"), PlanOptions(max_model_len=8192))
    assert capped.context_length == 8192
    assert (
        plan_load(shape, gpus("H100-80GB"), PlanOptions(kv_cache_dtype="fp8")).memory["kvBytesPerToken"]
        == 65536
    )


def test_runtime_quantization_can_be_disabled_and_cpu_has_no_runtime_kernels() -> None:
    shape = model_shape("l", LLAMA31_8B, [llama_header(LLAMA31_8B)])
    off = plan_load(shape, gpus("T4"), PlanOptions(allow_runtime_quantization=False))
    assert off.quantization_reason == "cannot_fit"
    cpu = Inventory("cpu", (Gpu("cpu", 12 * GIB, None, device_name="cpu"),))
    plan = plan_load(shape, cpu)
    assert plan.quantization_reason == "cannot_fit" and "fp8: no CPU kernel" in plan.reasons[-1]
    fits = plan_load(shape, Inventory("cpu", (Gpu("cpu", 64 * GIB, None, device_name="cpu"),)))
    assert fits.quantization_reason == "native_fits" and fits.max_sequences == 128


def test_exl2_is_not_planned_for_vllm() -> None:
    cfg = {**LLAMA31_8B, "quantization_config": {"quant_method": "exl2", "bits": 4.25}}
    plan = plan_load(model_shape("e", cfg, [llama_header(LLAMA31_8B)]), gpus("H100-80GB"))
    assert (
        plan.quantization_reason == "cannot_fit" and "exl2 has no kernel in upstream vLLM" in plan.reasons[-1]
    )


def test_inventories_with_equal_plan_keys_get_equal_plans() -> None:
    shape = model_shape("l", LLAMA31_8B, [llama_header(LLAMA31_8B)])
    p = get_profile("H100-80GB")
    opts = PlanOptions()
    # free memory above the 90 % budget (71.68 GiB) does not change the plan; below it, it does
    a, b, c = (Inventory("cuda", (Gpu(p.name, p.memory_bytes, 9.0, f * GIB),)) for f in (79, 75, 50))
    assert plan_key(a, opts) == plan_key(b, opts) != plan_key(c, opts)
    assert plan_load(shape, a).to_json() == plan_load(shape, b).to_json() != plan_load(shape, c).to_json()


def test_the_gpu_probe_plans_on_the_inventory_it_discovers() -> None:
    from benchmarks.gpu_probe import example_plan

    found = example_plan(gpus("H200"))  # what discovery returns on the H200 the probe is run on
    assert found["plan"]["maxSequences"] == 1024 and found["plan"]["contextLength"] == 131072
    assert "--max-num-seqs 1024" in found["vllm"] and "--max-model-len 131072" in found["vllm"]
