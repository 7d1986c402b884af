"""Plans of real public checkpoints on the GPU profiles, as docs/load-plans.md shows them.

    .venv/bin/python scripts/plan_examples.py > /tmp/plans.md

Full-shape headers are built from each model's config.json (``tests/support``: the Hub repository
of each config is cited there); no weights are needed to plan.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support import model_shapes as ms
from support import public_configs as pc
from support.sparse import decoder_tensors
from xerotier.agent.engine_command import render_vllm
from xerotier.domain.inventory import Gpu, Inventory
from xerotier.loading.gpu_profiles import get_profile
from xerotier.loading.model_shape import model_shape
from xerotier.loading.planner import GIB, plan_load

AWQ = {**ms.LLAMA31_8B, "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}}
L8, L70, MIX = (ms.llama_header(c) for c in (ms.LLAMA31_8B, ms.LLAMA31_70B, ms.MIXTRAL_8X7B))
MISTRAL = pc.as_header(decoder_tensors(**pc.MISTRAL_7B_V03_DIMS))
QWEN3B = pc.as_header(decoder_tensors(**pc.QWEN25_3B_DIMS))
AWQ_H = ms.llama_header(ms.LLAMA31_8B, quant="awq")
G27 = pc.as_header(pc.gemma3_27b_text_tensors())
Q30, Q32 = pc.as_header(pc.qwen3_moe_fp8_tensors()), pc.as_header(pc.qwen3_dense_fp8_tensors())
EXAMPLES = [
    ("meta-llama/Llama-3.1-8B-Instruct", ms.LLAMA31_8B, L8, "L4", 1),
    ("meta-llama/Llama-3.1-8B-Instruct", ms.LLAMA31_8B, L8, "H100-80GB", 1),
    ("meta-llama/Llama-3.1-8B-Instruct", ms.LLAMA31_8B, L8, "T4", 1),
    ("hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", AWQ, AWQ_H, "T4", 1),
    ("meta-llama/Llama-3.1-70B-Instruct", ms.LLAMA31_70B, L70, "H100-80GB", 2),
    ("meta-llama/Llama-3.1-70B-Instruct", ms.LLAMA31_70B, L70, "A100-80GB", 1),
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", ms.MIXTRAL_8X7B, MIX, "A100-80GB", 1),
    ("mistralai/Mistral-7B-Instruct-v0.3", pc.MISTRAL_7B_V03, MISTRAL, "A10G", 1),
    ("openai/gpt-oss-20b", ms.GPT_OSS_20B, ms.gpt_oss_header(), "L4", 1),
    ("unsloth/gpt-oss-20b-BF16", pc.GPT_OSS_20B_BF16, pc.as_header(pc.gpt_oss_bf16_tensors()), "L40S", 1),
    ("google/gemma-3-1b-it", pc.GEMMA3_1B, pc.as_header(pc.gemma3_1b_tensors()), "T4", 1),
    ("google/gemma-3-27b-it (text tower)", pc.GEMMA3_27B, G27, "H100-80GB", 1),
    ("tiiuae/falcon-7b", pc.FALCON_7B, pc.as_header(pc.falcon_7b_tensors()), "A10G", 1),
    ("CohereForAI/c4ai-command-r-v01", pc.COMMAND_R, pc.as_header(pc.command_r_tensors()), "H100-80GB", 2),
    ("Qwen/Qwen2.5-3B-Instruct", pc.QWEN25_3B, QWEN3B, "T4", 4),
    ("Qwen/Qwen3-30B-A3B-FP8", pc.QWEN3_30B_A3B_FP8, Q30, "L4", 4),
    ("Qwen/Qwen3-30B-A3B-FP8", pc.QWEN3_30B_A3B_FP8, Q30, "H200", 2),
    ("Qwen/Qwen3-32B-FP8", pc.QWEN3_32B_FP8, Q32, "L4", 16),
    ("deepseek-ai/DeepSeek-V3", ms.DEEPSEEK_V3, ms.deepseek_v3_header(), "H200", 8),
]  # fmt: skip


def inventory(profile: str, count: int) -> Inventory:
    p = get_profile(profile)
    return Inventory(
        "cuda", (Gpu(p.name, p.memory_bytes, p.compute_capability, device_name=p.device_name),) * count
    )


HEAD = "| checkpoint | GPUs | decision | TP | context | --max-num-seqs | full-length seqs | weights | KV |"


def main() -> None:
    print(HEAD)
    print("|---|---|---|---|---|---|---|---|---|")
    commands = []
    for repo, config, header, profile, count in EXAMPLES:
        plan = plan_load(model_shape(repo, config, [header]), inventory(profile, count))
        mem = plan.memory
        how = f" ({plan.applied_quantization})" if plan.applied_quantization else ""
        tp = f"{plan.tensor_parallel_size}" + (" + EP" if plan.expert_parallel else "")
        cells = [
            repo,
            f"{count}× {profile}",
            plan.quantization_reason + how,
            tp,
            f"{plan.context_length:,}",
            str(plan.max_sequences),
            f"{plan.full_length_sequences:,}",
            f"{mem['weightsBytes'] / GIB:.2f} GiB",
            f"{mem['kvCacheBytes'] / GIB:.2f} GiB",
        ]
        print("| " + " | ".join(cells) + " |")
        name = repo.split("/")[-1].split(" ")[0]
        argv, _ = render_vllm("vllm", plan.to_json(), Path(f"/models/{name}"), name, 8000)
        commands.append((f"{repo} on {count}× {profile}", " ".join(argv)))
    print()
    for title, command in commands:
        print(f"* {title}:\n  `{command}`")


if __name__ == "__main__":
    main()
