"""Run on a GPU machine: what ``xerotier agent`` discovers through NVML, and the profile line each
card should have in ``services/xerotier/loading/gpu_profiles.py``.

    python -m benchmarks.gpu_probe            # table + GpuProfile lines
    python -m benchmarks.gpu_probe --json     # the same as JSON (to keep with the figures)

Prints, per GPU: NVML's total and free memory (MiB and GiB), compute capability, the device name
vLLM keys its tuned MoE files by, and — when PyTorch with CUDA is installed — ``cudaMemGetInfo``'s
total (what vLLM multiplies by ``--gpu-memory-utilization``), so the gap the planner reserves
(``DRIVER_GAP_BYTES``) can be checked. Then the plan of a Llama 3.1 8B shape on the discovered
inventory and the vLLM command line it renders. Without NVML (no driver, no GPU) it says so and
exits with status 2; nothing here needs a GPU to import.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from xerotier.agent import nvml
from xerotier.agent.engine_command import render_vllm
from xerotier.loading.gpu_profiles import PROFILES
from xerotier.loading.model_shape import model_shape
from xerotier.loading.planner import DRIVER_GAP_BYTES, plan_load

MIB, GIB = 1 << 20, 1 << 30


def cuda_totals() -> list[int] | None:
    """``torch.cuda.mem_get_info()`` totals per device, or None without a CUDA PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    return [int(torch.cuda.mem_get_info(i)[1]) for i in range(torch.cuda.device_count())]


def probe() -> dict[str, Any]:
    inventory = nvml.discover()
    cuda = cuda_totals()
    rows = []
    for index, gpu in enumerate(inventory.gpus):
        known = next((p for p in PROFILES.values() if p.device_name == gpu.device_name), None)
        row = {
            "index": index,
            "name": gpu.name,
            "deviceName": gpu.device_name,
            "computeCapability": gpu.compute_capability,
            "nvmlTotalMiB": gpu.memory_bytes // MIB,
            "nvmlTotalGiB": round(gpu.memory_bytes / GIB, 2),
            "nvmlFreeMiB": (gpu.free_bytes or 0) // MIB,
            "driverVersion": gpu.driver_version,
            "migMode": gpu.mig_mode,
            "profile": known.name if known else None,
            "profileMiB": known.memory_bytes // MIB if known else None,
        }
        if cuda is not None and index < len(cuda):
            row["cudaTotalMiB"] = cuda[index] // MIB
            row["nvmlMinusCudaMiB"] = (gpu.memory_bytes - cuda[index]) // MIB
            row["reservedGapMiB"] = DRIVER_GAP_BYTES // MIB
        rows.append(row)
    return {"gpus": rows, "inventory": inventory.to_json(), "plan": example_plan(inventory)}


def example_plan(inventory: Any) -> dict[str, Any]:
    """Llama 3.1 8B (config and header shapes, no weights) planned on the discovered inventory."""
    from benchmarks.bench_loading import LLAMA_8B, llama_header

    shape = model_shape("llama-3.1-8b", LLAMA_8B, [llama_header(LLAMA_8B)])
    plan = plan_load(shape, inventory).to_json()
    argv, _ = render_vllm("vllm", plan, Path("/models/llama-3.1-8b"), "llama", 8000)
    return {"plan": plan, "vllm": " ".join(argv)}


def main() -> int:
    try:
        found = probe()
    except nvml.NvmlUnavailable as exc:
        print(
            f"NVML unavailable ({exc}): run this on a machine with an NVIDIA GPU and driver", file=sys.stderr
        )
        return 2
    if "--json" in sys.argv:
        print(json.dumps(found, indent=2))
        return 0
    for row in found["gpus"]:
        cuda = (
            f", CUDA total {row['cudaTotalMiB']:,} MiB (gap {row['nvmlMinusCudaMiB']} MiB)"
            if "cudaTotalMiB" in row
            else ""
        )
        print(
            f"GPU {row['index']}: {row['name']} cc {row['computeCapability']}: NVML total "
            f"{row['nvmlTotalMiB']:,} MiB ({row['nvmlTotalGiB']} GiB), "
            f"free {row['nvmlFreeMiB']:,} MiB{cuda}; "
            f"profile {row['profile'] or '-'} has {row['profileMiB'] or '-'} MiB"
        )
        print(
            f'    GpuProfile("{row["profile"] or row["name"]}", {row["nvmlTotalMiB"]:_} * MIB, '
            f'{row["computeCapability"]}, "{row["deviceName"]}")'
        )
    plan = found["plan"]["plan"]
    print(
        f"Llama 3.1 8B here: {plan['quantizationReason']}, context {plan['contextLength']:,}, "
        f"max sequences {plan['maxSequences']}, TP {plan['tensorParallelSize']}"
    )
    print(f"    {found['plan']['vllm']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
